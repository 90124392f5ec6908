// TierOneDecision: the verdict of the one-Tier-1-copy rule for one dataset version (the
// same at every node that reads the same catalog), and TierOneAction: what one node
// should do about it. See TierOneRule.hpp for the rule.
//
// Contract: plain value types; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Claim.hpp"

namespace fedswarm {

enum class TierOneStatus : std::uint8_t {
  compliant,  // a Tier-1 node outside the primary's site holds a complete copy
  pending,    // no copy yet, a live claim is in progress
  violating,  // neither: `cause` says why, `assignee()` should claim it
  exempt,     // no obligation (retracted; superseded if the config says so)
};
std::string_view to_string(TierOneStatus s);
// The inverses of to_string (nullopt: an unknown name).
std::optional<TierOneStatus> tier_one_status_from(std::string_view s);

// Why a version is violating (or exempt). For compliant and pending: none.
enum class TierOneCause : std::uint8_t {
  none,
  retracted,       // exempt: withdrawn
  superseded,      // exempt: superseded and config.superseded_needs_copy is false
  unclaimed,       // never held nor claimed (a new version, until its assignee claims)
  claim_released,  // the claims were released or declined
  claim_expired,   // a claim passed its deadline unfulfilled
  claimant_down,   // the claimant has been down longer than the grace period
  copy_dropped,    // a holder withdrew its copy (failed verify, deletion)
  holders_down,    // every holder has been down longer than the grace period
};
std::string_view to_string(TierOneCause c);
std::optional<TierOneCause> tier_one_cause_from(std::string_view s);

// Why nobody is assigned a violating version.
enum class TierOneBlocker : std::uint8_t {
  none,               // the assignee should claim it
  no_eligible_tier1,  // no Tier-1 node outside the primary's site is alive with room
  all_passed,         // every eligible node passed on it less than retry_after ago
};
std::string_view to_string(TierOneBlocker b);
std::optional<TierOneBlocker> tier_one_blocker_from(std::string_view s);

struct TierOneDecision {
  std::string instance_id;
  TierOneStatus status = TierOneStatus::violating;
  TierOneCause cause = TierOneCause::none;
  TierOneBlocker blocker = TierOneBlocker::none;
  // compliant: the counted holders, by key.
  std::vector<PublicKey> holders;
  // compliant with two or more counted holders: the one whose copy is kept — the holder
  // with the oldest complete replica record (then the lowest key): the original holder
  // when the others repaired its absence. The same at every node reading the same
  // catalog (liveness plays no part in who it is).
  std::optional<PublicKey> keeper;
  // With a keeper: from when the other holders' copies are surplus — the keeper alive,
  // up for surplus_settle_seconds and its complete record that old:
  // max(keeper.up_since, record time) + surplus_settle_seconds. INT64_MAX while the
  // keeper is not alive. Otherwise 0.
  std::int64_t release_at = 0;
  // The holders whose copies are surplus now (now ≥ release_at), by key; each drops its
  // own (TierOneActionKind::drop_surplus). Never the keeper.
  std::vector<PublicKey> surplus;
  // pending: the counted live claims, in precedence order (front: the claimant).
  std::vector<PublicKey> live_claims;
  std::int64_t deadline = 0;  // pending: the claimant's effective deadline
  // pending and violating: the chain — eligible nodes that have not passed, in rank
  // order (previous version's holder first), then nodes whose pass is older than
  // retry_after, oldest pass first. violating: front() is the assignee.
  std::vector<PublicKey> ranking;
  // Eligible nodes that passed on it less than retry_after ago (not in `ranking`).
  std::vector<PublicKey> passed;

  std::optional<PublicKey> claimant() const;  // pending: live_claims.front()
  std::optional<PublicKey> assignee() const;  // violating and not blocked: ranking.front()
};

enum class TierOneActionKind : std::uint8_t {
  claim,    // sign Claim{take, deadline} and start fetching
  fetch,    // this node's claim leads: keep (or start) fetching; no record
  abandon,  // a higher-ranked live claim exists: sign Claim{release}, stop fetching
  release,  // the claim is moot (another holds a copy, retracted, exempt, not counted):
            // sign Claim{release}, stop fetching
  give_up,  // this node cannot meet its deadline: sign Claim{release}, stop fetching
  decline,  // assigned, but local policy (quota, backlog) refuses: sign Claim{release}
  drop_surplus,  // this node's copy is surplus (TierOneDecision::surplus): unless a
                 // subscription wants it, stop seeding, sign Replica{dropped}, delete it
};
std::string_view to_string(TierOneActionKind k);

struct TierOneAction {
  TierOneActionKind kind = TierOneActionKind::fetch;
  std::string dataset_id;
  std::string version;
  std::int64_t deadline = 0;  // claim: the deadline to sign
  std::string why;            // one line for logs

  std::string instance_id() const { return dataset_id + "." + version; }
  // The claim record to sign at `now` (fetch, drop_surplus: none).
  std::optional<Claim> record(std::int64_t now) const;
};

}  // namespace fedswarm
