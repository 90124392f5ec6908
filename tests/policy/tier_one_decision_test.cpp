#include <doctest/doctest.h>

#include "fedswarm/policy/Clock.hpp"
#include "fedswarm/policy/TierOneDecision.hpp"

using namespace fedswarm;

TEST_CASE("tier-1 status, cause and blocker names read back to the same values, unknown names to nothing") {
  for (auto s : {TierOneStatus::compliant, TierOneStatus::pending, TierOneStatus::violating, TierOneStatus::exempt})
    CHECK(tier_one_status_from(to_string(s)) == s);
  for (auto c : {TierOneCause::none, TierOneCause::retracted, TierOneCause::superseded, TierOneCause::unclaimed,
                 TierOneCause::claim_released, TierOneCause::claim_expired, TierOneCause::claimant_down,
                 TierOneCause::copy_dropped, TierOneCause::holders_down})
    CHECK(tier_one_cause_from(to_string(c)) == c);
  for (auto b : {TierOneBlocker::none, TierOneBlocker::no_eligible_tier1, TierOneBlocker::all_passed})
    CHECK(tier_one_blocker_from(to_string(b)) == b);
  CHECK_FALSE(tier_one_status_from("Compliant"));
  CHECK_FALSE(tier_one_cause_from(""));
  CHECK_FALSE(tier_one_blocker_from("all_passed "));
}

TEST_CASE("add_time saturates at kMaxTime instead of overflowing") {
  CHECK(add_time(10, 5) == 15);
  CHECK(add_time(10, -5) == 5);
  CHECK(add_time(kMaxTime - 1, 5) == kMaxTime);
  CHECK(add_time(kMaxTime, 0) == kMaxTime);
}
