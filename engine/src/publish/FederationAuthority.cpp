#include "fedswarm/engine/FederationAuthority.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "fedswarm/engine/NodeHome.hpp"
#include "fedswarm/protocol/Limits.hpp"
#include "fedswarm/protocol/PathRules.hpp"
#include "fedswarm/storage/AtomicFile.hpp"

namespace fedswarm {

FederationAuthority::FederationAuthority(FederationAuthority&&) noexcept = default;
FederationAuthority& FederationAuthority::operator=(FederationAuthority&&) noexcept = default;
FederationAuthority::~FederationAuthority() = default;

namespace {

Error bad_state(const std::filesystem::path& file, const std::string& what) {
  return make_error(Errc::invalid, "authority_state", file.string() + ": " + what);
}

toml::array to_array(const std::vector<std::string>& v) {
  toml::array a;
  for (const auto& s : v) a.push_back(s);
  return a;
}

Result<std::vector<std::string>> from_array(const toml::node_view<const toml::node>& n, const std::filesystem::path& file,
                                            const std::string& what) {
  std::vector<std::string> out;
  if (!n) return out;
  const toml::array* a = n.as_array();
  if (!a) return bad_state(file, what + " is not a list");
  for (const auto& item : *a) {
    auto s = item.value<std::string>();
    if (!s) return bad_state(file, what + " holds a non-string");
    out.push_back(*s);
  }
  return out;
}

}  // namespace

Result<FederationAuthority> FederationAuthority::init(const std::filesystem::path& dir, const std::string& name) {
  FEDSWARM_TRY(validate_text(name, 128, "federation name"));
  if (name.empty()) return make_error(Errc::invalid, "no_name", "a federation needs a name (--name)");
  std::error_code ec;
  if (std::filesystem::exists(dir / "authority.key", ec))
    return make_error(Errc::conflict, "authority_exists", dir.string() + " already holds a federation authority");
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(Errc::io, "io_error", "cannot create " + dir.string() + ": " + ec.message());
  FederationAuthority a;
  a.dir_ = std::filesystem::absolute(dir);
  a.name_ = name;
  a.key_ = std::make_unique<SigningKey>(SigningKey::generate());
  FEDSWARM_TRY(write_key_file(a.dir_ / "authority.key", *a.key_));
  FEDSWARM_TRY(a.save());
  return a;
}

Result<FederationAuthority> FederationAuthority::open(const std::filesystem::path& dir) {
  FederationAuthority a;
  a.dir_ = std::filesystem::absolute(dir);
  auto file = a.dir_ / "federation.toml";
  std::error_code ec;
  if (!std::filesystem::exists(file, ec))
    return make_error(Errc::not_found, "no_authority",
                      dir.string() + " is not a federation authority folder (create one with `fedswarm federation init --dir " +
                          dir.string() + " --name NAME`)");
  auto key = read_key_file(a.dir_ / "authority.key");
  if (!key) return std::move(key).error();
  a.key_ = std::make_unique<SigningKey>(std::move(*key));
  auto bytes = read_whole_file(file);
  if (!bytes) return std::move(bytes).error();
  toml::table t;
  try {
    t = toml::parse(std::string(bytes->begin(), bytes->end()), file.string());
  } catch (const toml::parse_error& e) {
    return bad_state(file, std::string(e.description()));
  }
  a.name_ = t["federation"]["name"].value_or(std::string());
  if (const toml::array* members = t["member"].as_array()) {
    for (const auto& node : *members) {
      const toml::table* m = node.as_table();
      if (!m) return bad_state(file, "[[member]] is not a table");
      RosterMember rm;
      auto key_hex = (*m)["key"].value<std::string>();
      auto k = key_hex ? fixed_from_hex<32>(*key_hex) : Result<PublicKey>(bad_state(file, "member without key"));
      if (!k) return bad_state(file, "member key is not 64 hex digits");
      rm.key = *k;
      rm.site = (*m)["site"].value_or(std::string());
      auto tier = tier_from_string((*m)["tier"].value_or(std::string("2")));
      if (!tier) return bad_state(file, "member " + rm.site + " has a bad tier");
      rm.tier = *tier;
      auto eps = from_array((*m)["endpoints"], file, "endpoints");
      if (!eps) return std::move(eps).error();
      rm.endpoints = *eps;
      rm.capacity = static_cast<std::uint64_t>((*m)["capacity"].value_or(std::int64_t{0}));
      rm.swarm_port = static_cast<std::uint16_t>((*m)["swarm_port"].value_or(std::int64_t{0}));
      rm.http_url = (*m)["http_url"].value_or(std::string());
      a.members_.push_back(std::move(rm));
    }
  }
  if (const toml::array* grants = t["grant"].as_array()) {
    for (const auto& node : *grants) {
      const toml::table* g = node.as_table();
      if (!g) return bad_state(file, "[[grant]] is not a table");
      PublisherGrant pg;
      auto key_hex = (*g)["key"].value<std::string>();
      auto k = key_hex ? fixed_from_hex<32>(*key_hex) : Result<PublicKey>(bad_state(file, "grant without key"));
      if (!k) return bad_state(file, "grant key is not 64 hex digits");
      pg.key = *k;
      auto ps = from_array((*g)["projects"], file, "projects");
      if (!ps) return std::move(ps).error();
      auto is = from_array((*g)["institutions"], file, "institutions");
      if (!is) return std::move(is).error();
      pg.projects = *ps;
      pg.institutions = *is;
      a.grants_.push_back(std::move(pg));
    }
  }
  // The log is the source of truth for the counters: a record written just before a
  // crash still counts, so its seq is never reused.
  auto records = a.log();
  if (!records) return std::move(records).error();
  for (const auto& env : *records) {
    if (env.seq != a.seq_ + 1 || env.author != a.public_key())
      return bad_state(a.dir_ / "log", "record " + std::to_string(env.seq) + " breaks the log's sequence or author; restore the folder from backup");
    a.seq_ = env.seq;
    if (env.kind == RecordKind::roster)
      if (auto r = Roster::decode(env.body)) a.serial_ = std::max(a.serial_, r->serial);
  }
  return a;
}

Result<std::vector<Envelope>> FederationAuthority::log() const {
  std::vector<Envelope> out;
  std::error_code ec;
  auto dir = dir_ / "log";
  if (!std::filesystem::exists(dir, ec)) return out;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.path().extension() == ".rec") files.push_back(entry.path());
  if (ec) return make_error(Errc::io, "io_error", "cannot list " + dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());  // zero-padded names sort by seq
  for (const auto& f : files) {
    auto bytes = read_whole_file(f);
    if (!bytes) return std::move(bytes).error();
    auto env = Envelope::decode(*bytes);
    if (!env) return env.error().with_context(f.string());
    out.push_back(std::move(*env));
  }
  return out;
}

