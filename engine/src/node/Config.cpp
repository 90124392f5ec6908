#include "fedswarm/engine/Config.hpp"

#include <toml++/toml.h>

#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <utility>

namespace fedswarm {

std::string_view to_string(RetractionAction a) {
  switch (a) {
    case RetractionAction::keep: return "keep";
    case RetractionAction::quarantine: return "quarantine";
    case RetractionAction::remove: return "delete";
  }
  return "keep";
}

std::string HttpConfig::url() const {
  if (!public_url.empty()) return public_url;
  return (tls ? "https://" : "http://") + listen;
}

Config Config::defaults(std::string site, Tier tier) {
  Config c;
  c.site = std::move(site);
  c.tier = tier;
  c.data_root = "data";
  return c;
}

namespace {

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string tier_value(Tier t) {
  switch (t) {
    case Tier::tier1: return "1";
    case Tier::tier2: return "2";
    case Tier::dark: return "dark";
  }
  return "2";
}

Error bad_value(const std::filesystem::path& file, std::string_view key, std::string_view expected) {
  return make_error(Errc::invalid, "config_bad_value",
                    file.string() + ": setting " + std::string(key) + " must be " + std::string(expected));
}

// Refuses keys the program does not know, so a typo cannot silently fall back to a default.
Status check_known(const toml::table& root, const std::filesystem::path& file) {
  static const std::map<std::string, std::set<std::string>> known = {
      {"node", {"site", "tier", "data_root", "capacity"}},
      {"federation", {"authority_key"}},
      {"network", {"listen", "swarm_port"}},
      {"gossip", {"interval_ms", "fanout", "batch_bytes", "suspect_after_ms", "down_after_ms", "handshake_timeout_ms",
                  "backoff_max_ms", "verify_threads"}},
      {"swarm", {"upload_rate_limit", "download_rate_limit", "peers", "foreign_upload_rate_limit", "seed_idle_s",
                 "max_active_torrents"}},
      {"policy", {"grace_seconds", "max_claim_seconds", "retry_after_seconds", "superseded_needs_copy",
                  "claim_base_seconds", "deadline_slack", "min_rate", "surplus_settle_seconds", "evaluate_interval_ms"}},
      {"retraction", {"action"}},
      {"projects", {"cv_dir", "templates"}},
      {"http", {"enabled", "listen", "tls", "certificate", "private_key", "public_url", "threads", "max_connections",
                "max_target_bytes", "max_header_bytes", "tls_handshake_timeout_ms", "header_timeout_ms", "idle_timeout_ms",
                "serve_retracted"}},
      {"metrics", {"listen"}},
  };
  for (const auto& [section, node] : root) {
    auto it = known.find(std::string(section.str()));
    if (it == known.end() || !node.is_table())
      return make_error(Errc::invalid, "config_unknown_key",
                        file.string() + ": unknown section [" + std::string(section.str()) + "]");
    for (const auto& [key, value] : *node.as_table()) {
      (void)value;
      if (!it->second.count(std::string(key.str())))
        return make_error(Errc::invalid, "config_unknown_key",
                          file.string() + ": unknown setting " + std::string(section.str()) + "." + std::string(key.str()));
    }
  }
  return {};
}

template <class T>
Status read_uint(const toml::table& root, const std::filesystem::path& file, const char* section, const char* key,
                 T& out, std::uint64_t min = 0) {
  auto node = root[section][key];
  if (!node) return {};
  auto v = node.value<std::int64_t>();
  if (!v || *v < 0 || static_cast<std::uint64_t>(*v) < min ||
      static_cast<std::uint64_t>(*v) > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
    return bad_value(file, std::string(section) + "." + key,
                     "an integer between " + std::to_string(min) + " and " + std::to_string(std::numeric_limits<T>::max()));
  out = static_cast<T>(*v);
  return {};
}

Status read_string(const toml::table& root, const std::filesystem::path& file, const char* section, const char* key,
                   std::string& out) {
  auto node = root[section][key];
  if (!node) return {};
  auto v = node.value<std::string>();
  if (!v) return bad_value(file, std::string(section) + "." + key, "a string");
  out = *v;
  return {};
}

Status read_bool(const toml::table& root, const std::filesystem::path& file, const char* section, const char* key,
                 bool& out) {
  auto node = root[section][key];
  if (!node) return {};
  auto v = node.value<bool>();
  if (!v || !node.is_boolean()) return bad_value(file, std::string(section) + "." + key, "true or false");
  out = *v;
  return {};
}

// A finite number in [min, max]; integers are accepted (toml++ converts them).
Status read_number(const toml::table& root, const std::filesystem::path& file, const char* section, const char* key,
                   double& out, double min, double max, std::string_view expected) {
  auto node = root[section][key];
  if (!node) return {};
  auto v = node.is_number() ? node.value<double>() : std::nullopt;
  if (!v || !std::isfinite(*v) || *v < min || *v > max) return bad_value(file, std::string(section) + "." + key, expected);
  out = *v;
  return {};
}

// A double as a TOML float that reads back as the same setting ("2.0", "10000000.0").
std::string toml_float(double v) {
  std::ostringstream o;
  o << std::setprecision(15) << v;
  std::string s = o.str();
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::filesystem::path resolve(const std::filesystem::path& home, const std::string& p) {
  if (p.empty()) return {};
  std::filesystem::path path(p);
  return path.is_absolute() ? path : home / path;
}

}  // namespace

Result<Config> Config::load(const std::filesystem::path& file, const std::filesystem::path& home) {
  std::ifstream in(file);
  if (!in)
    return make_error(Errc::io, "config_unreadable",
                      "cannot read " + file.string() + "; is this a fedswarm home? (create one with `fedswarm init`)");
  std::stringstream text;
  text << in.rdbuf();
  toml::table root;
  try {
    root = toml::parse(text.str(), file.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << file.string() << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
    return make_error(Errc::invalid, "config_syntax", msg.str());
  }
  FEDSWARM_TRY(check_known(root, file));

  Config c;
  FEDSWARM_TRY(read_string(root, file, "node", "site", c.site));
  if (c.site.empty()) return bad_value(file, "node.site", "a non-empty site name");
  std::string tier = "2";
  FEDSWARM_TRY(read_string(root, file, "node", "tier", tier));
  auto t = tier_from_string(tier);
  if (!t) return bad_value(file, "node.tier", "\"1\", \"2\" or \"dark\"");
  c.tier = *t;
  std::string data_root = "data";
  FEDSWARM_TRY(read_string(root, file, "node", "data_root", data_root));
  c.data_root = resolve(home, data_root);
  FEDSWARM_TRY(read_uint(root, file, "node", "capacity", c.capacity));

  std::string authority;
  FEDSWARM_TRY(read_string(root, file, "federation", "authority_key", authority));
  if (!authority.empty()) {
    auto key = fixed_from_hex<32>(authority);
    if (!key) return bad_value(file, "federation.authority_key", "64 hex digits (an Ed25519 public key) or empty");
    c.authority_key = *key;
  }

  FEDSWARM_TRY(read_string(root, file, "network", "listen", c.listen));
  if (c.listen.rfind(':') == std::string::npos) return bad_value(file, "network.listen", "host:port");
  FEDSWARM_TRY(read_uint(root, file, "network", "swarm_port", c.swarm_port, 1));

  FEDSWARM_TRY(read_uint(root, file, "gossip", "interval_ms", c.gossip_interval_ms, 10));
  FEDSWARM_TRY(read_uint(root, file, "gossip", "fanout", c.gossip_fanout, 1));
  FEDSWARM_TRY(read_uint(root, file, "gossip", "batch_bytes", c.gossip_batch_bytes, 4096));
  FEDSWARM_TRY(read_uint(root, file, "gossip", "suspect_after_ms", c.suspect_after_ms, 10));
  FEDSWARM_TRY(read_uint(root, file, "gossip", "down_after_ms", c.down_after_ms, 10));
  FEDSWARM_TRY(read_uint(root, file, "gossip", "handshake_timeout_ms", c.handshake_timeout_ms, 10));
  FEDSWARM_TRY(read_uint(root, file, "gossip", "backoff_max_ms", c.backoff_max_ms, 10));
  FEDSWARM_TRY(read_uint(root, file, "gossip", "verify_threads", c.verify_threads));
  if (c.down_after_ms <= c.suspect_after_ms)
    return bad_value(file, "gossip.down_after_ms", "a number of milliseconds larger than gossip.suspect_after_ms");

  if (auto peers = root["swarm"]["peers"]) {
    auto v = peers.value<std::string>();
    if (!v || (*v != "members" && *v != "anyone"))
      return bad_value(file, "swarm.peers",
                       "\"members\" (only the roster's nodes may connect) or \"anyone\" (public data)");
    c.swarm_peers_anyone = *v == "anyone";
  }
  FEDSWARM_TRY(read_uint(root, file, "swarm", "seed_idle_s", c.seed_idle_s));
  FEDSWARM_TRY(read_uint(root, file, "swarm", "max_active_torrents", c.max_active_torrents));
  for (auto [key, out] : {std::pair{"upload_rate_limit", &c.upload_rate_limit},
                          std::pair{"download_rate_limit", &c.download_rate_limit},
                          std::pair{"foreign_upload_rate_limit", &c.foreign_upload_rate_limit}}) {
    auto node = root["swarm"][key];
    if (!node) continue;
    auto rate = node.value<std::int64_t>();
    if (!rate || *rate < 0 || *rate > kMaxSwarmRate)
      return bad_value(file, std::string("swarm.") + key,
                       "bytes per second, an integer between 0 (unlimited) and " + std::to_string(kMaxSwarmRate));
    *out = *rate;
  }

  // [policy]: bounds keep the rule's arithmetic sane (a deadline within a year, a rate
  // that is not zero); the cross-field check below keeps a new claim's fixed part within
  // the longest claim.
  constexpr std::int64_t kYear = 366 * 86400;
  auto& p = c.tier_one;
  FEDSWARM_TRY(read_uint(root, file, "policy", "grace_seconds", p.grace_seconds));
  FEDSWARM_TRY(read_uint(root, file, "policy", "max_claim_seconds", p.max_claim_seconds, 1));
  FEDSWARM_TRY(read_uint(root, file, "policy", "retry_after_seconds", p.retry_after_seconds));
  FEDSWARM_TRY(read_bool(root, file, "policy", "superseded_needs_copy", p.superseded_needs_copy));
  FEDSWARM_TRY(read_uint(root, file, "policy", "claim_base_seconds", p.claim_base_seconds));
  FEDSWARM_TRY(read_number(root, file, "policy", "deadline_slack", p.deadline_slack, 1.0, 1000.0,
                           "a number between 1.0 and 1000.0 (the multiplier on the expected transfer time)"));
  FEDSWARM_TRY(read_number(root, file, "policy", "min_rate", p.min_rate, 1.0, 1e15,
                           "bytes per second, a number between 1 and 1e15"));
  FEDSWARM_TRY(read_uint(root, file, "policy", "surplus_settle_seconds", p.surplus_settle_seconds));
  FEDSWARM_TRY(read_uint(root, file, "policy", "evaluate_interval_ms", c.policy_evaluate_interval_ms, 100));
  for (auto [key, v] : {std::pair{"grace_seconds", p.grace_seconds}, std::pair{"max_claim_seconds", p.max_claim_seconds},
                        std::pair{"retry_after_seconds", p.retry_after_seconds},
                        std::pair{"claim_base_seconds", p.claim_base_seconds},
                        std::pair{"surplus_settle_seconds", p.surplus_settle_seconds}})
    if (v > 10 * kYear) return bad_value(file, std::string("policy.") + key, "a number of seconds up to 10 years");
  if (p.claim_base_seconds >= p.max_claim_seconds)
    return bad_value(file, "policy.claim_base_seconds",
                     "a number of seconds smaller than policy.max_claim_seconds (every claim's deadline is capped there)");

  std::string action = "keep";
  FEDSWARM_TRY(read_string(root, file, "retraction", "action", action));
  if (action == "keep") c.on_retraction = RetractionAction::keep;
  else if (action == "quarantine") c.on_retraction = RetractionAction::quarantine;
  else if (action == "delete") c.on_retraction = RetractionAction::remove;
  else return bad_value(file, "retraction.action", "\"keep\", \"quarantine\" or \"delete\"");

  std::string cv_dir;
  FEDSWARM_TRY(read_string(root, file, "projects", "cv_dir", cv_dir));
  c.cv_dir = resolve(home, cv_dir);
  if (auto node = root["projects"]["templates"]) {
    const toml::array* arr = node.as_array();
    if (!arr) return bad_value(file, "projects.templates", "a list of file paths");
    for (const auto& item : *arr) {
      auto s = item.value<std::string>();
      if (!s) return bad_value(file, "projects.templates", "a list of file paths");
      c.project_templates.push_back(resolve(home, *s));
    }
  }

  HttpConfig& h = c.http;
  FEDSWARM_TRY(read_bool(root, file, "http", "enabled", h.enabled));
  FEDSWARM_TRY(read_string(root, file, "http", "listen", h.listen));
  if (h.listen.rfind(':') == std::string::npos || h.listen.rfind(':') + 1 == h.listen.size())
    return bad_value(file, "http.listen", "host:port");
  FEDSWARM_TRY(read_bool(root, file, "http", "tls", h.tls));
  std::string certificate = h.certificate.string(), private_key = h.private_key.string();
  FEDSWARM_TRY(read_string(root, file, "http", "certificate", certificate));
  FEDSWARM_TRY(read_string(root, file, "http", "private_key", private_key));
  if (certificate.empty()) return bad_value(file, "http.certificate", "the path of a PEM certificate file");
  if (private_key.empty()) return bad_value(file, "http.private_key", "the path of a PEM private key file");
  h.certificate = resolve(home, certificate);
  h.private_key = resolve(home, private_key);
  FEDSWARM_TRY(read_string(root, file, "http", "public_url", h.public_url));
  if (!h.public_url.empty() && h.public_url.rfind("https://", 0) != 0 && h.public_url.rfind("http://", 0) != 0)
    return bad_value(file, "http.public_url", "empty or a URL starting with https:// or http://");
  while (h.public_url.size() > 8 && h.public_url.back() == '/') h.public_url.pop_back();
  // The bounds keep a typo from starving the server (0 threads) or opening it to
  // unbounded requests.
  FEDSWARM_TRY(read_uint(root, file, "http", "threads", h.threads, 1));
  if (h.threads > 256) return bad_value(file, "http.threads", "an integer between 1 and 256");
  FEDSWARM_TRY(read_uint(root, file, "http", "max_connections", h.max_connections, 1));
  FEDSWARM_TRY(read_uint(root, file, "http", "max_target_bytes", h.max_target_bytes, 256));
  FEDSWARM_TRY(read_uint(root, file, "http", "max_header_bytes", h.max_header_bytes, 1024));
  for (auto [key, v] : {std::pair{"max_target_bytes", h.max_target_bytes}, std::pair{"max_header_bytes", h.max_header_bytes}})
    if (v > (16u << 20)) return bad_value(file, std::string("http.") + key, "a number of bytes between 256 and 16 MiB");
  FEDSWARM_TRY(read_uint(root, file, "http", "tls_handshake_timeout_ms", h.tls_handshake_timeout_ms, 10));
  FEDSWARM_TRY(read_uint(root, file, "http", "header_timeout_ms", h.header_timeout_ms, 10));
  FEDSWARM_TRY(read_uint(root, file, "http", "idle_timeout_ms", h.idle_timeout_ms, 10));
  FEDSWARM_TRY(read_bool(root, file, "http", "serve_retracted", h.serve_retracted));

  FEDSWARM_TRY(read_string(root, file, "metrics", "listen", c.metrics.listen));
  if (!c.metrics.listen.empty() &&
      (c.metrics.listen.rfind(':') == std::string::npos || c.metrics.listen.rfind(':') + 1 == c.metrics.listen.size()))
    return bad_value(file, "metrics.listen", "empty or host:port");
  return c;
}

std::string Config::render_toml() const {
  std::ostringstream o;
  o << "# fedswarm node configuration. Every setting is listed with its default or the\n"
       "# value given to `fedswarm init`. Relative paths are relative to this home.\n\n"
       "[node]\n"
       "# Site name; must match this node's entry in the federation roster.\n"
    << "site = " << quote(site) << "\n"
    << "# \"1\" (Tier-1 centre), \"2\" (data node) or \"dark\" (subscribing mirror, not an official replica).\n"
    << "tier = " << quote(tier_value(tier)) << "\n"
    << "# Where replicas are placed, as a DRS tree; .staging/ and .quarantine/ live inside it.\n"
    << "data_root = " << quote(data_root.string()) << "\n"
    << "# Bytes offered for replicas; 0 means the free space of the data root.\n"
    << "capacity = " << capacity << "\n\n"
    << "[federation]\n"
    << "# Federation authority public key (hex). Empty until `fedswarm federation import`\n"
    << "# pins the key that signed the first roster.\n"
    << "authority_key = " << quote(authority_key.is_zero() ? std::string() : to_hex(authority_key)) << "\n\n"
    << "[network]\n"
    << "# Gossip listener, host:port. Peers find it through the roster's endpoints.\n"
    << "listen = " << quote(listen) << "\n"
    << "# libtorrent listen port on the same host (TCP only, no fallback to other ports).\n"
    << "swarm_port = " << swarm_port << "\n\n"
    << "[gossip]\n"
    << "# Anti-entropy round interval, and peers contacted per round.\n"
    << "interval_ms = " << gossip_interval_ms << "\n"
    << "fanout = " << gossip_fanout << "\n"
    << "# Upper bound of one batch of records sent to a peer.\n"
    << "batch_bytes = " << gossip_batch_bytes << "\n"
    << "# A member not heard from for this long is suspect, then down (retried with backoff).\n"
    << "suspect_after_ms = " << suspect_after_ms << "\n"
    << "down_after_ms = " << down_after_ms << "\n"
    << "# A peer that has not completed the handshake (or a frame) within this long is dropped.\n"
    << "handshake_timeout_ms = " << handshake_timeout_ms << "\n"
    << "# Reconnect backoff doubles from interval_ms up to this cap after failures or refusals.\n"
    << "backoff_max_ms = " << backoff_max_ms << "\n"
    << "# Threads verifying signatures of received records (0: one per core).\n"
    << "verify_threads = " << verify_threads << "\n\n"
    << "[swarm]\n"
    << "# Payload rate limits over all swarm peers together, in bytes per second (0: unlimited).\n"
    << "# They apply to every peer, on loopback and private networks too.\n"
    << "upload_rate_limit = " << upload_rate_limit << "\n"
    << "download_rate_limit = " << download_rate_limit << "\n"
    << "# Who may connect to the swarm port: \"members\" (the roster's nodes only: an IP\n"
    << "# filter refreshed with each roster; others are refused, counted and logged) or\n"
    << "# \"anyone\" (public data: others are served, counted, never dialled, and limited to\n"
    << "# foreign_upload_rate_limit bytes per second, 0: only upload_rate_limit).\n"
    << "peers = \"" << (swarm_peers_anyone ? "anyone" : "members") << "\"\n"
    << "foreign_upload_rate_limit = " << foreign_upload_rate_limit << "\n"
    << "# Seeding on demand: a held version is loaded when a peer asks for it, and leaves\n"
    << "# the session after seed_idle_s seconds without a peer (0: never); at most\n"
    << "# max_active_torrents versions (fetches included) are loaded at once (0: no limit).\n"
    << "seed_idle_s = " << seed_idle_s << "\n"
    << "max_active_torrents = " << max_active_torrents << "\n\n"
    << "[policy]\n"
    << "# The one-Tier-1-copy rule (Tier-1 nodes act on it; every node reports it in\n"
    << "# `compliance` and `health`). These four must be the same at every Tier-1 node:\n"
    << "# how long an unreachable Tier-1 keeps its copies counted and its claims live,\n"
    << "grace_seconds = " << tier_one.grace_seconds << "\n"
    << "# the longest a claim can hold a version, whatever deadline it states,\n"
    << "max_claim_seconds = " << tier_one.max_claim_seconds << "\n"
    << "# how long a node that passed on a version (released, declined, expired) is skipped,\n"
    << "retry_after_seconds = " << tier_one.retry_after_seconds << "\n"
    << "# whether a superseded (not retracted) version still needs its Tier-1 copy.\n"
    << "superseded_needs_copy = " << (tier_one.superseded_needs_copy ? "true" : "false") << "\n"
    << "# This node's claims: deadline = now + claim_base_seconds\n"
    << "#   + deadline_slack x (bytes queued + size) / max(observed rate, min_rate bytes/s).\n"
    << "claim_base_seconds = " << tier_one.claim_base_seconds << "\n"
    << "deadline_slack = " << toml_float(tier_one.deadline_slack) << "\n"
    << "min_rate = " << toml_float(tier_one.min_rate) << "\n"
    << "# A copy this node made to repair a Tier-1 violation (the holder was down past\n"
    << "# grace_seconds) is released once that holder has been back this long with its\n"
    << "# copy, unless one of this node's subscriptions wants the version.\n"
    << "surplus_settle_seconds = " << tier_one.surplus_settle_seconds << "\n"
    << "# A Tier-1 node evaluates the rule this often, and soon after the records change.\n"
    << "evaluate_interval_ms = " << policy_evaluate_interval_ms << "\n\n"
    << "[retraction]\n"
    << "# Local copy of a retracted version: \"keep\" (keep and flag), \"quarantine\" (move to\n"
    << "# <data_root>/.quarantine) or \"delete\".\n"
    << "action = " << quote(to_string(on_retraction)) << "\n\n"
    << "[projects]\n"
    << "# Folder of CMIP6_*.json controlled vocabularies replacing the built-in ones (empty: built in).\n"
    << "cv_dir = " << quote(cv_dir.string()) << "\n"
    << "# Extra project templates (JSON files, see protocol/projects/README.md).\n"
    << "templates = [";
  for (std::size_t i = 0; i < project_templates.size(); ++i)
    o << (i ? ", " : "") << quote(project_templates[i].string());
  o << "]\n\n"
    << "[http]\n"
    << "# The node's HTTP face: the ESGF search API (/esg-search/search, /esg-search/wget) and\n"
    << "# the files of its complete copies (/thredds/fileServer/...), read-only.\n"
    << "enabled = " << (http.enabled ? "true" : "false") << "\n"
    << "# Listen address host:port.\n"
    << "listen = " << quote(http.listen) << "\n"
    << "# HTTPS with the certificate below; false only behind a site's reverse proxy that\n"
    << "# terminates TLS (ESGF clients always download over https://).\n"
    << "tls = " << (http.tls ? "true" : "false") << "\n"
    << "# PEM certificate (chain) and private key. `fedswarm init` (or the node, when both\n"
    << "# are missing) creates a self-signed pair here; put the site's own files in their place\n"
    << "# or point these paths at them.\n"
    << "certificate = " << quote(http.certificate.string()) << "\n"
    << "private_key = " << quote(http.private_key.string()) << "\n"
    << "# The URL clients reach this node by, used in search results' `url` fields\n"
    << "# (e.g. \"https://esgf.example.org\" behind a proxy). Empty: https://<listen>.\n"
    << "public_url = " << quote(http.public_url) << "\n"
    << "# Worker threads serving requests (never the node's gossip thread).\n"
    << "threads = " << http.threads << "\n"
    << "# Open connections at most; further ones are closed at once.\n"
    << "max_connections = " << http.max_connections << "\n"
    << "# Longest request target (path and query; longer: 414) and header fields (longer: 431).\n"
    << "max_target_bytes = " << http.max_target_bytes << "\n"
    << "max_header_bytes = " << http.max_header_bytes << "\n"
    << "# A TLS handshake, a whole request header (however slowly it arrives), and a\n"
    << "# kept-alive connection waiting for its next request are given this long.\n"
    << "tls_handshake_timeout_ms = " << http.tls_handshake_timeout_ms << "\n"
    << "header_timeout_ms = " << http.header_timeout_ms << "\n"
    << "idle_timeout_ms = " << http.idle_timeout_ms << "\n"
    << "# true: files of retracted versions are served; false: 410 Gone with the reason.\n"
    << "serve_retracted = " << (http.serve_retracted ? "true" : "false") << "\n"
    << "\n"
    << "[metrics]\n"
    << "# Where /metrics (Prometheus text format) is served. Empty: on the [http] server.\n"
    << "# \"host:port\": a separate plain-HTTP listener for /metrics only (e.g. a private\n"
    << "# monitoring network); the [http] server then does not serve /metrics.\n"
    << "listen = " << quote(metrics.listen) << "\n";
  return o.str();
}

}  // namespace fedswarm
