// ComplianceReport: where the federation stands against the one-Tier-1-copy rule
// (DESIGN §7, policy/TierOneRule.hpp), as an operator reads it: every dataset version
// with its verdict in plain terms (site names instead of keys, ages instead of record
// times), a summary, and JSON. `fedswarm compliance` prints it; the running node serves
// the same JSON on its control socket ({"cmd":"compliance"}, built with its link
// liveness); `fedswarm health` shows the summary.
//
// Where each figure comes from
// - status, cause, blocker, holders, claimant, deadline, assignee: TierOneRule::evaluate
//   over one catalog snapshot (Catalog::replication_state + the roster), so they are the
//   verdicts every Tier-1 node reaches from the same records.
// - liveness: given by the caller (the daemon's membership). Without it (offline) every
//   member counts alive, so a holder or claimant that is in fact down still counts: the
//   report can then only be too kind, and `liveness_known` is false. A member missing
//   from a given map counts alive (the local node is not in its own peer list).
// - age: now − published_at.
// - violating_since (violating only): the latest event in the records that may have
//   ended the version's last compliant or pending state — publication, a release, a
//   claim's effective deadline, a dropped copy, a holder or claimant down for the grace
//   period. It is never earlier than the true start, so a violation never looks older
//   than it is. `--max-age` alarms use it rather than the age: an old version whose
//   copy was just dropped is violating only until its assignee claims it (a round).
// - bytes_done (pending only): the claimant's progress, known only when the claimant is
//   the local node (its transfer, from the caller or the catalog's local replica rows).
//
// Order of `versions`: violating (longest first), pending (nearest deadline first),
// compliant, exempt; instance id within each.
//
// Contract: value types; every function is pure except build_compliance_report, which
// reads the catalog (one replication_state read transaction, the roster and, for the
// local progress, the local replica rows). No threads; callable from any thread.
// Errors: the catalog's (`io`); from_json: `invalid` (reason bad_compliance_report).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fedswarm/policy/TierOneConfig.hpp"
#include "fedswarm/policy/TierOneDecision.hpp"
#include "fedswarm/policy/TierOneRule.hpp"
#include "fedswarm/policy/TierOneTracker.hpp"
#include "fedswarm/protocol/Result.hpp"
#include "fedswarm/protocol/Roster.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

// A member's link liveness as the rule reads it (TierOneMember::alive / down_since /
// up_since).
struct MemberLiveness {
  bool alive = true;
  std::int64_t down_since = 0;  // unix seconds; meaningful when !alive
  std::int64_t up_since = 0;    // unix seconds its link came up (meaningful when alive; 0: always)
  bool operator==(const MemberLiveness&) const = default;
};
using LivenessMap = std::map<PublicKey, MemberLiveness>;

struct ComplianceInputs {
  std::int64_t now = 0;  // unix seconds
  // nullopt: liveness unknown, every member counted alive.
  std::optional<LivenessMap> liveness;
  // Must be the federation-wide values the Tier-1 nodes use (TierOneConfig.hpp).
  TierOneConfig config;
  // The node making the report: its own claims get `bytes_done`.
  std::optional<PublicKey> local;
  // Bytes done of the local node's transfers, by instance id. nullopt:
  // build_compliance_report reads the catalog's local replica rows.
  std::optional<std::map<std::string, std::uint64_t>> local_progress;
};

struct ComplianceEntry {
  std::string instance_id;
  std::uint64_t size = 0;
  std::string primary_site;       // the publisher's site
  std::int64_t published_at = 0;  // unix seconds
  std::int64_t age = 0;           // now − published_at, ≥ 0
  TierOneStatus status = TierOneStatus::violating;
  TierOneCause cause = TierOneCause::none;        // violating and exempt
  TierOneBlocker blocker = TierOneBlocker::none;  // violating
  std::vector<std::string> holders;               // compliant: sites of the counted holders
  std::string claimant;                           // pending: site of the leading claim
  std::int64_t deadline = 0;                      // pending: its effective deadline
  std::optional<std::uint64_t> bytes_done;        // pending: claimant's progress, if known
  std::string assignee;                           // violating, not blocked: who should claim
  std::int64_t violating_since = 0;               // violating (see above)
  std::int64_t violating_for = 0;                 // violating: now − violating_since, ≥ 0
};

struct ComplianceSummary {
  std::uint64_t versions = 0, compliant = 0, pending = 0, violating = 0, exempt = 0;
  std::uint64_t blocked = 0;                // violating with nobody to assign
  std::uint64_t violating_bytes = 0;
  std::int64_t longest_violation = 0;       // max violating_for; 0 if none
  std::uint64_t tier1_members = 0;          // in the roster
  bool liveness_known = false;

