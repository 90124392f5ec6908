#include "fedswarm/storage/DrsScanner.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

#include "fedswarm/protocol/Limits.hpp"
#include "fedswarm/protocol/PathRules.hpp"

namespace fs = std::filesystem;

namespace fedswarm {

namespace {

// Bounds the walk above version directories: real DRS trees are ~10 levels deep;
// anything much deeper is a loop through bind mounts or a wrong path.
constexpr std::size_t kMaxTreeDepth = 64;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// fedswarm's own working areas and transfer leftovers, never data to publish.
bool skipped_dir_name(std::string_view name) { return name == ".staging" || name == ".quarantine"; }
bool skipped_file_name(std::string_view name) { return ends_with(name, ".part") || ends_with(name, ".tmp"); }

bool inside(const fs::path& target, const fs::path& root) {
  auto rel = target.lexically_relative(root);
  if (rel.empty()) return false;
  auto first = rel.begin()->native();
  return first != ".." && first != "/";
}

std::string expected_layout(const ProjectTemplate& t) {
  std::string s;
  for (const auto& f : t.id_facets()) s += "<" + f + ">/";
  return s + "<version>";
}

// Directory entries sorted by name, so output never depends on readdir order.
Result<std::vector<fs::directory_entry>> sorted_entries(const fs::path& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec)
    return make_error(Errc::io, "unreadable_file",
                      dir.string() + ": cannot list directory: " + ec.message() +
                          "; make it readable by the user running fedswarm");
  std::vector<fs::directory_entry> out;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    out.push_back(*it);
  }
  if (ec)
    return make_error(Errc::io, "unreadable_file", dir.string() + ": error while listing directory: " + ec.message());
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.path().filename().native() < b.path().filename().native(); });
  return out;
}

class Walk {
 public:
  Walk(const ProjectRegistry& projects, ScanReport& report) : projects_(projects), report_(report) {}

  void start(const fs::path& given) {
    std::error_code ec;
    fs::path p = fs::canonical(given, ec);
    if (ec) {
      report_.errors.push_back(make_error(Errc::not_found, "no_such_path",
                                          given.string() + ": " + ec.message() + "; name an existing DRS root, subtree or version directory"));
      return;
    }
    auto st = fs::status(p, ec);
    if (ec || !fs::is_directory(st)) {
      report_.errors.push_back(make_error(Errc::invalid, "not_a_drs_path",
                                          p.string() + " is not a directory; name a DRS root, a subtree or a version directory"));
      return;
    }
    if (looks_like_version(p.filename().native()))
      visit_version(p);
    else
      walk_tree(p, 0);
  }

 private:
  void walk_tree(const fs::path& dir, std::size_t depth) {
    auto entries = sorted_entries(dir);
    if (!entries) {
      report_.errors.push_back(std::move(entries).error());
      return;
    }
    for (const auto& e : *entries) {
      const std::string name = e.path().filename().native();
      if (skipped_dir_name(name)) continue;
      std::error_code ec;
      auto lst = e.symlink_status(ec);
      if (ec) continue;
      if (fs::is_symlink(lst)) {
        // ESGF trees carry a `latest -> vYYYYMMDD` link per dataset: not worth a warning.
        if (name != "latest" && fs::is_directory(fs::status(e.path(), ec)))
          report_.warnings.push_back(e.path().string() + ": symlinked directory not descended");
        continue;
      }
      if (!fs::is_directory(lst)) continue;  // files above version directories are not data
      if (looks_like_version(name))
        visit_version(e.path());
      else if (depth < kMaxTreeDepth)
        walk_tree(e.path(), depth + 1);
      else
        report_.warnings.push_back(e.path().string() + ": deeper than " + std::to_string(kMaxTreeDepth) + " levels, not descended");
    }
  }

  // Finds the template that accepts the directory's last components.
  std::optional<std::pair<VersionDirectory, fs::path>> identify(const fs::path& dir) {
    std::vector<std::string> comps;
    for (const auto& c : dir.relative_path()) comps.push_back(c.native());
    std::vector<std::string> objections;
    std::optional<Error> claimed_error;
    for (const auto& name : projects_.names()) {
      const ProjectTemplate* t = projects_.find(name);
      if (!t) continue;
      std::size_t depth = t->version_directory_depth();
      std::string objection = "not a " + t->name() + " path (" + expected_layout(*t) + ")";
      // A misplaced project component usually means a missing or extra level.
      bool misplaced = false;
      for (std::size_t k = comps.size(); k-- > 0 && !misplaced;)
        if (iequals(comps[k], t->name()) && comps.size() - k != depth) {
          objection += ": " + std::to_string(comps.size() - k) + " levels from " + comps[k] +
                       " down to the version, the template has " + std::to_string(depth);
          misplaced = true;
        }
      if (depth == 0 || comps.size() < depth) {
        objections.push_back(std::move(objection));
        continue;
      }
      std::span<const std::string> tail(comps.data() + comps.size() - depth, depth);
      auto parsed = t->parse_version_directory(tail);
      if (parsed) {
        fs::path root = dir;
        for (std::size_t i = 0; i < depth; ++i) root = root.parent_path();
        return std::make_pair(std::move(*parsed), root);
      }
      // The component where the project name belongs names this template: the
      // directory is meant as one of its datasets, so its precise rule is the answer.
      if (!claimed_error && iequals(tail[0], t->name())) claimed_error = parsed.error();
      if (!misplaced) objection += ": " + parsed.error().message;
      objections.push_back(std::move(objection));
    }
    if (claimed_error) {
      report_.errors.push_back(claimed_error->with_context(dir.string()));
    } else {
      std::string msg = dir.string() + " is not a DRS version directory";
      for (const auto& o : objections) msg += "; " + o;
      msg += "; name directories by the project's DRS template";
      report_.errors.push_back(make_error(Errc::invalid, "not_a_drs_path", std::move(msg)));
    }
    return std::nullopt;
  }

