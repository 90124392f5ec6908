#include <doctest/doctest.h>

#include "TierOneRuleFixture.hpp"

using namespace fedswarm;

namespace {

// x held the version first; y repaired it while x was down past grace; x is back.
struct SurplusFixture : Fixture {
  std::uint8_t x = 0, y = 0, z = 0;
  static constexpr std::int64_t kBack = T0 + 100000;  // x's liveness came up

  explicit SurplusFixture(TierOneConfig cfg = {}) : Fixture(cfg) {
    const auto chain = reference_ranking(T0);
    x = chain[0];
    y = chain[1];
    z = chain[2];
    claims = {take(x, T0 + 7200, T0), take(y, T0 + 60000, T0 + 30000)};
    reps = {replica(x, ReplicaState::complete, T0 + 3000), replica(y, ReplicaState::complete, T0 + 40000)};
    m(x).up_since = kBack;
  }
  std::int64_t settled() const { return kBack + rule.config().surplus_settle_seconds; }
};

}  // namespace

TEST_CASE("surplus copies: the repair copy is released once the original holder is back and settled") {
  SurplusFixture f;
  auto d = f.judge(SurplusFixture::kBack);
  CHECK(d.status == TierOneStatus::compliant);
  CHECK(nodes_of(d.holders).size() == 2);
  REQUIRE(d.keeper);
  CHECK(*d.keeper == key(f.x));  // the oldest complete record: the original holder
  CHECK(d.release_at == f.settled());
  CHECK(d.surplus.empty());
  for (std::uint8_t n = 1; n <= 5; ++n) CHECK(f.act(n, f.settled() - 1).empty());

  d = f.judge(f.settled());
  CHECK(nodes_of(d.surplus) == std::vector<std::uint8_t>{f.y});
  auto a = f.act(f.y, f.settled());
  REQUIRE(a.size() == 1);
  CHECK(a[0].kind == TierOneActionKind::drop_surplus);
  CHECK(a[0].instance_id() == f.v.instance_id());
  CHECK_FALSE(a[0].record(f.settled()));  // a replica record, signed by the engine
  CHECK(to_string(a[0].kind) == "drop_surplus");
  // The keeper and everyone else: nothing to do.
  for (std::uint8_t n = 1; n <= 5; ++n)
    if (n != f.y) CHECK(f.act(n, f.settled()).empty());

  // Once y's dropped record is in: one copy, nothing left to do.
  f.reps[1] = replica(f.y, ReplicaState::dropped, f.settled() + 5);
  d = f.judge(f.settled() + 10);
  CHECK(d.status == TierOneStatus::compliant);
  CHECK(nodes_of(d.holders) == std::vector<std::uint8_t>{f.x});
  CHECK_FALSE(d.keeper);
  CHECK(d.surplus.empty());
  for (std::uint8_t n = 1; n <= 5; ++n) CHECK(f.act(n, f.settled() + 10).empty());
}

