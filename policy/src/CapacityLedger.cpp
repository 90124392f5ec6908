#include "fedswarm/policy/CapacityLedger.hpp"

#include <iterator>
#include <limits>

namespace fedswarm {

bool claim_reserves(const TierOneConfig& config, const ClaimInfo& claim, bool node_holds_complete, bool retracted,
                    std::int64_t now) {
  return claim.action == ClaimAction::take && !node_holds_complete && !retracted &&
         config.effective_deadline(claim) >= now;
}

CapacityLedger::CapacityLedger(TierOneConfig config) : config_(config) {}

// Adds (sign +1) or removes (sign -1) one entry's contribution. Every change goes
// through remove-old / change / add-new, so the sums never drift from the entries.
void CapacityLedger::add(const PublicKey& node, const Version& v, const Entry& e, int sign) {
  Node& n = nodes_[node];
  if (e.complete) {
    n.complete_bytes = sign > 0 ? n.complete_bytes + v.size : n.complete_bytes - v.size;
    return;
  }
  if (!e.has_claim || e.claim.action != ClaimAction::take || v.retracted) return;
  // The time test is the map's: deadlines < n.now sit in `expired`.
  const std::int64_t d = config_.effective_deadline(e.claim);
  const bool live = d >= n.now;
  auto& bucket = live ? n.live : n.expired;
  if (sign > 0) {
    bucket[d] += v.size;
    if (live) n.live_bytes += v.size;
  } else {
    auto it = bucket.find(d);
    it->second -= v.size;
    if (it->second == 0) bucket.erase(it);
    if (live) n.live_bytes -= v.size;
  }
}

void CapacityLedger::put_version(std::string_view instance_id, std::uint64_t size, bool retracted) {
  auto it = versions_.find(instance_id);
  if (it == versions_.end()) it = versions_.emplace(std::string(instance_id), Version{}).first;
  Version& v = it->second;
  for (const auto& [node, e] : v.nodes) add(node, v, e, -1);
  v.size = size;
  v.retracted = retracted;
  for (const auto& [node, e] : v.nodes) add(node, v, e, +1);
}

void CapacityLedger::put_replica(std::string_view instance_id, const ReplicaLocation& replica) {
  auto it = versions_.find(instance_id);
  if (it == versions_.end()) it = versions_.emplace(std::string(instance_id), Version{}).first;
  Version& v = it->second;
  Entry& e = v.nodes[replica.node];
  add(replica.node, v, e, -1);
  e.complete = replica.state == ReplicaState::complete;
  add(replica.node, v, e, +1);
}

void CapacityLedger::put_claim(std::string_view instance_id, const ClaimInfo& claim) {
  auto it = versions_.find(instance_id);
  if (it == versions_.end()) it = versions_.emplace(std::string(instance_id), Version{}).first;
  Version& v = it->second;
  Entry& e = v.nodes[claim.node];
  add(claim.node, v, e, -1);
  e.has_claim = true;
  e.claim = claim;
  add(claim.node, v, e, +1);
}

// Moves buckets across the `now` split; each bucket moves once per crossing, so a
// monotone clock costs O(log n) per claim over its lifetime.
void CapacityLedger::advance(Node& n, std::int64_t now) {
  if (now > n.now) {
    while (!n.live.empty() && n.live.begin()->first < now) {
      auto node = n.live.extract(n.live.begin());
      n.live_bytes -= node.mapped();
      n.expired.insert(std::move(node));
    }
  } else if (now < n.now) {
    while (!n.expired.empty() && std::prev(n.expired.end())->first >= now) {
      auto node = n.expired.extract(std::prev(n.expired.end()));
      n.live_bytes += node.mapped();
      n.live.insert(std::move(node));
    }
  }
  n.now = now;
}

std::uint64_t CapacityLedger::committed(const PublicKey& node, std::int64_t now) {
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return 0;
  advance(it->second, now);
  return it->second.complete_bytes + it->second.live_bytes;
}

void CapacityLedger::fill(std::span<TierOneMember> members, std::int64_t now) {
  for (auto& m : members) m.committed = committed(m.key, now);
}

}  // namespace fedswarm
