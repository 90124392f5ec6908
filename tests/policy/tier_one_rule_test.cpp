#include <doctest/doctest.h>

#include "TierOneRuleFixture.hpp"

using namespace fedswarm;

TEST_CASE("a new version goes to the top of the capacity-weighted rendezvous ranking, which claims it") {
  Fixture f;
  auto d = f.judge(T0);
  CHECK(d.status == TierOneStatus::violating);
  CHECK(d.cause == TierOneCause::unclaimed);
  CHECK(d.blocker == TierOneBlocker::none);
  CHECK(nodes_of(d.ranking) == f.reference_ranking(T0));
  CHECK(d.ranking.size() == 5);
  REQUIRE(d.assignee());
  const std::uint8_t top = node_of(*d.assignee());

  TierOneLocal local;
  local.observed_rate = 100e6;
  auto a = f.act(top, T0, local);
  REQUIRE(a.size() == 1);
  CHECK(a[0].kind == TierOneActionKind::claim);
  // 3600 s base + ceil(2 × 36e9 / 100e6) = 3600 + 720.
  CHECK(a[0].deadline == T0 + 3600 + 720);
  auto rec = a[0].record(T0);
  REQUIRE(rec);
  CHECK(rec->action == ClaimAction::take);
  CHECK(rec->dataset_id == f.v.dataset_id);
  CHECK(rec->version == f.v.version);
  CHECK(rec->made_at == T0);
  // Everybody else has nothing to do.
  for (std::uint8_t n = 1; n <= 5; ++n)
    if (n != top) CHECK(f.act(n, T0).empty());
  // Once the claim is in the catalog: pending, and the claimant keeps fetching.
  f.claims.push_back(take(top, a[0].deadline));
  d = f.judge(T0 + 60);
  CHECK(d.status == TierOneStatus::pending);
  CHECK(d.claimant() == key(top));
  CHECK(d.deadline == a[0].deadline);
  auto b = f.act(top, T0 + 60);
  REQUIRE(b.size() == 1);
  CHECK(b[0].kind == TierOneActionKind::fetch);
  CHECK_FALSE(b[0].record(T0 + 60));
  // Its replica record: compliant; nothing left to do for anyone.
  f.reps.push_back(replica(top, ReplicaState::complete, T0 + 900));
  d = f.judge(T0 + 900);
  CHECK(d.status == TierOneStatus::compliant);
  CHECK(nodes_of(d.holders) == std::vector<std::uint8_t>{top});
  for (std::uint8_t n = 1; n <= 5; ++n) CHECK(f.act(n, T0 + 900).empty());
}

TEST_CASE("the deadline: size and backlog over the observed rate, with slack, a floor rate and a cap") {
  TierOneConfig c;
  CHECK(c.claim_deadline(T0, 36 * GB, 0, 100e6) == T0 + 3600 + 720);
  CHECK(c.claim_deadline(T0, 36 * GB, 64 * GB, 100e6) == T0 + 3600 + 2000);
  CHECK(c.claim_deadline(T0, 36 * GB, 0, 0) == T0 + 3600 + 7200);      // unknown rate: 10 MB/s
  CHECK(c.claim_deadline(T0, 36 * GB, 0, 1e3) == T0 + 3600 + 7200);    // below the floor
  CHECK(c.claim_deadline(T0, 36 * GB, 0, std::nan("")) == T0 + 3600 + 7200);
  CHECK(c.claim_deadline(T0, 1000 * TB, 0, 1e9) == T0 + c.max_claim_seconds);
  CHECK(c.claim_deadline(T0, ~0ull, ~0ull, 0) == T0 + c.max_claim_seconds);
  // Others hold a claim to made_at + max_claim_seconds at most.
  CHECK(c.effective_deadline(take(1, T0 + 100, T0)) == T0 + 100);
  CHECK(c.effective_deadline(take(1, T0 + 100 * c.max_claim_seconds, T0)) == T0 + c.max_claim_seconds);
  CHECK(c.effective_deadline(take(1, std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::max())) ==
        std::numeric_limits<std::int64_t>::max());
}

