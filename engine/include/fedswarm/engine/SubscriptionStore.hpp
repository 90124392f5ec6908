// SubscriptionStore: a node's subscriptions, kept in <home>/subscriptions.toml (DESIGN
// §7; policy/Subscription.hpp says what a subscription is and means).
//
//   [[subscription]]
//   name = "historical-Amon"
//   facets = { experiment_id = ["historical"], table_id = ["Amon"] }   # AND across, OR within
//   quota = 10737418240   # optional, bytes
//   priority = 0          # optional, higher first
//
// Contract
// - A missing file is an empty store. `load` refuses (invalid) a malformed file with
//   the file, line, subscription and what is accepted: TOML syntax (subscriptions_syntax),
//   unknown keys (subscriptions_unknown_key — a typo must not silently widen a
//   subscription), wrong types (subscriptions_bad_value), duplicate names
//   (subscription_duplicate), and policy/Subscription's reasons for names and
//   constraints, facet names and vocabulary values checked against the node's
//   project templates.
// - `save` writes the whole file atomically (storage AtomicFile): a reader sees the
//   old file or the new one. `modify` is the safe read-modify-write for concurrent
//   CLI commands: it holds an exclusive lock (<home>/.subscriptions.lock, flock) across
//   load, change and save.
// - The node daemon re-reads the file when notified (`fedswarm subscribe` pokes it) or
//   at start; the store itself keeps no cache and watches nothing.
// - Value type; not thread-safe; `projects` must outlive the store.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fedswarm/policy/Subscription.hpp"
#include "fedswarm/protocol/ProjectTemplate.hpp"

namespace fedswarm {

class SubscriptionStore {
 public:
  static std::filesystem::path file_of(const std::filesystem::path& home) { return home / "subscriptions.toml"; }

  static Result<SubscriptionStore> load(const std::filesystem::path& home, const ProjectRegistry& projects);
  // Locks, loads, applies `change` and, if it succeeded, saves; the change's error
  // otherwise (nothing written).
  static Result<SubscriptionStore> modify(const std::filesystem::path& home, const ProjectRegistry& projects,
                                          const std::function<Status(SubscriptionStore&)>& change);

  const std::vector<Subscription>& subscriptions() const { return subs_; }
  const Subscription* find(std::string_view name) const;

  // Validates `s` (name, constraints, facets against the projects) and appends it. An
  // empty name gets default_subscription_name. Errors: the policy reasons,
  // subscription_duplicate (conflict) for a taken name. Returns the stored subscription.
  Result<Subscription> add(Subscription s);
  // not_found (subscription_unknown) if no subscription has this name.
  Status remove(std::string_view name);

  std::string render() const;  // the file's text
  Status save() const;

 private:
  SubscriptionStore(std::filesystem::path home, const ProjectRegistry& projects)
      : home_(std::move(home)), projects_(&projects) {}
  Status check(const Subscription& s) const;

  std::filesystem::path home_;
  const ProjectRegistry* projects_;
  std::vector<Subscription> subs_;
};

}  // namespace fedswarm
