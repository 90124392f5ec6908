#include "fedswarm/engine/SubscriptionStore.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <set>
#include <sstream>
#include <utility>

#include "fedswarm/storage/AtomicFile.hpp"

namespace fedswarm {

namespace fs = std::filesystem;

namespace {

const std::set<std::string, std::less<>> kKeys = {"name", "facets", "quota", "priority"};

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// "10 GiB" for the comment beside a quota.
std::string human(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 6) {
    v /= 1024;
    ++u;
  }
  std::ostringstream o;
  o.precision(v < 10 && u > 0 ? 2 : 0);
  o << std::fixed << v << " " << units[u];
  return o.str();
}

std::string where(const fs::path& file, const toml::source_region& r) {
  return file.string() + ":" + std::to_string(r.begin.line);
}

Error bad(const std::string& reason, const std::string& at, const std::string& what) {
  return make_error(Errc::invalid, reason, at + ": " + what);
}

// One [[subscription]] table into a Subscription (not yet checked against projects).
Result<Subscription> read_one(const toml::table& t, const fs::path& file) {
  const std::string at = where(file, t.source());
  for (const auto& [key, value] : t) {
    (void)value;
    if (!kKeys.count(key.str()))
      return bad("subscriptions_unknown_key", at,
                 "unknown key \"" + std::string(key.str()) + "\" in a [[subscription]] (known: name, facets, quota, priority)");
  }
  Subscription s;
  auto name = t["name"].value<std::string>();
  if (!name) return bad("subscriptions_bad_value", at, "each [[subscription]] needs name = \"…\"");
  s.name = *name;
  const std::string label = at + ": subscription \"" + s.name + "\"";
  if (auto st = validate_subscription_name(s.name); !st) return st.error().with_context(label);

  const toml::table* facets = t["facets"].as_table();
  if (!facets)
    return bad("subscriptions_bad_value", label,
               "facets must be a table of facet = [\"value\", …], e.g. facets = { experiment_id = [\"historical\"] }");
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& [facet, node] : *facets) {
    std::string f(facet.str());
    if (auto one = node.value<std::string>()) {
      pairs.emplace_back(f, *one);
    } else if (const toml::array* arr = node.as_array()) {
      for (const auto& item : *arr) {
        auto v = item.value<std::string>();
        if (!v) return bad("subscriptions_bad_value", label, "facets." + f + " must be a string or a list of strings");
        pairs.emplace_back(f, *v);
      }
    } else {
      return bad("subscriptions_bad_value", label, "facets." + f + " must be a string or a list of strings");
    }
  }
  auto constraints = constraints_from_pairs(pairs);
  if (!constraints) return constraints.error().with_context(label);
  s.constraints = std::move(*constraints);

  if (auto node = t["quota"]) {
    auto q = node.value<std::int64_t>();
    if (!q || *q < 0 || !node.is_integer())
      return bad("subscriptions_bad_value", label, "quota must be a number of bytes (an integer >= 0), or absent for no limit");
    s.quota = static_cast<std::uint64_t>(*q);
  }
  if (auto node = t["priority"]) {
    auto p = node.value<std::int64_t>();
    if (!p || !node.is_integer()) return bad("subscriptions_bad_value", label, "priority must be an integer (higher first)");
    s.priority = *p;
  }
  return s;
}

