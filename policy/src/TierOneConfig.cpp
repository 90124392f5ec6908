#include "fedswarm/policy/TierOneConfig.hpp"

#include <cmath>
#include <limits>

namespace fedswarm {

namespace {

// Claims are signed by members but their times are still data from the network: add
// without overflowing.
std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  if (b > 0 && a > std::numeric_limits<std::int64_t>::max() - b) return std::numeric_limits<std::int64_t>::max();
  if (b < 0 && a < std::numeric_limits<std::int64_t>::min() - b) return std::numeric_limits<std::int64_t>::min();
  return a + b;
}

double effective_rate(const TierOneConfig& c, double observed) {
  // `!(observed > min)` also catches NaN.
  return !(observed > c.min_rate) ? c.min_rate : observed;
}

}  // namespace

std::int64_t TierOneConfig::effective_deadline(const ClaimInfo& claim) const {
  std::int64_t cap = saturating_add(claim.made_at, max_claim_seconds);
  return claim.deadline < cap ? claim.deadline : cap;
}

double TierOneConfig::expected_seconds(std::uint64_t size, std::uint64_t backlog, double observed_rate) const {
  double bytes = static_cast<double>(size) + static_cast<double>(backlog);
  return static_cast<double>(claim_base_seconds) + bytes / effective_rate(*this, observed_rate);
}

std::int64_t TierOneConfig::claim_deadline(std::int64_t now, std::uint64_t size, std::uint64_t backlog,
                                           double observed_rate) const {
  double bytes = static_cast<double>(size) + static_cast<double>(backlog);
  double seconds = static_cast<double>(claim_base_seconds) + std::ceil(deadline_slack * bytes / effective_rate(*this, observed_rate));
  // Compare in double before converting: a huge backlog must not overflow the cast.
  std::int64_t span = seconds >= static_cast<double>(max_claim_seconds) ? max_claim_seconds : static_cast<std::int64_t>(seconds);
  return saturating_add(now, span);
}

}  // namespace fedswarm
