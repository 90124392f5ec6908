#include "fedswarm/policy/SubscriptionPlan.hpp"

#include <algorithm>
#include <numeric>
#include <set>
#include <tuple>

namespace fedswarm {

SubscriptionCandidate SubscriptionCandidate::from(const SearchDoc& doc, bool held) {
  SubscriptionCandidate c;
  c.dataset_id = doc.dataset_id;
  c.version = doc.version;
  c.facets = doc.facets;
  c.size = doc.size;
  c.published_at = doc.published_at;
  c.latest = doc.latest;
  c.retracted = doc.retracted;
  c.held = held;
  return c;
}

bool SubscriptionPlan::wants(std::string_view instance_id) const {
  return std::any_of(wanted.begin(), wanted.end(), [&](const PlannedVersion& p) { return p.instance_id == instance_id; });
}

std::vector<const Subscription*> priority_order(std::span<const Subscription> subscriptions) {
  std::vector<const Subscription*> out;
  out.reserve(subscriptions.size());
  for (const auto& s : subscriptions) out.push_back(&s);
  std::stable_sort(out.begin(), out.end(), [](const Subscription* a, const Subscription* b) {
    if (a->priority != b->priority) return a->priority > b->priority;
    return a->name < b->name;
  });
  return out;
}

namespace {

// Candidate indices with duplicates (by instance_id) removed, first occurrence kept.
std::vector<std::size_t> unique_candidates(std::span<const SubscriptionCandidate> candidates) {
  std::set<std::string> seen;
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < candidates.size(); ++i)
    if (seen.insert(candidates[i].instance_id()).second) out.push_back(i);
  return out;
}

// For each candidate, the positions in `order` of the subscriptions matching it.
std::vector<std::vector<std::size_t>> match_table(const std::vector<const Subscription*>& order,
                                                  std::span<const SubscriptionCandidate> candidates) {
  std::vector<std::vector<std::size_t>> out(candidates.size());
  for (std::size_t c = 0; c < candidates.size(); ++c)
    for (std::size_t s = 0; s < order.size(); ++s)
      if (order[s]->matches(candidates[c].dataset_id, candidates[c].facets)) out[c].push_back(s);
  return out;
}

bool fits(const std::optional<std::uint64_t>& quota, std::uint64_t used, std::uint64_t size) {
  if (!quota) return true;
  return used <= *quota && size <= *quota - used;
}

}  // namespace

SubscriptionPlan plan_subscriptions(std::span<const Subscription> subscriptions,
                                    std::span<const SubscriptionCandidate> candidates, const SubscriptionUsage& usage) {
  const std::vector<const Subscription*> order = priority_order(subscriptions);
  const auto matches = match_table(order, candidates);
  SubscriptionPlan plan;
  std::vector<std::uint64_t> used(order.size(), 0);
  for (std::size_t s = 0; s < order.size(); ++s) {
    SubscriptionSummary sum;
    sum.name = order[s]->name;
    if (auto it = usage.find(order[s]->name); it != usage.end()) used[s] = it->second;
    plan.summaries.push_back(std::move(sum));
  }

  // Only the latest, unretracted version of a dataset is ever wanted.
  std::vector<std::size_t> eligible;
  for (std::size_t c : unique_candidates(candidates))
    if (candidates[c].latest && !candidates[c].retracted && !matches[c].empty()) eligible.push_back(c);
  for (std::size_t c : eligible)
    for (std::size_t s : matches[c]) {
      ++plan.summaries[s].matched_versions;
      plan.summaries[s].matched_bytes += candidates[c].size;
    }

  // Held versions stay wanted; their bytes are already in `usage`.
  std::vector<bool> taken(candidates.size(), false);
  for (std::size_t c : eligible) {
    if (!candidates[c].held) continue;
    std::size_t s = matches[c].front();
    plan.wanted.push_back({candidates[c].instance_id(), order[s]->name, candidates[c].size, true});
    ++plan.summaries[s].held_versions;
    plan.summaries[s].held_bytes += candidates[c].size;
    taken[c] = true;
  }

  // The rest in publication order, one subscription after the other by priority.
  std::vector<std::size_t> by_age = eligible;
  std::stable_sort(by_age.begin(), by_age.end(), [&](std::size_t a, std::size_t b) {
    return std::forward_as_tuple(candidates[a].published_at, candidates[a].dataset_id, candidates[a].version) <
           std::forward_as_tuple(candidates[b].published_at, candidates[b].dataset_id, candidates[b].version);
  });
  for (std::size_t s = 0; s < order.size(); ++s) {
    for (std::size_t c : by_age) {
      if (taken[c] || std::find(matches[c].begin(), matches[c].end(), s) == matches[c].end()) continue;
      if (!fits(order[s]->quota, used[s], candidates[c].size)) continue;
      used[s] += candidates[c].size;
      taken[c] = true;
      plan.wanted.push_back({candidates[c].instance_id(), order[s]->name, candidates[c].size, false});
      ++plan.summaries[s].fetch_versions;
      plan.summaries[s].fetch_bytes += candidates[c].size;
    }
  }
  for (std::size_t c : by_age) {
    if (taken[c]) continue;
    std::size_t s = matches[c].front();
    plan.over_quota.push_back({candidates[c].instance_id(), order[s]->name, candidates[c].size, false});
    ++plan.summaries[s].over_quota_versions;
    plan.summaries[s].over_quota_bytes += candidates[c].size;
  }
  for (std::size_t s = 0; s < order.size(); ++s) plan.summaries[s].used_bytes = used[s];
  return plan;
}

SubscriptionUsage subscription_usage(std::span<const Subscription> subscriptions,
                                     std::span<const SubscriptionCandidate> candidates) {
  const std::vector<const Subscription*> order = priority_order(subscriptions);
  SubscriptionUsage usage;
  for (std::size_t c : unique_candidates(candidates)) {
    if (!candidates[c].held) continue;
    for (const Subscription* s : order)
      if (s->matches(candidates[c].dataset_id, candidates[c].facets)) {
        usage[s->name] += candidates[c].size;
        break;
      }
  }
  return usage;
}

}  // namespace fedswarm