// Holds an exclusive flock on a lock file for its lifetime.
class FileLock {
 public:
  static Result<FileLock> take(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
      return make_error(Errc::io, "subscriptions_lock",
                        "cannot open " + path.string() + ": " + std::strerror(errno) + "; check the home's permissions");
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return make_error(Errc::io, "subscriptions_lock", "cannot lock " + path.string() + ": " + std::strerror(e));
    }
    return FileLock(fd);
  }
  FileLock(FileLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace

Result<SubscriptionStore> SubscriptionStore::load(const fs::path& home, const ProjectRegistry& projects) {
  SubscriptionStore store(home, projects);
  const fs::path file = file_of(home);
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    if (!fs::is_directory(home, ec))
      return make_error(Errc::not_found, "no_home", home.string() + " is not a fedswarm home (create one with `fedswarm init`)");
    return store;
  }
  FEDSWARM_ASSIGN_OR_RETURN(Bytes raw, read_whole_file(file));
  toml::table root;
  try {
    root = toml::parse(std::string_view(as_chars(raw)), file.string());
  } catch (const toml::parse_error& e) {
    return make_error(Errc::invalid, "subscriptions_syntax",
                      file.string() + ":" + std::to_string(e.source().begin.line) + ":" +
                          std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
  }
  for (const auto& [key, node] : root) {
    if (key.str() != "subscription" || !node.is_array_of_tables())
      return bad("subscriptions_unknown_key", where(file, node.source()),
                 "unknown setting \"" + std::string(key.str()) + "\"; the file holds only [[subscription]] tables");
  }
  if (const toml::array* arr = root["subscription"].as_array()) {
    for (const auto& item : *arr) {
      FEDSWARM_ASSIGN_OR_RETURN(Subscription s, read_one(*item.as_table(), file));
      const std::string label = where(file, item.source()) + ": subscription \"" + s.name + "\"";
      if (store.find(s.name))
        return make_error(Errc::invalid, "subscription_duplicate", label + ": the name is used twice; names must be unique");
      if (auto st = store.check(s); !st) return st.error().with_context(label);
      store.subs_.push_back(std::move(s));
    }
  }
  return store;
}

Result<SubscriptionStore> SubscriptionStore::modify(const fs::path& home, const ProjectRegistry& projects,
                                                    const std::function<Status(SubscriptionStore&)>& change) {
  FEDSWARM_ASSIGN_OR_RETURN(FileLock lock, FileLock::take(home / ".subscriptions.lock"));
  FEDSWARM_ASSIGN_OR_RETURN(SubscriptionStore store, load(home, projects));
  FEDSWARM_TRY(change(store));
  FEDSWARM_TRY(store.save());
  return store;
}

const Subscription* SubscriptionStore::find(std::string_view name) const {
  for (const auto& s : subs_)
    if (s.name == name) return &s;
  return nullptr;
}

Status SubscriptionStore::check(const Subscription& s) const {
  FEDSWARM_TRY(validate_subscription_name(s.name));
  if (s.constraints.empty())
    return make_error(Errc::invalid, "subscription_empty", "a subscription needs at least one facet=value pair");
  return check_facets(s.constraints, *projects_);
}

Result<Subscription> SubscriptionStore::add(Subscription s) {
  if (s.name.empty()) {
    std::vector<std::string> taken;
    for (const auto& x : subs_) taken.push_back(x.name);
    s.name = default_subscription_name(s.constraints, taken);
  }
  FEDSWARM_TRY(check(s));
  if (find(s.name))
    return make_error(Errc::conflict, "subscription_duplicate",
                      "a subscription named \"" + s.name + "\" exists already; choose another --name or remove it first");
  subs_.push_back(s);
  return s;
}

Status SubscriptionStore::remove(std::string_view name) {
  auto it = std::find_if(subs_.begin(), subs_.end(), [&](const Subscription& s) { return s.name == name; });
  if (it == subs_.end()) {
    std::string names;
    for (const auto& s : subs_) names += (names.empty() ? "" : ", ") + s.name;
    return make_error(Errc::not_found, "subscription_unknown",
                      "no subscription named \"" + std::string(name) + "\"" +
                          (names.empty() ? std::string(" (there are none)") : "; subscriptions: " + names));
  }
  subs_.erase(it);
  return {};
}

std::string SubscriptionStore::render() const {
  std::ostringstream o;
  o << "# fedswarm subscriptions: the dataset versions this node fetches and keeps up to date.\n"
       "# Managed by `fedswarm subscribe add|remove`; hand edits are fine (unknown keys are refused).\n"
       "# facets: AND across facets, OR within a list; only the latest unretracted version of\n"
       "# each matching dataset is fetched. quota: bytes (absent = no limit). priority: higher\n"
       "# first; ties by name.\n";
  for (const auto& s : subs_) {
    o << "\n[[subscription]]\nname = " << quote(s.name) << "\nfacets = { ";
    for (std::size_t i = 0; i < s.constraints.size(); ++i) {
      const auto& c = s.constraints[i];
      o << (i ? ", " : "") << c.facet << " = [";
      for (std::size_t j = 0; j < c.values.size(); ++j) o << (j ? ", " : "") << quote(c.values[j]);
      o << "]";
    }
    o << " }\n";
    if (s.quota) o << "quota = " << *s.quota << "  # " << human(*s.quota) << "\n";
    o << "priority = " << s.priority << "\n";
  }
  return o.str();
}

Status SubscriptionStore::save() const {
  // Quotas beyond int64 cannot be written as TOML integers.
  for (const auto& s : subs_)
    if (s.quota && *s.quota > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return make_error(Errc::invalid, "subscriptions_bad_value", "subscription \"" + s.name + "\": quota too large");
  return write_file_atomic(file_of(home_), render(), 0644);
}

}  // namespace fedswarm
