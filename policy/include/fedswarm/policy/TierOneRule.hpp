// TierOneRule: the federation's one-Tier-1-copy rule (DESIGN §7; Balaji et al. 2018,
// "Replication"): soon after publication every dataset version has a complete copy at
// a Tier-1 node besides its primary residence. There is no coordinator: every Tier-1
// node evaluates the rule on its own catalog and the same inputs give the same answer
// at every node, whatever the order of the records.
//
// Terms (for one version X, at time `now` from the caller's Clock)
// - same-site node: a node at X's primary site, or X's publisher itself. Its copy is not
//   a second residence, so it neither counts as a holder nor is eligible.
// - present: alive, or down for less than config.grace_seconds.
// - counted holder: a Tier-1 member, not same-site, present, whose latest replica record
//   of X is complete.
// - live claim: a Tier-1 member's latest claim on X is take, its effective deadline
//   (TierOneConfig::effective_deadline) ≥ now, the claimant is present and not same-site.
// - free capacity for X: see CapacityLedger.hpp (catalog-derived, X's own reservation
//   added back).
// - eligible: a Tier-1 member, alive, not same-site, free capacity for X ≥ X's size and
//   > 0.
// - passed: the node's latest claim on X is a release (at made_at), or a take whose
//   effective deadline passed while it did not hold X (at the deadline). A pass is
//   "recent" for retry_after_seconds.
// - rank: weighted rendezvous hashing (Rendezvous.hpp) with
//   w = rank_weight(free capacity for X, roster capacity, config.rank_weight_exponent),
//   except that an eligible holder of X's previous version comes first (a new version
//   prefers the Tier-1 that holds the previous one; several: by rendezvous score).
// - chain: eligible nodes that never passed, in rank order; then eligible nodes whose
//   pass is no longer recent, oldest pass first (then key). So a node whose claim
//   expired is asked again only after every other eligible node had its chance, and
//   not before retry_after_seconds.
//
// Verdict (TierOneDecision)
// 1. retracted → exempt (no obligation; any claim on it is moot). Superseded but not
//    retracted keeps its obligation — later versions are replicated too, and so is the
//    version they replace (it stays published and citable) — unless
//    config.superseded_needs_copy is false (→ exempt).
// 2. a counted holder → compliant. With two or more counted holders, one copy is kept:
//    the keeper is the holder with the oldest complete replica record (then the lowest
//    key) — the original holder when the others were made while it was down past grace.
//    Once the keeper is alive, has been up since (up_since) at least
//    config.surplus_settle_seconds and its complete record is that old (release_at),
//    every other counted holder is surplus. Who keeps depends on the catalog only, so
//    every node names the same keeper, the keeper never drops its own copy for this, and
//    a holder drops only while it reads the keeper's complete record and sees it alive
//    and settled: two surplus holders never both drop and leave no Tier-1 copy (only a
//    keeper's loss not yet gossiped — a failed verify — can, and is repaired as any
//    loss). Liveness and the local settle time only delay a drop.
// 3. a live claim → pending; the claimant is the live claim that comes first in the
//    chain (live claimants not in the chain — down within grace, out of room — come
//    after, by made_at then key).
// 4. else violating: the assignee is chain.front(); no chain → blocked (all_passed if
//    some eligible node passed recently, else no_eligible_tier1). The cause is the most
//    specific one found: holders_down > copy_dropped > claimant_down > claim_expired >
//    claim_released > unclaimed.
// Losing a copy (a dropped record after a failed verify; a holder down past grace) makes
// the version violating again, and the chain repairs it like a new one. When the holder
// comes back, the repair copy becomes surplus (2.) and is released.
//
// Actions for the local node (TierOneAction), from the decision:
// - violating, local is the assignee → claim with deadline
//   config.claim_deadline(now, size, backlog, rate); or decline if the local quota
//   cannot hold it (committed + size > quota) or the expected transfer time exceeds
//   max_claim_seconds.
// - pending, local holds the leading claim → fetch; give_up instead if local_eta is
//   after the deadline.
// - pending, local holds a live claim that is not the leading one → abandon.
// - any other status while local holds a take claim that is still within its deadline
//   and is not a holder → release (the claim is moot, or does not count).
// - compliant, local is a surplus holder → drop_surplus: the engine stops seeding and
//   deletes its copy and signs Replica{dropped}, unless one of its subscriptions wants
//   the version (then it keeps it; the rule asks again only when the version's records
//   or its holders' liveness change).
// A node that is neither the assignee nor a claimant gets no action. Everything the
// engine fetches for this rule must come from a claim or fetch action of the latest
// evaluation: a transfer for a version without one (the claim expired, passed to the
// next node) is cancelled by the engine.
//
// Contract: pure (no I/O, no clock: `now` is an argument); thread-safe (const methods,
// no shared state). No errors: every input is a well-formed view of stored records.
// judge is O(members log members + records of X); evaluate is O(records log records).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "fedswarm/policy/TierOneCase.hpp"
#include "fedswarm/policy/TierOneConfig.hpp"
#include "fedswarm/policy/TierOneDecision.hpp"