TEST_CASE("compliance counts only complete copies held by Tier-1 nodes outside the primary's site") {
  Fixture f;
  SUBCASE("a Tier-2 copy does not count") {
    f.reps.push_back({key(100), "", ReplicaState::complete, T0});
    CHECK(f.judge(T0).status == TierOneStatus::violating);
  }
  SUBCASE("a copy at the primary's site does not count") {
    f.v.primary_site = "C";
    f.reps.push_back(replica(3));
    auto d = f.judge(T0);
    CHECK(d.status == TierOneStatus::violating);
    CHECK(std::find(d.ranking.begin(), d.ranking.end(), key(3)) == d.ranking.end());
  }
  SUBCASE("the publisher's own copy does not count even if it is a Tier-1") {
    f.v.primary = key(2);
    f.v.primary_site = "B";
    f.reps.push_back(replica(2));
    CHECK(f.judge(T0).status == TierOneStatus::violating);
  }
  SUBCASE("a dropped copy does not count") {
    f.reps.push_back(replica(4, ReplicaState::dropped));
    auto d = f.judge(T0);
    CHECK(d.status == TierOneStatus::violating);
    CHECK(d.cause == TierOneCause::copy_dropped);
  }
  SUBCASE("two copies: both listed, by key") {
    f.reps.push_back(replica(5));
    f.reps.push_back(replica(2));
    auto d = f.judge(T0);
    CHECK(d.status == TierOneStatus::compliant);
    CHECK(nodes_of(d.holders) == std::vector<std::uint8_t>{2, 5});
  }
  SUBCASE("the newer record of a node wins, whatever the order") {
    f.reps.push_back(replica(2, ReplicaState::dropped, T0 + 10));
    f.reps.push_back(replica(2, ReplicaState::complete, T0));
    CHECK(f.judge(T0 + 20).status == TierOneStatus::violating);
    std::swap(f.reps[0], f.reps[1]);
    CHECK(f.judge(T0 + 20).status == TierOneStatus::violating);
  }
}

TEST_CASE("exclusions: the primary's site, nodes that are down, nodes without room") {
  Fixture f;
  f.v.primary_site = "A";                 // node 1 is at the primary's site
  f.m(2).alive = false;                   // down (even within the grace period: no new work)
  f.m(2).down_since = T0 - 60;
  f.m(3).committed = 20 * TB - 35 * GB;   // 35 GB free < 36 GB
  f.m(4).committed = 11 * TB;             // over-committed: free 0
  auto d = f.judge(T0);
  CHECK(nodes_of(d.ranking) == std::vector<std::uint8_t>{5});
  CHECK(nodes_of(d.ranking) == f.reference_ranking(T0));
  f.m(5).capacity = 0;
  d = f.judge(T0);
  CHECK(d.status == TierOneStatus::violating);
  CHECK(d.blocker == TierOneBlocker::no_eligible_tier1);
  CHECK_FALSE(d.assignee());
  for (std::uint8_t n = 1; n <= 5; ++n) CHECK(f.act(n, T0).empty());
  SUBCASE("a node that frees room becomes eligible") {
    f.m(3).committed = 0;
    d = f.judge(T0);
    CHECK(nodes_of(d.ranking) == std::vector<std::uint8_t>{3});
  }
  SUBCASE("a node that comes back up becomes eligible") {
    f.m(2).alive = true;
    CHECK(nodes_of(f.judge(T0).ranking) == std::vector<std::uint8_t>{2});
  }
}

TEST_CASE("capacity weighting: placements follow free^k / capacity^(k-1) (seeded, 40000 versions)") {
  const std::uint64_t seed = test::test_seed();
  MESSAGE("seed " << seed);
  std::mt19937_64 rng(seed);
  TierOneConfig plain;
  plain.rank_weight_exponent = 1;  // w = free capacity
  TierOneRule rule(plain);
  std::vector<TierOneMember> members{member(1, "A", 1 * TB), member(2, "B", 2 * TB), member(3, "C", 3 * TB),
                                     member(4, "D", 4 * TB)};
  auto shares = [&](const std::vector<TierOneMember>& ms) {
    std::map<std::uint8_t, double> count;
    const int n = 40000;
    for (int i = 0; i < n; ++i) {
      TierOneCase c;
      c.version = version("D" + std::to_string(rng()), "v20200101", GB);
      auto d = rule.judge(c, ms, T0);
      REQUIRE(d.assignee());
      count[node_of(*d.assignee())] += 1.0 / n;
    }
    return count;
  };
  auto s = shares(members);
  CHECK(s[1] == doctest::Approx(0.1).epsilon(0.15));
  CHECK(s[2] == doctest::Approx(0.2).epsilon(0.08));
  CHECK(s[3] == doctest::Approx(0.3).epsilon(0.06));
  CHECK(s[4] == doctest::Approx(0.4).epsilon(0.05));
  // The weight is free capacity: 3 TB committed at node 4 leaves it 1 TB of 7 TB free.
  members[3].committed = 3 * TB;
  s = shares(members);
  CHECK(s[1] == doctest::Approx(1.0 / 7).epsilon(0.12));
  CHECK(s[3] == doctest::Approx(3.0 / 7).epsilon(0.05));
  CHECK(s[4] == doctest::Approx(1.0 / 7).epsilon(0.12));
  // The federation's weight (k = 4): empty nodes still draw by capacity, but node 4, a
  // quarter free, weighs 1 TB × (1/4)³ and is all but skipped until the others fill up.
  rule = TierOneRule(TierOneConfig{});
  REQUIRE(rule.config().rank_weight_exponent == 4);
  s = shares(members);
  const double w4 = 1.0 / 64, total = 1 + 2 + 3 + w4;
  CHECK(s[1] == doctest::Approx(1 / total).epsilon(0.12));
  CHECK(s[3] == doctest::Approx(3 / total).epsilon(0.05));
  CHECK(s[4] < 0.01);
  members[3].committed = 0;
  s = shares(members);
  CHECK(s[4] == doctest::Approx(0.4).epsilon(0.05));
}

