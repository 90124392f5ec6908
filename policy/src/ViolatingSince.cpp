#include "fedswarm/policy/ViolatingSince.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "fedswarm/policy/Clock.hpp"

namespace fedswarm {

std::int64_t violating_since(const TierOneCase& c, std::span<const TierOneMember> members, const TierOneConfig& config,
                             std::int64_t now) {
  const TierOneVersion& v = c.version;
  std::map<PublicKey, const TierOneMember*> counted;
  for (const auto& m : members)
    if (m.site != v.primary_site && m.key != v.primary) counted.emplace(m.key, &m);
  auto gone_at = [&](const TierOneMember& m) -> std::optional<std::int64_t> {
    if (m.alive) return std::nullopt;
    const std::int64_t t = add_time(m.down_since, config.grace_seconds);
    return t <= now ? std::optional<std::int64_t>(t) : std::nullopt;
  };
  std::map<PublicKey, const ReplicaLocation*> latest_replica;
  for (const auto& r : c.replicas) {
    auto& slot = latest_replica[r.node];
    if (!slot || newer_replica(r, *slot)) slot = &r;
  }
  std::map<PublicKey, const ClaimInfo*> latest_claim;
  for (const auto& cl : c.claims) {
    auto& slot = latest_claim[cl.node];
    if (!slot || newer_claim(cl, *slot)) slot = &cl;
  }
  std::int64_t since = v.published_at;
  for (const auto& [key, r] : latest_replica) {
    auto m = counted.find(key);
    if (m == counted.end()) continue;
    if (r->state == ReplicaState::dropped) since = std::max(since, r->at);
    else if (auto t = gone_at(*m->second)) since = std::max(since, *t);
  }
  for (const auto& [key, cl] : latest_claim) {
    auto m = counted.find(key);
    if (m == counted.end()) continue;
    if (cl->action == ClaimAction::release) {
      since = std::max(since, cl->made_at);
      continue;
    }
    const std::int64_t deadline = config.effective_deadline(*cl);
    if (deadline < now) since = std::max(since, deadline);
    else if (auto t = gone_at(*m->second)) since = std::max(since, *t);
  }
  return std::min(since, now);
}

}  // namespace fedswarm
