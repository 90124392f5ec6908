#include "fedswarm/policy/TierOneDecision.hpp"

namespace fedswarm {

std::string_view to_string(TierOneStatus s) {
  switch (s) {
    case TierOneStatus::compliant: return "compliant";
    case TierOneStatus::pending: return "pending";
    case TierOneStatus::violating: return "violating";
    case TierOneStatus::exempt: return "exempt";
  }
  return "violating";
}

std::string_view to_string(TierOneCause c) {
  switch (c) {
    case TierOneCause::none: return "none";
    case TierOneCause::retracted: return "retracted";
    case TierOneCause::superseded: return "superseded";
    case TierOneCause::unclaimed: return "unclaimed";
    case TierOneCause::claim_released: return "claim_released";
    case TierOneCause::claim_expired: return "claim_expired";
    case TierOneCause::claimant_down: return "claimant_down";
    case TierOneCause::copy_dropped: return "copy_dropped";
    case TierOneCause::holders_down: return "holders_down";
  }
  return "none";
}

std::string_view to_string(TierOneBlocker b) {
  switch (b) {
    case TierOneBlocker::none: return "none";
    case TierOneBlocker::no_eligible_tier1: return "no_eligible_tier1";
    case TierOneBlocker::all_passed: return "all_passed";
  }
  return "none";
}

std::string_view to_string(TierOneActionKind k) {
  switch (k) {
    case TierOneActionKind::claim: return "claim";
    case TierOneActionKind::fetch: return "fetch";
    case TierOneActionKind::abandon: return "abandon";
    case TierOneActionKind::release: return "release";
    case TierOneActionKind::give_up: return "give_up";
    case TierOneActionKind::decline: return "decline";
    case TierOneActionKind::drop_surplus: return "drop_surplus";
  }
  return "fetch";
}

std::optional<PublicKey> TierOneDecision::claimant() const {
  if (status != TierOneStatus::pending || live_claims.empty()) return std::nullopt;
  return live_claims.front();
}

std::optional<PublicKey> TierOneDecision::assignee() const {
  if (status != TierOneStatus::violating || blocker != TierOneBlocker::none || ranking.empty()) return std::nullopt;
  return ranking.front();
}

std::optional<Claim> TierOneAction::record(std::int64_t now) const {
  Claim c;
  c.dataset_id = dataset_id;
  c.version = version;
  c.made_at = now;
  switch (kind) {
    case TierOneActionKind::fetch:
    case TierOneActionKind::drop_surplus: return std::nullopt;
    case TierOneActionKind::claim:
      c.action = ClaimAction::take;
      c.deadline = deadline;
      return c;
    case TierOneActionKind::abandon:
    case TierOneActionKind::release:
    case TierOneActionKind::give_up:
    case TierOneActionKind::decline:
      // A release's deadline means nothing; `now` keeps the record self-consistent.
      c.action = ClaimAction::release;
      c.deadline = now;
      return c;
  }
  return std::nullopt;
}

}  // namespace fedswarm