TEST_CASE("a claimant's own claim does not lower its rank for that version") {
  Fixture f;
  auto top = node_of(*f.judge(T0).assignee());
  // The ledger counts the claim in the claimant's committed bytes...
  f.claims.push_back(take(top, T0 + 7200));
  f.m(top).committed += f.v.size;
  // ...and the rule adds it back, so the chain is unchanged.
  auto d = f.judge(T0 + 1);
  CHECK(d.status == TierOneStatus::pending);
  CHECK(node_of(d.ranking.front()) == top);
}

TEST_CASE("failover chain of three: expired claims pass down the ranking, and an expired claimant is not asked again first") {
  TierOneConfig cfg;
  Fixture f(cfg);
  // Only three eligible nodes, so the chain runs out.
  f.m(4).alive = false;
  f.m(4).down_since = T0 - 30 * 86400;
  f.m(5).alive = false;
  f.m(5).down_since = T0 - 30 * 86400;
  const auto chain = f.reference_ranking(T0);
  REQUIRE(chain.size() == 3);
  const std::uint8_t x = chain[0], y = chain[1], z = chain[2];

  std::int64_t t = T0;
  auto a = f.act(x, t);
  REQUIRE(a.size() == 1);
  REQUIRE(a[0].kind == TierOneActionKind::claim);
  const std::int64_t dx = a[0].deadline;
  f.claims.push_back(take(x, dx, t));
  CHECK(f.judge(dx).status == TierOneStatus::pending);  // the deadline itself still counts

  // x misses its deadline: y is next; x has nothing to do (no fetch: the engine cancels).
  t = dx + 1;
  auto d = f.judge(t);
  CHECK(d.status == TierOneStatus::violating);
  CHECK(d.cause == TierOneCause::claim_expired);
  CHECK(d.assignee() == key(y));
  CHECK(nodes_of(d.passed) == std::vector<std::uint8_t>{x});
  CHECK(f.act(x, t).empty());
  a = f.act(y, t);
  REQUIRE(a.size() == 1);
  REQUIRE(a[0].kind == TierOneActionKind::claim);
  const std::int64_t dy = a[0].deadline;
  f.claims.push_back(take(y, dy, t));
  CHECK(f.judge(t + 1).claimant() == key(y));

  // y misses too: z, even if x's pass has aged out by then (x waits behind those never asked).
  t = dx + cfg.retry_after_seconds + 1;
  REQUIRE(t > dy);
  d = f.judge(t);
  CHECK(d.assignee() == key(z));
  CHECK(nodes_of(d.ranking) == std::vector<std::uint8_t>{z, x});
  a = f.act(z, t);
  REQUIRE(a.size() == 1);
  REQUIRE(a[0].kind == TierOneActionKind::claim);
  const std::int64_t dz = a[0].deadline;
  f.claims.push_back(take(z, dz, t));

  SUBCASE("z delivers") {
    f.reps.push_back(replica(z, ReplicaState::complete, dz - 10));
    d = f.judge(dz - 5);
    CHECK(d.status == TierOneStatus::compliant);
    CHECK(nodes_of(d.holders) == std::vector<std::uint8_t>{z});
  }
  SUBCASE("z misses too: back to the node whose pass is oldest") {
    d = f.judge(dz + 1);
    CHECK(d.assignee() == key(x));  // x passed at dx, more than retry_after ago
    CHECK(node_of(d.ranking.front()) == x);
  }
}

