// Config: a node's settings, read from <home>/config.toml (toml++).
//
// Contract
// - Every setting has a documented default; `Config::defaults()` + `render_toml()`
//   produce the commented file `fedswarm init` writes.
// - `load` returns `invalid` with the key, the bad value and the accepted form for a
//   malformed file or value, and `io` if the file cannot be read. Unknown keys are
//   refused (a typo must not silently fall back to a default).
// - Relative paths are resolved against the home directory.
// - Plain value type; thread-compatible.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fedswarm/policy/TierOneConfig.hpp"
#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Result.hpp"
#include "fedswarm/protocol/Roster.hpp"

namespace fedswarm {

enum class RetractionAction : std::uint8_t { keep, quarantine, remove };
std::string_view to_string(RetractionAction a);

// The largest [swarm] rate limit (libtorrent keeps rates in an int).
inline constexpr std::int64_t kMaxSwarmRate = 2147483647;

// [http]: the node's HTTP face (DESIGN §9), served by its own worker threads.
struct HttpConfig {
  bool enabled = true;
  std::string listen = "127.0.0.1:8443";            // host:port (port 0: any free port)
  bool tls = true;                                  // false: plain HTTP behind a site's reverse proxy
  std::filesystem::path certificate = "tls/cert.pem";  // PEM chain; resolved against the home
  std::filesystem::path private_key = "tls/key.pem";   // PEM key, mode 0600
  std::string public_url;                           // what goes into `url` fields; empty: derived
  std::uint32_t threads = 2;                        // HTTP worker threads
  std::uint32_t max_connections = 512;              // open connections; more are closed at once
  // A request target (path and query) up to this long is read (intake-esgf puts hundreds
  // of dataset_ids in one URL); longer ones get 414.
  std::uint32_t max_target_bytes = 64 * 1024;
  std::uint32_t max_header_bytes = 80 * 1024;       // the header fields besides the target; more: 431
  std::uint32_t tls_handshake_timeout_ms = 10000;   // TLS handshake
  std::uint32_t header_timeout_ms = 10000;          // a whole request header, however slowly it trickles
  std::uint32_t idle_timeout_ms = 60000;            // a kept-alive connection waiting for its next request
  bool serve_retracted = false;                     // true: retracted versions are served, not 410 Gone

  // public_url, or "https://<listen>" ("http://" without TLS).
  std::string url() const;
};

// [metrics]: where `/metrics` (Prometheus text format) is served.
struct MetricsConfig {
  // Empty: on the [http] server. "host:port": a separate plain-HTTP listener serving
  // /metrics only (e.g. on a private monitoring network), and the [http] server does not.
  std::string listen;
};

struct Config {
  // [node]
  std::string site;
  Tier tier = Tier::tier2;
  std::filesystem::path data_root;   // DRS tree for replicas; staging/ and quarantine/ inside
  std::uint64_t capacity = 0;        // bytes offered for replicas (0: the data root's free space)
  // [federation]
  PublicKey authority_key;           // zero until the first roster import pins it
  // [network]
  std::string listen = "127.0.0.1:7400";  // gossip listener host:port
  std::uint16_t swarm_port = 7401;        // libtorrent listen port (same host)
  // [gossip]
  std::uint32_t gossip_interval_ms = 500;
  std::uint32_t gossip_fanout = 3;
  std::uint32_t gossip_batch_bytes = 1u << 20;
  std::uint32_t suspect_after_ms = 3000;
  std::uint32_t down_after_ms = 10000;
  std::uint32_t handshake_timeout_ms = 5000;
  std::uint32_t backoff_max_ms = 60000;
  std::uint32_t verify_threads = 0;        // 0: one per core
  // [swarm] payload rate limits over all swarm peers (loopback and private addresses
  // included), bytes/s; 0 = unlimited; at most kMaxSwarmRate.
  std::int64_t upload_rate_limit = 0;
  std::int64_t download_rate_limit = 0;
  // [swarm] who may connect to the swarm port: roster members only (an IP filter) or
  // anyone (public data; non-members limited to foreign_upload_rate_limit, 0 = only the
  // limit above).
  bool swarm_peers_anyone = false;
  std::int64_t foreign_upload_rate_limit = 0;
  // [swarm] seeding on demand: a loaded seed idle this long leaves the session (0 =
  // never); at most max_active_torrents torrents loaded at once (0 = no limit).
  std::uint32_t seed_idle_s = 300;
  std::uint32_t max_active_torrents = 500;
  // [policy] the one-Tier-1-copy rule (policy/TierOneConfig.hpp for each field). The
  // federation-wide ones (grace_seconds, max_claim_seconds, retry_after_seconds,
  // superseded_needs_copy) must be equal at every Tier-1 node; the others only shape
  // the deadlines this node signs and when it releases its own surplus copies
  // (surplus_settle_seconds). rank_weight_exponent is not read from the file (always
  // kRankWeightExponent). Read by Tier-1 nodes (TierOneDuty) and by every node for
  // `compliance` / `health`.
  TierOneConfig tier_one;
  // How often a Tier-1 node evaluates the rule when nothing changed (a change of the
  // records triggers an evaluation within a gossip interval).
  std::uint32_t policy_evaluate_interval_ms = 2000;
  // [retraction]
  RetractionAction on_retraction = RetractionAction::keep;
  // [projects]
  std::filesystem::path cv_dir;                     // override built-in CMIP6 CVs; empty = built in
  std::vector<std::filesystem::path> project_templates;  // extra project template files
  // [http]
  HttpConfig http;
  // [metrics]
  MetricsConfig metrics;

  static Config defaults(std::string site, Tier tier);
  static Result<Config> load(const std::filesystem::path& file, const std::filesystem::path& home);
  // The whole file, every setting with a comment; paths written as given.
  std::string render_toml() const;
};

}  // namespace fedswarm
