// SubscriptionPlan: which dataset versions a node wants, given its subscriptions, the
// candidate versions of its catalog and what its subscriptions already hold (DESIGN §7).
//
// Rules (the same inputs give the same plan on every run):
// - Only the latest, unretracted version of a dataset is wanted. Superseded and
//   retracted versions are never wanted (what happens to a local copy of them is the
//   retraction action's or the operator's business, not the plan's).
// - A version matched by several subscriptions is counted once, for the first of them
//   in priority order that takes it.
// - Priority order: higher `priority` first, ties by name. Subscriptions are served one
//   after the other in that order, so a higher-priority subscription's versions are
//   fetched first and charged first.
// - Within a subscription, versions are taken oldest first (published_at, then
//   instance_id): a quota fills up in publication order and a version published later
//   never evicts one already held. A version too large for the room left is skipped and
//   smaller later ones may still fit (first fit); a skipped version may still be taken
//   by a lower-priority subscription that matches it and has room.
// - A version already held locally (`held`) is always wanted and never charged again:
//   its bytes are part of `usage`. A quota lowered below the usage only stops new
//   fetches; the plan never removes anything.
//
// Contract: pure (no I/O, no clock); thread-safe; O(subscriptions × candidates).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fedswarm/policy/Subscription.hpp"
#include "fedswarm/storage/SearchQuery.hpp"

namespace fedswarm {

// One dataset version as the planner sees it (from a catalog search with
// all_versions + include_retracted, plus the local replica state).
struct SubscriptionCandidate {
  std::string dataset_id;
  std::string version;
  std::vector<Facet> facets;  // indexed facets, as SearchDoc::facets
  std::uint64_t size = 0;
  std::int64_t published_at = 0;
  bool latest = false;
  bool retracted = false;
  bool held = false;  // a complete local replica exists

  std::string instance_id() const { return dataset_id + "." + version; }
  static SubscriptionCandidate from(const SearchDoc& doc, bool held);
};

// Bytes of local replicas charged to each subscription, by name.
using SubscriptionUsage = std::map<std::string, std::uint64_t, std::less<>>;

struct PlannedVersion {
  std::string instance_id;
  std::string subscription;  // the subscription it is charged to (or, if over quota, the first match)
  std::uint64_t size = 0;
  bool held = false;         // already complete locally: keep it, nothing to fetch
};

struct SubscriptionSummary {
  std::string name;
  std::uint64_t matched_versions = 0;  // latest, unretracted versions matching its constraints
  std::uint64_t matched_bytes = 0;
  std::uint64_t held_versions = 0;     // of those charged to it, already complete locally
  std::uint64_t held_bytes = 0;
  std::uint64_t fetch_versions = 0;    // charged to it and still to fetch
  std::uint64_t fetch_bytes = 0;
  std::uint64_t over_quota_versions = 0;  // matched, taken by no subscription for want of room
  std::uint64_t over_quota_bytes = 0;
  std::uint64_t used_bytes = 0;        // usage + fetch_bytes
};

struct SubscriptionPlan {
  // Held versions first (in candidate order), then versions to fetch in fetch order.
  std::vector<PlannedVersion> wanted;
  std::vector<PlannedVersion> over_quota;
  std::vector<SubscriptionSummary> summaries;  // in priority order

  bool wants(std::string_view instance_id) const;
};

// Subscriptions sorted by priority (higher first), ties by name.
std::vector<const Subscription*> priority_order(std::span<const Subscription> subscriptions);

// `usage`: bytes already held for each subscription (see subscription_usage); missing
// names count as 0. Duplicate candidates (same instance_id) are considered once.
SubscriptionPlan plan_subscriptions(std::span<const Subscription> subscriptions,
                                    std::span<const SubscriptionCandidate> candidates, const SubscriptionUsage& usage);

// Charges every held candidate (whatever its status: an old version still on disk
// takes room) to the first matching subscription in priority order. Unmatched held
// versions are charged to no one.
SubscriptionUsage subscription_usage(std::span<const Subscription> subscriptions,
                                     std::span<const SubscriptionCandidate> candidates);

}  // namespace fedswarm