TEST_CASE("when every eligible node passed recently nobody is asked, after retry_after, the oldest pass first") {
  TierOneConfig cfg;
  Fixture f(cfg);
  f.m(4).alive = false;
  f.m(4).down_since = T0 - 30 * 86400;
  f.m(5).alive = false;
  f.m(5).down_since = T0 - 30 * 86400;
  f.claims = {release(3, T0 + 100), take(1, T0 + 200, T0), release(2, T0 + 300)};
  auto d = f.judge(T0 + 400);
  CHECK(d.status == TierOneStatus::violating);
  CHECK(d.blocker == TierOneBlocker::all_passed);
  CHECK(d.cause == TierOneCause::claim_expired);
  CHECK_FALSE(d.assignee());
  CHECK(nodes_of(d.passed) == std::vector<std::uint8_t>{1, 2, 3});
  for (std::uint8_t n = 1; n <= 5; ++n) CHECK(f.act(n, T0 + 400).empty());
  d = f.judge(T0 + 100 + cfg.retry_after_seconds);
  CHECK(nodes_of(d.ranking) == std::vector<std::uint8_t>{3});
  CHECK(nodes_of(d.passed) == std::vector<std::uint8_t>{1, 2});
  d = f.judge(T0 + 300 + cfg.retry_after_seconds);
  CHECK(nodes_of(d.ranking) == std::vector<std::uint8_t>{3, 1, 2});
  CHECK(f.act(3, T0 + 300 + cfg.retry_after_seconds).at(0).kind == TierOneActionKind::claim);
}

TEST_CASE("a claimant down longer than the grace period loses its claim, within grace it keeps it") {
  TierOneConfig cfg;
  Fixture f(cfg);
  const auto chain = f.reference_ranking(T0);
  const std::uint8_t x = chain[0], y = chain[1];
  const std::int64_t deadline = T0 + 5 * 86400;
  f.claims.push_back(take(x, deadline));
  f.m(x).alive = false;
  f.m(x).down_since = T0 + 100;
  auto d = f.judge(T0 + 100 + cfg.grace_seconds - 1);
  CHECK(d.status == TierOneStatus::pending);
  CHECK(d.claimant() == key(x));
  CHECK(f.act(y, T0 + 100 + cfg.grace_seconds - 1).empty());

  const std::int64_t t = T0 + 100 + cfg.grace_seconds;
  d = f.judge(t);
  CHECK(d.status == TierOneStatus::violating);
  CHECK(d.cause == TierOneCause::claimant_down);
  CHECK(d.assignee() == key(y));
  auto a = f.act(y, t);
  REQUIRE(a.size() == 1);
  CHECK(a[0].kind == TierOneActionKind::claim);
  f.claims.push_back(take(y, a[0].deadline, t));
  CHECK(f.judge(t + 1).claimant() == key(y));

  SUBCASE("x comes back before its deadline: its higher-ranked claim leads again and y abandons") {
    f.m(x).alive = true;
    d = f.judge(t + 3600);
    CHECK(d.status == TierOneStatus::pending);
    CHECK(nodes_of(d.live_claims) == std::vector<std::uint8_t>{x, y});
    auto ay = f.act(y, t + 3600);
    REQUIRE(ay.size() == 1);
    CHECK(ay[0].kind == TierOneActionKind::abandon);
    REQUIRE(ay[0].record(t + 3600));
    CHECK(ay[0].record(t + 3600)->action == ClaimAction::release);
    auto ax = f.act(x, t + 3600);
    REQUIRE(ax.size() == 1);
    CHECK(ax[0].kind == TierOneActionKind::fetch);
  }
}

TEST_CASE("two live claims for one version (a race): the lower-ranked claimant abandons") {
  Fixture f;
  const auto chain = f.reference_ranking(T0);
  f.claims.push_back(take(chain[3], T0 + 7200, T0));       // claimed first, ranked lower
  f.claims.push_back(take(chain[1], T0 + 7200, T0 + 30));
  auto d = f.judge(T0 + 60);
  CHECK(d.claimant() == key(chain[1]));
  CHECK(nodes_of(d.live_claims) == std::vector<std::uint8_t>{chain[1], chain[3]});
  CHECK(f.act(chain[3], T0 + 60).at(0).kind == TierOneActionKind::abandon);
  CHECK(f.act(chain[1], T0 + 60).at(0).kind == TierOneActionKind::fetch);
  CHECK(f.act(chain[0], T0 + 60).empty());  // the top node does not claim: the version is pending
  // Once the loser's release is in, it is a pass: it is not asked again first.
  f.claims[0] = release(chain[3], T0 + 61);
  d = f.judge(T0 + 62);
  CHECK(nodes_of(d.live_claims) == std::vector<std::uint8_t>{chain[1]});
  CHECK(nodes_of(d.passed) == std::vector<std::uint8_t>{chain[3]});
}