namespace fedswarm {

// The local node's view, used only for its own actions.
struct TierOneLocal {
  PublicKey key;
  // Effective bytes/s of its recent transfers (bytes over wall time, per-transfer
  // overheads included: the deadline covers a queue of many small versions); 0: unknown.
  double observed_rate = 0;
  std::uint64_t backlog_bytes = 0;  // bytes still to fetch for its live claims
  // Bytes this node agrees to commit to the rule (complete replicas + live claims, as
  // counted by CapacityLedger); nullopt: its roster capacity. A node persistently
  // below its roster capacity should lower the latter: otherwise it is assigned and
  // declines each such version once per retry_after.
  std::optional<std::uint64_t> quota;
};

// A whole catalog's worth of inputs, in any order (evaluate sorts).
struct TierOneSnapshot {
  struct Replica {
    std::string instance_id;
    ReplicaLocation location;
  };
  struct ClaimRecord {
    std::string instance_id;
    ClaimInfo claim;
  };
  std::vector<TierOneMember> members;   // `committed` is ignored (computed)
  std::vector<TierOneVersion> versions;  // every version, retracted and superseded too
  std::vector<Replica> replicas;
  std::vector<ClaimRecord> claims;
  std::vector<std::pair<std::string, std::int64_t>> local_etas;  // instance_id → local_eta
};

struct TierOneReport {
  std::vector<TierOneMember> members;        // by key, with `committed`
  std::vector<TierOneDecision> decisions;    // by instance_id
  std::vector<TierOneAction> actions;        // the local node's, oldest version first
};

class TierOneRule {
 public:
  explicit TierOneRule(TierOneConfig config = {}) : config_(config) {}
  const TierOneConfig& config() const { return config_; }

  // The verdict for one version. `members`: the Tier-1 members with `committed` filled
  // (CapacityLedger::fill), any order, one entry per key.
  TierOneDecision judge(const TierOneCase& c, std::span<const TierOneMember> members, std::int64_t now) const;

  // The local node's actions for a decision of `c`. `extra_committed` and
  // `extra_backlog`: bytes this node claimed earlier in the same pass, not yet in the
  // catalog (counted against its quota and ahead in its queue; never in the ranking,
  // which must stay the same at every node).
  std::vector<TierOneAction> actions(const TierOneDecision& d, const TierOneCase& c,
                                     std::span<const TierOneMember> members, const TierOneLocal& local,
                                     std::int64_t now, std::uint64_t extra_committed = 0,
                                     std::uint64_t extra_backlog = 0) const;

  // judge + actions.
  TierOneDecision decide(const TierOneCase& c, std::span<const TierOneMember> members, const TierOneLocal& local,
                         std::int64_t now, std::vector<TierOneAction>& actions_out) const;

  // Every version of a snapshot (no local node: `local` nullopt gives no actions).
  // Identical output for any permutation of the snapshot's vectors.
  TierOneReport evaluate(const TierOneSnapshot& snapshot, std::int64_t now,
                         const std::optional<TierOneLocal>& local = std::nullopt) const;

 private:
  TierOneConfig config_;
};

}  // namespace fedswarm