Status FederationAuthority::save() const {
  toml::table root;
  root.insert("federation", toml::table{{"name", name_}, {"authority_key", to_hex(key_->public_key())}});
  toml::array members;
  for (const auto& m : members_) {
    std::string tier = m.tier == Tier::tier1 ? "1" : m.tier == Tier::tier2 ? "2" : "dark";
    members.push_back(toml::table{{"site", m.site},
                                  {"key", to_hex(m.key)},
                                  {"tier", tier},
                                  {"endpoints", to_array(m.endpoints)},
                                  {"capacity", static_cast<std::int64_t>(m.capacity)},
                                  {"swarm_port", static_cast<std::int64_t>(m.swarm_port)},
                                  {"http_url", m.http_url}});
  }
  root.insert("member", std::move(members));
  toml::array grants;
  for (const auto& g : grants_)
    grants.push_back(toml::table{{"key", to_hex(g.key)},
                                 {"projects", to_array(g.projects)},
                                 {"institutions", to_array(g.institutions)}});
  root.insert("grant", std::move(grants));
  std::ostringstream o;
  o << "# fedswarm federation authority state. Edit with `fedswarm federation …` commands.\n" << root << "\n";
  return write_file_atomic(dir_ / "federation.toml", o.str());
}

Status FederationAuthority::add_member(const RosterMember& member) {
  FEDSWARM_TRY(validate_text(member.site, limits::max_short_text_bytes, "site name"));
  if (member.site.empty()) return make_error(Errc::invalid, "no_site", "a member needs a site name");
  FEDSWARM_TRY(validate_text(member.http_url, limits::max_short_text_bytes, "HTTP URL"));
  if (!member.http_url.empty() && member.http_url.rfind("https://", 0) != 0 && member.http_url.rfind("http://", 0) != 0)
    return make_error(Errc::invalid, "bad_http_url", "the HTTP URL must start with https:// or http://");
  if (member.endpoints.size() > limits::max_endpoints)
    return make_error(Errc::invalid, "too_many_endpoints", "at most " + std::to_string(limits::max_endpoints) + " endpoints");
  for (const auto& m : members_)
    if (m.key == member.key && m.site != member.site)
      return make_error(Errc::conflict, "key_in_use", "key " + short_key(member.key) + " already belongs to site " + m.site);
  auto it = std::find_if(members_.begin(), members_.end(), [&](const RosterMember& m) { return m.site == member.site; });
  if (it != members_.end()) *it = member;
  else members_.push_back(member);
  return save();
}