TEST_CASE("live claimants outside the chain (down within grace, out of room) come after those in it") {
  Fixture f;
  const auto chain = f.reference_ranking(T0);
  const std::uint8_t x = chain[0], y = chain[3], z = chain[4];
  f.claims = {take(x, T0 + 7200, T0), take(y, T0 + 7200, T0 + 20), take(z, T0 + 7200, T0 + 10)};
  f.m(x).alive = false;  // down for a minute: its claim still counts, but it is not in the chain
  f.m(x).down_since = T0 + 30;
  f.m(z).committed = f.m(z).capacity + TB;  // over-committed: not eligible, its claim still counts
  auto d = f.judge(T0 + 90);
  CHECK(d.status == TierOneStatus::pending);
  // y is in the chain; x and z are not, and come after it by made_at (x at T0, z at T0 + 10).
  CHECK(nodes_of(d.live_claims) == std::vector<std::uint8_t>{y, x, z});
  CHECK(f.act(y, T0 + 90).at(0).kind == TierOneActionKind::fetch);
  CHECK(f.act(z, T0 + 90).at(0).kind == TierOneActionKind::abandon);
}

TEST_CASE("a claim by a node at the primary's site does not count, and its author releases it") {
  Fixture f;
  f.v.primary_site = "B";
  f.claims.push_back(take(2, T0 + 7200));
  auto d = f.judge(T0 + 10);
  CHECK(d.status == TierOneStatus::violating);
  CHECK(d.cause == TierOneCause::unclaimed);
  auto a = f.act(2, T0 + 10);
  REQUIRE(a.size() == 1);
  CHECK(a[0].kind == TierOneActionKind::release);
}

TEST_CASE("losing a copy makes the version violating again, and the rule repairs it") {
  TierOneConfig cfg;
  Fixture f(cfg);
  const auto chain = f.reference_ranking(T0);
  const std::uint8_t x = chain[0];
  f.claims.push_back(take(x, T0 + 7200));
  f.reps.push_back(replica(x, ReplicaState::complete, T0 + 3000));
  REQUIRE(f.judge(T0 + 3000).status == TierOneStatus::compliant);

  SUBCASE("the holder withdraws it after a failed verify") {
    f.reps[0] = replica(x, ReplicaState::dropped, T0 + 86400);
    auto d = f.judge(T0 + 86400);
    CHECK(d.status == TierOneStatus::violating);
    CHECK(d.cause == TierOneCause::copy_dropped);
    // x's old claim expired without a copy held: x passed, so someone else repairs it.
    CHECK(d.assignee() == key(chain[1]));
    auto a = f.act(chain[1], T0 + 86400);
    REQUIRE(a.size() == 1);
    CHECK(a[0].kind == TierOneActionKind::claim);
  }
  SUBCASE("the holder is down: counted within the grace period, repaired after it") {
    f.m(x).alive = false;
    f.m(x).down_since = T0 + 10000;
    CHECK(f.judge(T0 + 10000 + cfg.grace_seconds - 1).status == TierOneStatus::compliant);
    auto d = f.judge(T0 + 10000 + cfg.grace_seconds);
    CHECK(d.status == TierOneStatus::violating);
    CHECK(d.cause == TierOneCause::holders_down);
    REQUIRE(d.assignee());
    CHECK(*d.assignee() != key(x));
    // Repaired by the next one; when x returns there are two copies, both counted.
    const std::uint8_t repairer = node_of(*d.assignee());
    f.claims.push_back(take(repairer, T0 + 100000, T0 + 10000 + cfg.grace_seconds));
    CHECK(f.judge(T0 + 10000 + cfg.grace_seconds + 1).status == TierOneStatus::pending);
    f.reps.push_back(replica(repairer, ReplicaState::complete, T0 + 50000));
    f.m(x).alive = true;
    f.m(x).up_since = T0 + 59000;
    d = f.judge(T0 + 60000);
    CHECK(d.status == TierOneStatus::compliant);
    CHECK(d.holders.size() == 2);
    // x kept its copy: it is the keeper, and the repair copy goes once x has settled.
    CHECK(d.keeper == key(x));
    CHECK(d.release_at == T0 + 59000 + cfg.surplus_settle_seconds);
    CHECK(d.surplus.empty());
    d = f.judge(T0 + 59000 + cfg.surplus_settle_seconds);
    CHECK(nodes_of(d.surplus) == std::vector<std::uint8_t>{repairer});
  }
}
