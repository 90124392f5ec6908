#include "fedswarm/policy/TierOneDecision.hpp"

namespace fedswarm {

namespace {

// The inverse of to_string over an enum's values 0..last.
template <class E>
std::optional<E> enum_from(std::string_view s, E last) {
  for (int v = 0; v <= static_cast<int>(last); ++v)
    if (to_string(static_cast<E>(v)) == s) return static_cast<E>(v);
  return std::nullopt;
}

}  // namespace

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

std::optional<TierOneStatus> tier_one_status_from(std::string_view s) { return enum_from(s, TierOneStatus::exempt); }
std::optional<TierOneCause> tier_one_cause_from(std::string_view s) { return enum_from(s, TierOneCause::holders_down); }
std::optional<TierOneBlocker> tier_one_blocker_from(std::string_view s) {
  return enum_from(s, TierOneBlocker::all_passed);
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
