#include <doctest/doctest.h>

#include "TierOneRuleFixture.hpp"

using namespace fedswarm;

TEST_CASE("retracted versions carry no obligation and their claims are released") {
  Fixture f;
  const auto chain = f.reference_ranking(T0);
  f.claims.push_back(take(chain[0], T0 + 7200));
  f.v.status = VersionStatus::retracted;
  auto d = f.judge(T0 + 10);
  CHECK(d.status == TierOneStatus::exempt);
  CHECK(d.cause == TierOneCause::retracted);
  CHECK_FALSE(d.assignee());
  auto a = f.act(chain[0], T0 + 10);
  REQUIRE(a.size() == 1);
  CHECK(a[0].kind == TierOneActionKind::release);
  for (std::size_t i = 1; i < chain.size(); ++i) CHECK(f.act(chain[i], T0 + 10).empty());
  // A copy of a retracted version: nothing to do either (the retraction action handles it).
  f.reps.push_back(replica(chain[1]));
  CHECK(f.act(chain[1], T0 + 10).empty());
}

TEST_CASE("supersession: old versions keep their copy, new versions prefer the previous version's holder") {
  Fixture f;
  SUBCASE("a superseded version still needs its copy (default)") {
    f.v.status = VersionStatus::superseded;
    auto d = f.judge(T0);
    CHECK(d.status == TierOneStatus::violating);
    CHECK(d.assignee());
  }
  SUBCASE("a federation may exempt superseded versions") {
    TierOneConfig cfg;
    cfg.superseded_needs_copy = false;
    Fixture g(cfg);
    g.v.status = VersionStatus::superseded;
    CHECK(g.judge(T0).status == TierOneStatus::exempt);
    CHECK(g.judge(T0).cause == TierOneCause::superseded);
  }
  const auto chain = f.reference_ranking(T0);
  const std::uint8_t last = chain.back();
  f.v.previous_version = "v20180101";
  f.prev.push_back(key(last));
  SUBCASE("the holder of the previous version comes first") {
    auto d = f.judge(T0);
    CHECK(d.assignee() == key(last));
    CHECK(node_of(d.ranking[1]) == chain[0]);
  }
  SUBCASE("unless it is not eligible") {
    f.m(last).alive = false;
    f.m(last).down_since = T0 - 10;
    CHECK(f.judge(T0).assignee() == key(chain[0]));
  }
  SUBCASE("or it passed on this version") {
    f.claims.push_back(release(last, T0 - 10));
    CHECK(f.judge(T0).assignee() == key(chain[0]));
  }
  SUBCASE("a previous holder at a Tier-2 or unknown node changes nothing") {
    f.prev.assign({key(100)});
    CHECK(f.judge(T0).assignee() == key(chain[0]));
  }
}

TEST_CASE("quota refusal: an assignee over its local quota declines, and the version passes on") {
  Fixture f;
  const auto chain = f.reference_ranking(T0);
  const std::uint8_t x = chain[0];
  TierOneLocal local;
  local.quota = 35 * GB;  // 36 GB would exceed it
  auto a = f.act(x, T0, local);
  REQUIRE(a.size() == 1);
  CHECK(a[0].kind == TierOneActionKind::decline);
  auto rec = a[0].record(T0);
  REQUIRE(rec);
  CHECK(rec->action == ClaimAction::release);
  local.quota = 36 * GB;  // exactly fits
  CHECK(f.act(x, T0, local).at(0).kind == TierOneActionKind::claim);
  // The decline is a pass: the next node is assigned.
  f.claims.push_back(release(x, T0));
  auto d = f.judge(T0 + 1);
  CHECK(d.cause == TierOneCause::claim_released);
  CHECK(d.assignee() == key(chain[1]));
  CHECK(nodes_of(d.passed) == std::vector<std::uint8_t>{x});

  SUBCASE("no quota: the roster capacity is the limit") {
    Fixture g;
    g.m(x).committed = g.m(x).capacity - 36 * GB + 1;  // not enough room: not even eligible
    CHECK(g.judge(T0).assignee() != key(x));
  }
  SUBCASE("a backlog that cannot finish within the longest claim is declined too") {
    Fixture g;
    TierOneLocal busy;
    busy.observed_rate = 100e6;
    busy.backlog_bytes = 200 * TB;  // ≈ 23 days at 100 MB/s
    CHECK(g.act(x, T0, busy).at(0).kind == TierOneActionKind::decline);
  }
}

TEST_CASE("a claimant releases a moot claim and gives up a claim it cannot meet") {
  Fixture f;
  const auto chain = f.reference_ranking(T0);
  const std::uint8_t x = chain[0], y = chain[1];
  f.claims.push_back(take(x, T0 + 7200));
  SUBCASE("another node's copy makes the claim moot") {
    f.reps.push_back(replica(y, ReplicaState::complete, T0 + 100));
    auto a = f.act(x, T0 + 200);
    REQUIRE(a.size() == 1);
    CHECK(a[0].kind == TierOneActionKind::release);
  }
  SUBCASE("an estimate past the deadline: give up early so the next one starts sooner") {
    f.eta = T0 + 7201;
    auto a = f.act(x, T0 + 200);
    REQUIRE(a.size() == 1);
    CHECK(a[0].kind == TierOneActionKind::give_up);
    f.eta = T0 + 7200;
    CHECK(f.act(x, T0 + 200).at(0).kind == TierOneActionKind::fetch);
  }
  SUBCASE("a node that is not a Tier-1 member is asked nothing") {
    CHECK(f.rule.actions(f.judge(T0), f.view(), f.members, TierOneLocal{key(100), 0, 0, std::nullopt}, T0).empty());
  }
}
