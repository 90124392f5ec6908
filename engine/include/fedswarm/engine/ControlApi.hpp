// ControlApi: the typed requests and answers of a running node's control socket
// (ControlClient.hpp has the transport). The daemon builds these structs and the CLI
// reads them; each has one to_json and one from_json, so the field names live here
// only. `--json` output of the CLI is exactly to_json.
//
// Requests: status, peers, transfers (every row, or a page: offset and limit, fetches
// first), compliance (a page: status filter, offset, limit, or the summary only), health, notify (the CLI changed the catalog or the
// subscriptions), resume (retry paused transfers: one, or all).
// Answers: StatusAnswer, PeersAnswer, TransfersAnswer, ComplianceReport
// (ComplianceReport.hpp), HealthReport (HealthReport.hpp), Ack; or an error object
// {"error": {"code", "reason", "message"}} (control_error_json / error_from_json).
//
// Contract: value types; the JSON functions are pure; from_json returns `invalid`
// (reason bad_node_answer / bad_request) for anything of the wrong shape, never
// throws.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fedswarm/policy/TierOneDecision.hpp"
#include "fedswarm/protocol/GossipMessage.hpp"
#include "fedswarm/protocol/Result.hpp"
#include "fedswarm/protocol/Roster.hpp"

namespace fedswarm {

// --- requests ------------------------------------------------------------------------------

enum class ControlCommand : std::uint8_t { status, peers, transfers, compliance, health, notify, resume };
std::string_view to_string(ControlCommand c);

struct ControlRequest {
  ControlCommand cmd = ControlCommand::status;
  std::string instance_id;                      // resume: the version ("" = every paused one)
  std::optional<TierOneStatus> status_filter;   // compliance: only this status
  std::uint64_t offset = 0;                     // compliance: page
  std::uint64_t limit = 100;                    // compliance: page size (0: the summary only)
  bool paged = false;                           // transfers: only [offset, offset + limit)

  nlohmann::json to_json() const;
  static Result<ControlRequest> from_json(const nlohmann::json& j);
};

// --- answers -------------------------------------------------------------------------------

// {"error": {...}} for an error, and the reverse.
nlohmann::json control_error_json(const Error& e);
std::optional<Error> error_from_json(const nlohmann::json& j);

struct Ack {
  bool ok = true;
  nlohmann::json to_json() const { return {{"ok", ok}}; }
};

struct LagRow {
  std::string site;
  PublicKey key;
  std::optional<std::uint64_t> behind;  // records the peer lacks (from its last digest)
  std::optional<std::uint64_t> ahead;   // records this node lacks
};

struct GossipTotals {
  std::uint64_t rounds = 0, digests_sent = 0, digests_received = 0, records_sent = 0, records_received = 0,
                records_stored = 0, records_duplicate = 0, records_parked = 0, bytes_sent = 0, bytes_received = 0;
};

struct SwarmStatus {
  std::string listen;
  std::uint64_t fetching = 0, seeding = 0, paused = 0, placed = 0;
  std::vector<std::string> banned_peers;
  // Seeding on demand: complete versions held, torrents loaded now, loads a peer caused.
  std::uint64_t held = 0, loaded = 0, on_demand_loads = 0, full_checks = 0;
  // Foreign (non-member) peers: refused by the members-only filter, served (peers =
  // anyone), connections to them closed (they are never dialled).
  std::uint64_t foreign_refused = 0, foreign_served = 0, foreign_dials_refused = 0;
};

// This node's room: [node] capacity, its roster capacity, the data root's free space
// and, on a Tier-1 node, what the rule has committed here and may commit (as of its
// last round).
struct CapacityStatus {
  std::uint64_t configured = 0;
  std::optional<std::uint64_t> roster;
  std::string data_root;
  std::optional<std::uint64_t> data_root_free;
  std::optional<std::uint64_t> committed, quota, backlog, rule_fetches;
  std::optional<double> observed_rate;
};

// The catalog writer (gossip ingest) and the Tier-1 rule's incremental state.
struct PipelineStatus {
  std::uint64_t queued_records = 0;  // received, not yet written
  bool saturated = false;            // reading from peers paused (backpressure)
  std::uint64_t written_records = 0, write_groups = 0;
  bool rule_rebuilding = false;      // the Tier-1 tracker is judging every version
  std::uint64_t rule_judged = 0, rule_versions = 0;
  // Wall time of the recent Tier-1 rounds that judged something (not rebuild chunks).
  std::uint64_t rule_rounds = 0;
  double rule_round_ms_p50 = 0, rule_round_ms_p99 = 0, rule_round_ms_max = 0;
  // The latest such round: its wall time and how many versions it judged.
  double rule_round_last_ms = 0;
  std::uint64_t rule_round_last_judged = 0;
};

struct StatusAnswer {
  PublicKey node_key;
  std::string site;
  Tier tier = Tier::tier2;
  std::string listen;
  std::int64_t started_at = 0;  // unix seconds
  std::int64_t uptime_s = 0;
  std::uint64_t records = 0, authors = 0, roster_serial = 0;
  std::uint64_t peers_up = 0, peers_suspect = 0, peers_down = 0;
  std::vector<LagRow> lag;
  std::map<std::string, std::uint64_t> refused;  // links and records, by reason
  GossipTotals gossip;
  std::optional<SwarmStatus> swarm;
  std::uint64_t subscriptions = 0;
  CapacityStatus capacity;
  PipelineStatus pipeline;