  nlohmann::json to_json() const;
  static Result<ComplianceSummary> from_json(const nlohmann::json& j);
};

struct ComplianceReport {
  std::int64_t generated_at = 0;  // the `now` it was made for
  ComplianceSummary summary;
  std::vector<ComplianceEntry> versions;
  // The page `versions` is: entries of `status_filter` (every status when empty), in
  // report order, from `offset`; `matching` = how many entries match in all.
  std::optional<TierOneStatus> status_filter;
  std::uint64_t offset = 0;
  std::uint64_t matching = 0;
  // The node was still judging every version (after a start or a new roster): the
  // summary covers `judged` of `total` versions.
  bool rebuilding = false;
  std::uint64_t judged = 0, total = 0;

  // Violating versions whose violation has lasted at least `max_age` seconds
  // (max_age 0: every violation), in report order.
  std::vector<const ComplianceEntry*> violations_older_than(std::int64_t max_age) const;

  // {"generated_at", "summary": {versions, compliant, pending, violating, exempt, blocked,
  //  violating_bytes, longest_violation_s, tier1_members, liveness_known},
  //  "versions": [{instance_id, size, primary_site, published_at, age_s, status, cause,
  //  blocker, holders [sites], claimant, deadline, bytes_done, assignee, violating_since,
  //  violating_for_s}]} — status/cause/blocker as to_string names; a field that does not
  //  apply to the status is null.
  nlohmann::json to_json() const;
  // Reads what to_json wrote (e.g. the running node's answer). Unknown fields ignored.
  static Result<ComplianceReport> from_json(const nlohmann::json& j);
};

// The rule's input from one catalog snapshot: the roster's Tier-1 members with
// `liveness` applied (nullopt or absent from the map: alive), every version, and the
// latest replica and claim records.
TierOneSnapshot tier_one_snapshot(const ReplicationState& state, const std::optional<Roster>& roster,
                                  const std::optional<LivenessMap>& liveness);

// The report of an evaluation the caller already ran (TierOneRule(in.config).evaluate on
// `snapshot` at in.now), so a daemon that evaluates for its own actions reuses it.
// Uses in.local_progress only (nullopt: no progress).
ComplianceReport make_compliance_report(const TierOneSnapshot& snapshot, const TierOneReport& evaluated,
                                        const ComplianceInputs& in);

// tier_one_snapshot + evaluate + make_compliance_report.
ComplianceReport compliance_report(const ReplicationState& state, const std::optional<Roster>& roster,
                                   const ComplianceInputs& in);

// --- at scale: from a TierOneTracker (TierOneTracker.hpp) ---------------------------------

// The entry of one version from its case and verdict (`members`: with committed bytes).
ComplianceEntry compliance_entry(const TierOneCase& c, const TierOneDecision& d, std::span<const TierOneMember> members,
                                 const ComplianceInputs& in);
// The summary from a tracker's counts.
ComplianceSummary compliance_summary(const TierOneCounts& counts, std::size_t tier1_members, bool liveness_known,
                                     std::int64_t now);
// The roster's Tier-1 members with `liveness` applied (nullopt or absent: alive) and
// `committed` = their complete-replica bytes (the catalog's node totals): a tracker's
// input.
Result<std::vector<TierOneMember>> tier_one_members(const Catalog& catalog, const std::optional<Roster>& roster,
                                                    const std::optional<LivenessMap>& liveness);
// A page of a tracker's verdicts: the summary from its counts, the entries of the page
// judged again from `source` with the tracker's members (so holders, claimant and
// assignee are current). Cost: the page, not the catalog.
Result<ComplianceReport> compliance_page(const TierOneTracker& tracker, TierOneCaseSource& source,
                                         const ComplianceInputs& in, std::optional<TierOneStatus> status,
                                         std::uint64_t offset, std::uint64_t limit);
// Offline: a tracker rebuilt over the whole catalog (every member alive unless
// in.liveness says otherwise; time and memory linear in the catalog, one version's
// records at a time), then compliance_page. A catalog without a roster has no Tier-1
// member: every version not retracted is violating, blocked by no_eligible_tier1.
Result<ComplianceReport> build_compliance_report(const Catalog& catalog, const ComplianceInputs& in,
                                                 std::optional<TierOneStatus> status = std::nullopt,
                                                 std::uint64_t offset = 0, std::uint64_t limit = UINT64_MAX);
// The same tracker, for callers that want more than the report (health, paging).
Result<TierOneTracker> offline_tracker(const Catalog& catalog, const ComplianceInputs& in);
// The rule's inputs read from `catalog` (which must outlive it), for compliance_page.
std::unique_ptr<TierOneCaseSource> catalog_case_source(const Catalog& catalog);

}  // namespace fedswarm
