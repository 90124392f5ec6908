// plan_from_catalog: the node's subscription plan (policy/SubscriptionPlan.hpp) computed
// from its catalog — what the daemon calls after the catalog or the subscriptions
// changed, to know which versions to fetch.
//
// Candidates are gathered per subscription with the catalog's search (all versions,
// retracted included, so held copies of old versions are charged to their subscription
// too), each version once; `held` = a complete local replica. The cost is one search
// per subscription plus one local-state lookup per matched version — proportional to
// what the subscriptions match, not to the catalog.
//
// Contract: reads only; thread-safe as the catalog is. Errors: the catalog's.
#pragma once

#include <span>

#include "fedswarm/policy/SubscriptionPlan.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

Result<SubscriptionPlan> plan_from_catalog(const Catalog& catalog, std::span<const Subscription> subscriptions);

}  // namespace fedswarm
