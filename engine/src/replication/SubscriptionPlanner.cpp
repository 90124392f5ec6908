#include "replication/SubscriptionPlanner.hpp"

#include <set>

namespace fedswarm {

Result<SubscriptionPlan> plan_from_catalog(const Catalog& catalog, std::span<const Subscription> subscriptions) {
  constexpr std::size_t kPage = 1000;  // bounds the memory of one search answer
  std::vector<SubscriptionCandidate> candidates;
  std::set<std::string> seen;
  for (const auto& s : subscriptions) {
    SearchQuery q;
    q.constraints = s.search_constraints();
    q.all_versions = true;
    q.include_retracted = true;
    q.limit = kPage;
    for (q.offset = 0;; q.offset += kPage) {
      FEDSWARM_ASSIGN_OR_RETURN(SearchResult r, catalog.search(q));
      for (const auto& d : r.docs) {
        if (!seen.insert(d.instance_id()).second) continue;
        FEDSWARM_ASSIGN_OR_RETURN(std::optional<LocalReplica> local, catalog.local(d.instance_id()));
        candidates.push_back(SubscriptionCandidate::from(d, local && local->state == LocalState::complete));
      }
      if (r.docs.size() < kPage || q.offset + kPage >= r.num_found) break;
    }
  }
  return plan_subscriptions(subscriptions, candidates, subscription_usage(subscriptions, candidates));
}

}  // namespace fedswarm
