// HealthReport: the federation at a glance, as one node sees it — each roster member
// with its tier, link state, catalog lag, what it holds and its free capacity; this
// node's transfer rates; the one-Tier-1-copy summary (ComplianceReport.hpp); refusals
// and banned peers; manifest conflicts. `fedswarm health` prints it; the running node
// will serve the same JSON as {"cmd":"health"}.
//
// Where each figure comes from
// - members, tier, capacity: the roster.
// - versions_held, bytes_held: the catalog's records, so the same at every node — a
//   member's latest replica record of a version is complete, or it published the
//   version and has not signed a "dropped" record for it (the primary copy). Retracted
//   versions count until dropped: they take room.
// - committed, free_capacity: CapacityLedger (complete replicas + live claims) against
//   the roster capacity, the figure the Tier-1 ranking uses; free saturates at 0.
// - state, lag (behind / ahead: records the member lacks / this node lacks), last seen:
//   the running node's links (HealthLive). Offline: state "unknown", lag unknown. The
//   local node is "self" when running, "stopped" when not.
// - download_rate, upload_rate: the local node's transfers only (bytes/s, summed), when
//   it runs.
// - refusals (by reason, since the node started) and banned peers: the running node's
//   counters; nullopt offline.
// - conflicts: second, different manifests refused by the catalog (receipt rule 5).
//
// Contract: value types; make_health_report and the JSON functions are pure;
// build_health_report reads the catalog (one replication_state read transaction, the
// roster and the conflicts). No threads; any thread.
// Errors: the catalog's (`io`); from_json / from_answers: `invalid` (reason
// bad_health_report / bad_node_answer).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fedswarm/engine/ComplianceReport.hpp"
#include "fedswarm/engine/ControlApi.hpp"
#include "fedswarm/protocol/Result.hpp"
#include "fedswarm/protocol/Roster.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

// One member's link as the running node sees it.
struct SiteLink {
  std::string state;                         // "up", "suspect" or "down"
  std::optional<std::uint64_t> behind;       // records the member lacks (from its last digest)
  std::optional<std::uint64_t> ahead;        // records this node lacks
  std::optional<std::int64_t> last_seen_ago;  // seconds since its last frame; nullopt: never
};

// What only a running node knows.
struct HealthLive {
  std::map<PublicKey, SiteLink> links;
  std::int64_t uptime = 0;  // seconds
  std::uint64_t download_rate = 0, upload_rate = 0;  // bytes/s over its transfers
  std::uint64_t fetching = 0, seeding = 0, paused = 0;
  std::map<std::string, std::uint64_t> refusals;  // by reason, since start
  std::vector<std::string> banned_peers;          // addresses

  // From the node's typed answers (ControlApi.hpp); `peers` and `transfers` may be
  // null (not available).
  static HealthLive from(const StatusAnswer& status, const PeersAnswer* peers, const TransfersAnswer* transfers);
};

struct SiteHealth {
  PublicKey key;
  std::string site;
  Tier tier = Tier::tier2;
  bool local = false;
  std::string state;  // "self", "stopped" (local), "up", "suspect", "down", "unknown"
  std::optional<std::uint64_t> behind, ahead;
  std::optional<std::int64_t> last_seen_ago;
  std::uint64_t versions_held = 0, bytes_held = 0;
  std::uint64_t capacity = 0, committed = 0, free_capacity = 0;
  std::optional<std::uint64_t> download_rate, upload_rate;  // local and running only
};

struct ConflictSummary {
  std::string instance_id;
  std::string author;  // site of the refused manifest's author, or its short key
  std::int64_t seen_at = 0;
};

struct HealthReport {
  std::int64_t generated_at = 0;
  std::string federation;  // empty: no roster imported
  std::uint64_t roster_serial = 0;
  std::string local_site;
  PublicKey local_key;
  bool running = false;
  std::int64_t uptime = 0;                          // running only
  std::uint64_t fetching = 0, seeding = 0, paused = 0;  // running only
  std::vector<SiteHealth> sites;                    // roster order
  ComplianceSummary compliance;
  // Running only: refusals by reason since the node started, and banned peers.
  std::optional<std::map<std::string, std::uint64_t>> refusals;
  std::vector<std::string> banned_peers;
  std::vector<ConflictSummary> conflicts;

  // {"generated_at", "federation", "roster_serial", "node": {...}, "sites": [...],
  //  "compliance": {...}, "refusals": {...}|null, "banned_peers": [...], "conflicts": [...]}
  nlohmann::json to_json() const;
  static Result<HealthReport> from_json(const nlohmann::json& j);
};

struct HealthInputs {
  std::int64_t now = 0;
  PublicKey local_key;
  std::string local_site;
  std::optional<HealthLive> live;  // nullopt: the node is not running
  // For the compliance summary (its `now` is replaced by this `now`).
  ComplianceInputs compliance;
};

// Pure: the report from one catalog snapshot and a compliance summary.
HealthReport make_health_report(const ReplicationState& state, const std::optional<Roster>& roster,
                                const std::vector<ConflictInfo>& conflicts, const ComplianceSummary& compliance,
                                const HealthInputs& in);

// From maintained figures (what a running node answers with, at any catalog size): the
// catalog's node totals (versions and bytes held), `committed` bytes by member (the
// Tier-1 rule's tracker; members absent from it: their complete replicas), the
// conflicts, and the compliance summary given.
Result<HealthReport> health_report(const Catalog& catalog, const HealthInputs& in, const ComplianceSummary& compliance,
                                   const std::map<PublicKey, std::uint64_t>& committed);

// Offline: an offline tracker (ComplianceReport.hpp) gives the compliance summary and
// the Tier-1 members' committed bytes (with in.compliance's liveness and config).
Result<HealthReport> build_health_report(const Catalog& catalog, const HealthInputs& in);

}  // namespace fedswarm