  nlohmann::json to_json() const;
  static Result<StatusAnswer> from_json(const nlohmann::json& j);
};

struct PeerRow {
  PublicKey key;
  std::string site;
  Tier tier = Tier::tier2;
  std::string address;
  std::string state;  // up, suspect, down
  bool connected = false;
  std::optional<std::int64_t> last_seen_ms_ago;
  std::uint64_t records_sent = 0, records_received = 0, bytes_sent = 0, bytes_received = 0;
  std::uint32_t backoff_ms = 0, failures = 0;
  std::int64_t next_dial_in_ms = 0;
  std::string last_error;
  std::optional<std::uint64_t> behind, ahead;
  std::optional<Heartbeat> heartbeat;
};

struct PeersAnswer {
  std::vector<PeerRow> peers;
  nlohmann::json to_json() const;
  static Result<PeersAnswer> from_json(const nlohmann::json& j);
};

struct TransferRow {
  std::string instance_id;
  std::string kind;      // fetch, seed
  std::string state;     // transferring, verifying, complete, paused, …
  std::string activity;  // checking, downloading, verifying, seeding, paused, preparing
  // bytes_done = received + linked, at most bytes_total (see TransferInfo).
  std::uint64_t bytes_done = 0, bytes_total = 0, bytes_downloaded = 0, bytes_uploaded = 0, bytes_linked = 0;
  std::uint64_t bytes_received = 0, bytes_verified = 0;
  std::int64_t download_rate = 0, upload_rate = 0;
  int peers = 0;
  std::int64_t eta_s = -1;
  std::uint32_t verify_failures = 0, local_faults = 0, hash_failures = 0;
  std::string path, last_error;
};

struct SwarmTotals {
  std::uint64_t placed = 0, verify_failures = 0, local_faults = 0, hash_failures = 0, file_errors = 0,
                stall_restarts = 0, incomplete_finishes = 0;
  std::vector<std::string> banned_peers;
  std::uint64_t bytes_rehashed = 0, bytes_trusted = 0;  // placement: read again / placed without a re-read
  std::uint64_t held = 0, loaded = 0, on_demand_loads = 0, on_demand_misses = 0, idle_unloads = 0, evictions = 0,
                full_checks = 0;
  std::uint64_t foreign_refused = 0, foreign_served = 0, foreign_dials_refused = 0;
  std::uint64_t pieces_suggested = 0;  // seeding: pieces handed to member fetchers (one copy each)
};

struct TransfersAnswer {
  std::vector<TransferRow> transfers;
  std::optional<SwarmTotals> counters;  // nullopt: the node has no swarm engine
  std::string swarm_listen;
  std::optional<std::uint64_t> total;   // a page: the number of rows of all pages
  nlohmann::json to_json() const;
  static Result<TransfersAnswer> from_json(const nlohmann::json& j);
};

}  // namespace fedswarm
