#include "fedswarm/policy/TierOneCase.hpp"

namespace fedswarm {

std::vector<TierOneMember> TierOneMember::of(const Roster& roster) {
  std::vector<TierOneMember> out;
  for (const auto& m : roster.members) {
    if (m.tier != Tier::tier1) continue;
    TierOneMember t;
    t.key = m.key;
    t.site = m.site;
    t.capacity = m.capacity;
    out.push_back(std::move(t));
  }
  return out;
}

TierOneVersion TierOneVersion::from(const VersionInfo& info) {
  TierOneVersion v;
  v.dataset_id = info.dataset_id;
  v.version = info.version;
  v.size = info.size;
  v.primary = info.publisher;
  v.primary_site = info.data_node;
  v.published_at = info.published_at;
  v.previous_version = info.supersedes;
  v.status = info.status;
  return v;
}

// On equal times the more conservative record wins: a drop over a copy, a release over
// a take. Anything else is equivalent for the rule.
bool newer_replica(const ReplicaLocation& a, const ReplicaLocation& b) {
  if (a.at != b.at) return a.at > b.at;
  return a.state == ReplicaState::dropped && b.state == ReplicaState::complete;
}

bool newer_claim(const ClaimInfo& a, const ClaimInfo& b) {
  if (a.made_at != b.made_at) return a.made_at > b.made_at;
  if (a.action != b.action) return a.action == ClaimAction::release;
  return a.deadline > b.deadline;
}

}  // namespace fedswarm
