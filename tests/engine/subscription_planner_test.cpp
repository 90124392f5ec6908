#include <doctest/doctest.h>

#include "ReplicaPair.hpp"
#include "replication/SubscriptionPlanner.hpp"

using namespace fedswarm;

namespace {

Subscription make(const std::string& name, const std::string& text, std::optional<std::uint64_t> quota = std::nullopt,
                  std::int64_t priority = 0) {
  auto c = parse_constraints(text);
  REQUIRE_MESSAGE(c.ok(), c.error().message);
  return Subscription{name, std::move(*c), quota, priority};
}

std::uint64_t size_of(Catalog& c, const std::string& id) {
  auto v = c.version(id);
  REQUIRE(v.ok());
  REQUIRE(v->has_value());
  return (*v)->size;
}

}  // namespace

TEST_CASE("plan_from_catalog: latest versions wanted, held copies charged, quotas and retractions respected") {
  test::ReplicaPair pair;
  Catalog& cat = pair.holder().cat();
  const auto& s = pair.sample();  // dataset A: s[0] (old), s[1] (latest); dataset B: s[2], s[3]
  std::vector<Subscription> subs{make("a", "master_id=" + s[0].dataset_id, std::nullopt, 1), make("all", "project=CMIP6")};

  auto plan = plan_from_catalog(cat, subs);
  REQUIRE_MESSAGE(plan.ok(), plan.error().message);
  REQUIRE(plan->wanted.size() == 2);
  CHECK(plan->wanted[0].instance_id == s[1].instance_id());
  CHECK(plan->wanted[0].subscription == "a");  // higher priority
  CHECK(plan->wanted[1].instance_id == s[3].instance_id());
  CHECK(plan->wanted[1].subscription == "all");
  CHECK_FALSE(plan->wanted[0].held);

  // Held: the latest of A and an old copy of A, both charged to "a".
  pair.place_replica(s[1]);
  pair.place_replica(s[0]);
  plan = plan_from_catalog(cat, subs);
  REQUIRE(plan.ok());
  CHECK(plan->wants(s[1].instance_id()));
  CHECK_FALSE(plan->wants(s[0].instance_id()));
  CHECK(plan->summaries[0].name == "a");
  CHECK(plan->summaries[0].held_versions == 1);
  CHECK(plan->summaries[0].used_bytes == size_of(cat, s[0].instance_id()) + size_of(cat, s[1].instance_id()));

  // A quota "all" cannot meet leaves B's latest over quota.
  subs[1].quota = size_of(cat, s[3].instance_id()) - 1;
  plan = plan_from_catalog(cat, subs);
  REQUIRE(plan.ok());
  CHECK_FALSE(plan->wants(s[3].instance_id()));
  REQUIRE(plan->over_quota.size() == 1);
  CHECK(plan->over_quota[0].instance_id == s[3].instance_id());

  // Retracting A's latest: nothing of A is wanted any more (no older version steps in).
  pair.retract(s[1]);
  plan = plan_from_catalog(cat, subs);
  REQUIRE(plan.ok());
  CHECK_FALSE(plan->wants(s[1].instance_id()));
  CHECK_FALSE(plan->wants(s[0].instance_id()));
}