TEST_CASE("surplus copies: nothing is released while the keeper is not alive, settled and complete") {
  SurplusFixture f;
  SUBCASE("the keeper is down (within grace: its copy still counts)") {
    f.m(f.x).alive = false;
    f.m(f.x).down_since = f.settled() + 10;
    auto d = f.judge(f.settled() + 20);
    CHECK(d.keeper == key(f.x));
    CHECK(d.release_at == std::numeric_limits<std::int64_t>::max());
    CHECK(d.surplus.empty());
    CHECK(f.act(f.y, f.settled() + 20).empty());
  }
  SUBCASE("the keeper came up again later: its new up_since counts") {
    f.m(f.x).up_since = f.settled() - 5;
    CHECK(f.judge(f.settled()).surplus.empty());
    CHECK(f.judge(f.settled() - 5 + 3600).surplus.size() == 1);
  }
  SUBCASE("the keeper's complete record is recent: it must be settle old too") {
    f.reps[0] = replica(f.x, ReplicaState::complete, f.settled() - 100);
    f.reps[1] = replica(f.y, ReplicaState::complete, T0 + 3000 - 1);  // y is now the older
    auto d = f.judge(f.settled());
    CHECK(d.keeper == key(f.y));
    f.reps[1] = replica(f.y, ReplicaState::complete, f.settled() - 50);  // x older again
    d = f.judge(f.settled());
    CHECK(d.keeper == key(f.x));
    CHECK(d.release_at == f.settled() - 100 + 3600);
    CHECK(d.surplus.empty());
    CHECK(f.judge(f.settled() - 100 + 3600).surplus.size() == 1);
  }
  SUBCASE("the keeper's copy was dropped: no keeper, nothing surplus") {
    f.reps[0] = replica(f.x, ReplicaState::dropped, f.settled() - 100);
    auto d = f.judge(f.settled());
    CHECK(nodes_of(d.holders) == std::vector<std::uint8_t>{f.y});
    CHECK_FALSE(d.keeper);
    CHECK(f.act(f.y, f.settled()).empty());
  }
  SUBCASE("the keeper is down past grace: it does not count, the single copy stays") {
    f.m(f.x).alive = false;
    f.m(f.x).down_since = f.settled() - f.rule.config().grace_seconds - 1;
    auto d = f.judge(f.settled());
    CHECK(nodes_of(d.holders) == std::vector<std::uint8_t>{f.y});
    CHECK(f.act(f.y, f.settled()).empty());
  }
  SUBCASE("a copy at the primary's site is neither keeper nor surplus") {
    f.v.primary_site = f.m(f.x).site;  // x's own copy no longer counts
    auto d = f.judge(f.settled());
    CHECK(nodes_of(d.holders) == std::vector<std::uint8_t>{f.y});
    CHECK(f.act(f.y, f.settled()).empty());
    CHECK(f.act(f.x, f.settled()).empty());
  }
  SUBCASE("the settle time is this node's setting") {
    TierOneConfig quick;
    quick.surplus_settle_seconds = 0;
    SurplusFixture g(quick);
    CHECK(g.act(g.y, SurplusFixture::kBack).at(0).kind == TierOneActionKind::drop_surplus);
  }
}

TEST_CASE("surplus copies: three holders keep exactly one, equal record times go to the lower key") {
  SurplusFixture f;
  f.reps.push_back(replica(f.z, ReplicaState::complete, T0 + 45000));
  auto d = f.judge(f.settled());
  CHECK(d.keeper == key(f.x));
  CHECK(d.surplus.size() == 2);
  for (std::uint8_t n : {f.y, f.z}) CHECK(f.act(n, f.settled()).at(0).kind == TierOneActionKind::drop_surplus);
  CHECK(f.act(f.x, f.settled()).empty());
  // Equal times: the lowest key keeps.
  f.reps = {replica(f.x, ReplicaState::complete, T0), replica(f.y, ReplicaState::complete, T0),
            replica(f.z, ReplicaState::complete, T0)};
  const std::uint8_t lowest = std::min({f.x, f.y, f.z});
  f.m(lowest).up_since = SurplusFixture::kBack;
  d = f.judge(f.settled());
  CHECK(d.keeper == key(lowest));
  CHECK(d.surplus.size() == 2);
}

TEST_CASE("surplus copies: whatever each holder's view of liveness, never every holder drops (seeded)") {
  // Each holder decides from its own view: itself alive, the others' liveness and
  // up_since arbitrary. The holder with the oldest record is the keeper in its own view,
  // so at least one copy stays.
  const std::uint64_t seed = test::test_seed();
  MESSAGE("seed " << seed);
  std::mt19937_64 rng(seed);
  int drops = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    Fixture f;
    const int holders = 2 + static_cast<int>(rng() % 4);
    std::vector<std::uint8_t> hs;
    for (std::uint8_t n = 1; n <= 5 && static_cast<int>(hs.size()) < holders; ++n)
      if (rng() % 3 != 0) hs.push_back(n);
    if (hs.size() < 2) continue;
    for (auto n : hs)
      f.reps.push_back(replica(n, ReplicaState::complete, T0 + static_cast<std::int64_t>(rng() % 4) * 1000));
    const std::int64_t now = T0 + 20000 + static_cast<std::int64_t>(rng() % 30000);
    std::size_t dropping = 0;
    for (auto self : hs) {
      Fixture view = f;
      for (std::uint8_t n = 1; n <= 5; ++n) {
        TierOneMember& m = view.m(n);
        if (n == self) continue;  // alive to itself
        m.alive = rng() % 3 != 0;
        m.down_since = now - static_cast<std::int64_t>(rng() % 40000);
        m.up_since = now - static_cast<std::int64_t>(rng() % 8000);
      }
      auto a = view.act(self, now);
      if (!a.empty() && a[0].kind == TierOneActionKind::drop_surplus) ++dropping;
    }
    drops += static_cast<int>(dropping);
    CHECK(dropping < hs.size());
  }
  CHECK(drops > 0);
}
