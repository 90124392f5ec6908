// violating_since: when a version's violation of the one-Tier-1-copy rule began, as far
// as its records tell — the latest event that may have ended its last compliant or
// pending state: publication, a release, a claim's effective deadline, a dropped copy,
// a holder or claimant down for the grace period. Never earlier than the true start, so
// a violation never looks older than it is (alarms on `--max-age` use it). Only Tier-1
// members outside the primary's site count, as in the rule.
//
// Contract: pure (no I/O, no clock), thread-safe. `members`: the Tier-1 members with
// their liveness, any order.
#pragma once

#include <cstdint>
#include <span>

#include "fedswarm/policy/TierOneCase.hpp"
#include "fedswarm/policy/TierOneConfig.hpp"

namespace fedswarm {

std::int64_t violating_since(const TierOneCase& c, std::span<const TierOneMember> members, const TierOneConfig& config,
                             std::int64_t now);

}  // namespace fedswarm