Status FederationAuthority::remove_member(std::string_view site) {
  auto it = std::find_if(members_.begin(), members_.end(), [&](const RosterMember& m) { return m.site == site; });
  if (it == members_.end()) return make_error(Errc::not_found, "no_member", "no member with site " + std::string(site));
  members_.erase(it);
  return save();
}

Status FederationAuthority::grant(const PublicKey& key, const std::vector<std::string>& projects,
                                  const std::vector<std::string>& institutions) {
  if (projects.empty()) return make_error(Errc::invalid, "no_project", "a grant names at least one project (--project)");
  for (const auto& p : projects) FEDSWARM_TRY(validate_text(p, limits::max_facet_text_bytes, "project"));
  for (const auto& i : institutions) FEDSWARM_TRY(validate_text(i, limits::max_facet_text_bytes, "institution"));
  auto it = std::find_if(grants_.begin(), grants_.end(), [&](const PublisherGrant& g) { return g.key == key; });
  if (it == grants_.end()) {
    grants_.push_back(PublisherGrant{key, {}, {}});
    it = grants_.end() - 1;
  }
  auto merge = [](std::vector<std::string>& into, const std::vector<std::string>& add) {
    for (const auto& s : add)
      if (std::find(into.begin(), into.end(), s) == into.end()) into.push_back(s);
    std::sort(into.begin(), into.end());
  };
  merge(it->projects, projects);
  merge(it->institutions, institutions);
  return save();
}

Status FederationAuthority::revoke(const PublicKey& key) {
  auto it = std::find_if(grants_.begin(), grants_.end(), [&](const PublisherGrant& g) { return g.key == key; });
  if (it == grants_.end()) return make_error(Errc::not_found, "no_grant", "no grant for key " + short_key(key));
  grants_.erase(it);
  return save();
}

Result<Envelope> FederationAuthority::sign_next(RecordKind kind, Bytes body) {
  auto env = Envelope::sign(*key_, seq_ + 1, kind, std::move(body));
  std::error_code ec;
  std::filesystem::create_directories(dir_ / "log", ec);
  if (ec) return make_error(Errc::io, "io_error", "cannot create " + (dir_ / "log").string() + ": " + ec.message());
  char name[32];
  std::snprintf(name, sizeof name, "%012llu.rec", static_cast<unsigned long long>(env.seq));
  FEDSWARM_TRY(write_file_atomic(dir_ / "log" / name, env.encode()));
  seq_ = env.seq;
  return env;
}

Result<Envelope> FederationAuthority::issue_roster(std::int64_t now, std::int64_t valid_seconds) {
  if (valid_seconds <= 0) return make_error(Errc::invalid, "roster_bad_expiry", "a roster must be valid for a positive time");
  Roster r;
  r.federation = name_;
  r.serial = serial_ + 1;
  r.issued_at = now;
  r.expires_at = now + valid_seconds;
  r.members = members_;
  r.grants = grants_;
  auto env = sign_next(RecordKind::roster, r.encode());
  if (env) serial_ = r.serial;
  return env;
}

Result<Envelope> FederationAuthority::sign_retraction(const Retraction& retraction) {
  if (serial_ == 0)
    return make_error(Errc::invalid, "no_roster", "issue a roster (`fedswarm federation roster`) before signing retractions");
  return sign_next(RecordKind::retraction, retraction.encode());
}

}  // namespace fedswarm