  void visit_version(const fs::path& dir) {
    if (!visited_.insert(dir.native()).second) return;
    auto ident = identify(dir);
    if (!ident) return;
    ScannedVersion v;
    v.directory = dir;
    v.id = std::move(ident->first);
    v.drs_root = std::move(ident->second);
    std::size_t errors_before = report_.errors.size();
    list_files(v, dir, "", 0);
    if (report_.errors.size() != errors_before) return;
    if (v.files.empty()) {
      report_.errors.push_back(make_error(Errc::invalid, "empty_dataset",
                                          dir.string() + " contains no files; put the dataset's files in it or remove it"));
      return;
    }
    std::sort(v.files.begin(), v.files.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
    report_.versions.push_back(std::move(v));
  }

  void fail(Error e) { report_.errors.push_back(std::move(e)); }

  void list_files(ScannedVersion& v, const fs::path& dir, const std::string& rel_dir, std::size_t depth) {
    auto entries = sorted_entries(dir);
    if (!entries) return fail(std::move(entries).error());
    for (const auto& e : *entries) {
      const std::string name = e.path().filename().native();
      const std::string rel = rel_dir.empty() ? name : rel_dir + "/" + name;
      const fs::path& p = e.path();
      std::error_code ec;
      auto lst = e.symlink_status(ec);
      if (ec) {
        fail(make_error(Errc::io, "unreadable_file", p.string() + ": cannot stat: " + ec.message()));
        continue;
      }
      fs::file_status st = lst;
      if (fs::is_symlink(lst)) {
        fs::path target = fs::canonical(p, ec);
        if (ec) {
          fail(make_error(Errc::io, "unreadable_file",
                          p.string() + ": symlink cannot be resolved (" + ec.message() + "); fix or remove the link"));
          continue;
        }
        if (!inside(target, v.drs_root)) {
          fail(make_error(Errc::invalid, "symlink_escapes",
                          p.string() + ": symlink points to " + target.string() + ", outside the DRS root " +
                              v.drs_root.string() + "; copy the file into the tree or link within it"));
          continue;
        }
        st = fs::status(target, ec);
        if (!ec && fs::is_directory(st)) {
          report_.warnings.push_back(p.string() + ": symlinked directory not descended");
          continue;
        }
      }
      if (fs::is_directory(st)) {
        if (skipped_dir_name(name)) continue;
        if (depth >= limits::max_path_depth) {
          fail(make_error(Errc::invalid, "path_too_deep",
                          p.string() + ": more than " + std::to_string(limits::max_path_depth) +
                              " directory levels below the version directory; flatten the dataset"));
          continue;
        }
        list_files(v, p, rel, depth + 1);
        continue;
      }
      if (!fs::is_regular_file(st)) {
        fail(make_error(Errc::invalid, "not_regular_file",
                        p.string() + ": is a socket, FIFO or device, not a regular file; remove it from the version directory"));
        continue;
      }
      if (skipped_file_name(name)) continue;
      add_file(v, p, rel, name);
    }
  }

  void add_file(ScannedVersion& v, const fs::path& p, const std::string& rel, const std::string& name) {
    if (auto s = validate_relative_path(rel); !s) return fail(s.error().with_context(p.string()));
    if (auto s = projects_.find(v.id.dataset.project)->validate_filename(v.id.dataset, name); !s)
      return fail(s.error().with_context(p.string()));
    if (v.files.size() > limits::max_files) return;  // already reported
    if (v.files.size() == limits::max_files) {
      fail(make_error(Errc::invalid, "too_many_files",
                      v.directory.string() + ": more than " + std::to_string(limits::max_files) +
                          " files in one version; split the dataset"));
      v.files.push_back({});  // one placeholder marks the error as reported
      return;
    }
    std::error_code ec;
    std::uint64_t size = fs::file_size(p, ec);
    if (ec) return fail(make_error(Errc::io, "unreadable_file", p.string() + ": cannot stat: " + ec.message()));
    if (size > limits::max_file_size)
      return fail(make_error(Errc::invalid, "file_too_large", p.string() + ": larger than 16 TiB; split the file"));
    // Opening now reports an unreadable file before any hashing starts. O_NONBLOCK:
    // should the file have been swapped for a FIFO meanwhile, open must not hang.
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
      return fail(make_error(Errc::io, "unreadable_file",
                             p.string() + ": cannot open: " + std::strerror(errno) +
                                 "; make it readable by the user running fedswarm, or remove it"));
    ::close(fd);
    v.files.push_back(ScannedFile{rel, p, size});
  }

  const ProjectRegistry& projects_;
  ScanReport& report_;
  std::set<std::string> visited_;
};

}  // namespace

bool looks_like_version(std::string_view name) {
  if (name.size() != 9 || name[0] != 'v') return false;
  return std::all_of(name.begin() + 1, name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::uint64_t ScannedVersion::total_size() const {
  std::uint64_t total = 0;
  for (const auto& f : files) total += f.size;
  return total;
}

ScanReport DrsScanner::scan(std::span<const fs::path> paths) const {
  ScanReport report;
  Walk walk(projects_, report);
  for (const auto& p : paths) walk.start(p);
  std::sort(report.versions.begin(), report.versions.end(),
            [](const auto& a, const auto& b) { return a.directory.native() < b.directory.native(); });
  return report;
}

}  // namespace fedswarm
