#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <vector>

#include "TestSupport.hpp"
#include "fedswarm/policy/CapacityLedger.hpp"
#include "fedswarm/policy/Clock.hpp"
#include "fedswarm/policy/Rendezvous.hpp"
#include "fedswarm/policy/TierOneRule.hpp"

using namespace fedswarm;

namespace {

constexpr std::int64_t T0 = 1'700'000'000;
constexpr std::uint64_t GB = 1'000'000'000ull;
constexpr std::uint64_t TB = 1000 * GB;
constexpr std::uint8_t kPublisher = 200;  // a Tier-2 node at site "P"

PublicKey key(std::uint8_t n) {
  PublicKey k;
  k.bytes[0] = n;
  k.bytes[31] = static_cast<std::uint8_t>(n * 7);
  return k;
}

TierOneMember member(std::uint8_t n, std::string site, std::uint64_t capacity, std::uint64_t committed = 0) {
  TierOneMember m;
  m.key = key(n);
  m.site = std::move(site);
  m.capacity = capacity;
  m.committed = committed;
  return m;
}

TierOneVersion version(const std::string& dataset, const std::string& ver, std::uint64_t size,
                       const std::string& primary_site = "P", std::uint8_t primary = kPublisher) {
  TierOneVersion v;
  v.dataset_id = dataset;
  v.version = ver;
  v.size = size;
  v.primary = key(primary);
  v.primary_site = primary_site;
  v.published_at = T0;
  return v;
}

ReplicaLocation replica(std::uint8_t n, ReplicaState s = ReplicaState::complete, std::int64_t at = T0) {
  return {key(n), "", s, at};
}
ClaimInfo take(std::uint8_t n, std::int64_t deadline, std::int64_t made_at = T0) {
  return {key(n), ClaimAction::take, deadline, made_at};
}
ClaimInfo release(std::uint8_t n, std::int64_t made_at) { return {key(n), ClaimAction::release, made_at, made_at}; }

std::uint8_t node_of(const PublicKey& k) { return k.bytes[0]; }
std::vector<std::uint8_t> nodes_of(const std::vector<PublicKey>& ks) {
  std::vector<std::uint8_t> out;
  for (const auto& k : ks) out.push_back(node_of(k));
  return out;
}

// Five Tier-1 centres (sites A..E, unequal capacities), one version published by a Tier-2
// at site P, and the records about it.
struct Fixture {
  TierOneRule rule;
  std::vector<TierOneMember> members{member(1, "A", 40 * TB), member(2, "B", 30 * TB), member(3, "C", 20 * TB),
                                     member(4, "D", 10 * TB), member(5, "E", 5 * TB)};
  TierOneVersion v = version("CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr", "v20180803", 36 * GB);
  std::vector<ReplicaLocation> reps;
  std::vector<ClaimInfo> claims;
  std::vector<PublicKey> prev;
  std::optional<std::int64_t> eta;

  explicit Fixture(TierOneConfig cfg = {}) : rule(cfg) {}
  TierOneCase view() const {
    TierOneCase c;
    c.version = v;
    c.replicas = reps;
    c.claims = claims;
    c.previous_holders = prev;
    c.local_eta = eta;
    return c;
  }
  TierOneMember& m(std::uint8_t n) { return members[n - 1]; }
  TierOneDecision judge(std::int64_t now) const { return rule.judge(view(), members, now); }
  std::vector<TierOneAction> act(std::uint8_t n, std::int64_t now, TierOneLocal local = {}) const {
    local.key = key(n);
    std::vector<TierOneAction> out;
    rule.decide(view(), members, local, now, out);
    return out;
  }
  // The reference ranking: eligible nodes by rendezvous score on the rank weight
  // (free capacity and roster capacity).
  std::vector<std::uint8_t> reference_ranking(std::int64_t) const {
    std::vector<RankedNode> r;
    for (const auto& mm : members) {
      if (!mm.alive || mm.site == v.primary_site) continue;
      std::uint64_t free = mm.capacity > mm.committed ? mm.capacity - mm.committed : 0;
      if (free < v.size || free == 0) continue;
      const double w = rank_weight(free, mm.capacity, rule.config().rank_weight_exponent);
      r.push_back({mm.key, rendezvous_score(rendezvous_hash(mm.key, v.instance_id()), w)});
    }
    std::sort(r.begin(), r.end(), ranks_before);
    std::vector<std::uint8_t> out;
    for (const auto& x : r) out.push_back(node_of(x.key));
    return out;
  }
};

std::string text(const TierOneReport& r) {
  std::ostringstream o;
  for (const auto& m : r.members) o << "m " << to_hex(m.key) << ' ' << m.committed << '\n';
  for (const auto& d : r.decisions) {
    o << d.instance_id << ' ' << to_string(d.status) << ' ' << to_string(d.cause) << ' ' << to_string(d.blocker) << ' '
      << d.deadline << " h";
    for (const auto& k : d.holders) o << ' ' << short_key(k);
    o << " k " << (d.keeper ? short_key(*d.keeper) : std::string("-")) << ' ' << d.release_at << " s";
    for (const auto& k : d.surplus) o << ' ' << short_key(k);
    o << " l";
    for (const auto& k : d.live_claims) o << ' ' << short_key(k);
    o << " r";
    for (const auto& k : d.ranking) o << ' ' << short_key(k);
    o << " p";
    for (const auto& k : d.passed) o << ' ' << short_key(k);
    o << '\n';
  }
  for (const auto& a : r.actions) o << to_string(a.kind) << ' ' << a.instance_id() << ' ' << a.deadline << ' ' << a.why << '\n';
  return o.str();
}

}  // namespace

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

namespace {

// A random federation: members (some down), datasets with several versions, some
// retracted, replica records and claims in every state.
TierOneSnapshot random_snapshot(std::mt19937_64& rng) {
  TierOneSnapshot s;
  const int n_members = 3 + static_cast<int>(rng() % 6);
  for (int i = 1; i <= n_members; ++i) {
    TierOneMember m = member(static_cast<std::uint8_t>(i), std::string(1, static_cast<char>('A' + rng() % 5)),
                             (1 + rng() % 50) * TB);
    if (rng() % 4 == 0) {
      m.alive = false;
      m.down_since = T0 - static_cast<std::int64_t>(rng() % (12 * 3600));
    } else if (rng() % 2 == 0) {
      m.up_since = T0 - static_cast<std::int64_t>(rng() % (2 * 3600));
    }
    s.members.push_back(m);
  }
  for (int ds = 0; ds < 25; ++ds) {
    const int n_versions = 1 + static_cast<int>(rng() % 3);
    std::string previous;
    for (int k = 0; k < n_versions; ++k) {
      std::string ver = "v2020010" + std::to_string(k + 1);
      TierOneVersion v = version("D" + std::to_string(ds), ver, (1 + rng() % 2000) * GB,
                                 std::string(1, static_cast<char>('A' + rng() % 6)), static_cast<std::uint8_t>(150 + rng() % 5));
      v.published_at = T0 - static_cast<std::int64_t>(rng() % 86400);
      v.previous_version = previous;
      v.status = k + 1 < n_versions ? VersionStatus::superseded : VersionStatus::published;
      if (rng() % 10 == 0) v.status = VersionStatus::retracted;
      previous = ver;
      for (int i = 1; i <= n_members; ++i) {
        if (rng() % 6 == 0)
          s.replicas.push_back({v.instance_id(), replica(static_cast<std::uint8_t>(i),
                                                         rng() % 3 ? ReplicaState::complete : ReplicaState::dropped,
                                                         T0 - static_cast<std::int64_t>(rng() % 1000))});
        if (rng() % 5 == 0) {
          std::int64_t made = T0 - static_cast<std::int64_t>(rng() % 200000);
          s.claims.push_back({v.instance_id(), rng() % 4 ? take(static_cast<std::uint8_t>(i), made + static_cast<std::int64_t>(rng() % 300000), made)
                                                         : release(static_cast<std::uint8_t>(i), made)});
        }
        // Occasionally an older record of the same node too (the newer must win).
        if (rng() % 20 == 0)
          s.claims.push_back({v.instance_id(), take(static_cast<std::uint8_t>(i), T0 + 999999, T0 - 500000)});
      }
      if (rng() % 7 == 0) s.local_etas.emplace_back(v.instance_id(), T0 + static_cast<std::int64_t>(rng() % 100000));
      s.versions.push_back(std::move(v));
    }
  }
  return s;
}

}  // namespace

TEST_CASE("determinism: the same records in any order give the same decisions and actions") {
  const std::uint64_t seed = test::test_seed();
  MESSAGE("seed " << seed);
  std::mt19937_64 rng(seed);
  TierOneRule rule;
  int compliant = 0, pending = 0, violating = 0, exempt = 0, acted = 0;
  for (int round = 0; round < 40; ++round) {
    TierOneSnapshot s = random_snapshot(rng);
    TierOneLocal local{key(static_cast<std::uint8_t>(1 + rng() % s.members.size())), 100e6, 5 * TB, std::nullopt};
    if (rng() % 3 == 0) local.quota = (1 + rng() % 30) * TB;
    const std::int64_t now = T0 + static_cast<std::int64_t>(rng() % 50000);
    const TierOneReport base = rule.evaluate(s, now, local);
    const std::string expect = text(base);
    for (const auto& d : base.decisions) {
      compliant += d.status == TierOneStatus::compliant;
      pending += d.status == TierOneStatus::pending;
      violating += d.status == TierOneStatus::violating;
      exempt += d.status == TierOneStatus::exempt;
    }
    acted += static_cast<int>(base.actions.size());
    for (int shuffle = 0; shuffle < 10; ++shuffle) {
      TierOneSnapshot t = s;
      std::shuffle(t.members.begin(), t.members.end(), rng);
      std::shuffle(t.versions.begin(), t.versions.end(), rng);
      std::shuffle(t.replicas.begin(), t.replicas.end(), rng);
      std::shuffle(t.claims.begin(), t.claims.end(), rng);
      std::shuffle(t.local_etas.begin(), t.local_etas.end(), rng);
      REQUIRE(text(rule.evaluate(t, now, local)) == expect);
    }
    // Every node reaches the same verdicts: only the actions depend on who asks.
    TierOneLocal other = local;
    other.key = key(static_cast<std::uint8_t>(1 + rng() % s.members.size()));
    TierOneReport r2 = rule.evaluate(s, now, other);
    r2.actions.clear();
    TierOneReport b2 = base;
    b2.actions.clear();
    CHECK(text(r2) == text(b2));
  }
  // The random inputs exercise every verdict.
  CHECK(compliant > 0);
  CHECK(pending > 0);
  CHECK(violating > 0);
  CHECK(exempt > 0);
  CHECK(acted > 0);
}

TEST_CASE("evaluate: the batch decisions equal judge() per version with ledger-filled members") {
  const std::uint64_t seed = test::test_seed();
  MESSAGE("seed " << seed);
  std::mt19937_64 rng(seed);
  TierOneRule rule;
  for (int round = 0; round < 10; ++round) {
    TierOneSnapshot s = random_snapshot(rng);
    const std::int64_t now = T0 + static_cast<std::int64_t>(rng() % 50000);
    TierOneReport r = rule.evaluate(s, now);
    CapacityLedger ledger(rule.config());
    for (const auto& v : s.versions) ledger.put_version(v.instance_id(), v.size, v.status == VersionStatus::retracted);
    // Feed only the newest record per (version, node), as a catalog would hold it.
    std::map<std::pair<std::string, PublicKey>, ClaimInfo> newest;
    for (const auto& c : s.claims) {
      auto [it, fresh] = newest.emplace(std::make_pair(c.instance_id, c.claim.node), c.claim);
      if (!fresh && newer_claim(c.claim, it->second)) it->second = c.claim;
    }
    for (const auto& r2 : s.replicas) ledger.put_replica(r2.instance_id, r2.location);
    for (const auto& [k, c] : newest) ledger.put_claim(k.first, c);
    std::vector<TierOneMember> members = s.members;
    ledger.fill(members, now);
    for (const auto& v : s.versions) {
      std::vector<ReplicaLocation> reps;
      std::vector<ClaimInfo> claims;
      std::vector<PublicKey> prev;
      for (const auto& x : s.replicas)
        if (x.instance_id == v.instance_id()) reps.push_back(x.location);
        else if (x.instance_id == v.previous_instance_id() && x.location.state == ReplicaState::complete)
          prev.push_back(x.location.node);
      for (const auto& x : s.claims)
        if (x.instance_id == v.instance_id()) claims.push_back(x.claim);
      TierOneCase c;
      c.version = v;
      c.replicas = reps;
      c.claims = claims;
      c.previous_holders = prev;
      TierOneDecision d = rule.judge(c, members, now);
      auto it = std::find_if(r.decisions.begin(), r.decisions.end(),
                             [&](const TierOneDecision& x) { return x.instance_id == v.instance_id(); });
      REQUIRE(it != r.decisions.end());
      TierOneReport a, b;
      a.decisions.push_back(d);
      b.decisions.push_back(*it);
      CHECK(text(a) == text(b));
    }
  }
}

TEST_CASE("evaluate: claims made in one pass queue behind each other and count against the quota") {
  TierOneRule rule;
  TierOneSnapshot s;
  s.members = {member(1, "A", 100 * TB)};  // the only Tier-1: assigned everything
  for (int i = 0; i < 3; ++i) {
    TierOneVersion v = version("D" + std::to_string(i), "v20200101", 100 * GB);
    v.published_at = T0 - 100 + i;
    s.versions.push_back(v);
  }
  TierOneLocal local{key(1), 100e6, 0, 250 * GB};
  TierOneReport r = rule.evaluate(s, T0, local);
  REQUIRE(r.actions.size() == 3);
  CHECK(r.actions[0].instance_id() == "D0.v20200101");
  CHECK(r.actions[0].kind == TierOneActionKind::claim);
  CHECK(r.actions[0].deadline == T0 + 3600 + 2000);
  CHECK(r.actions[1].kind == TierOneActionKind::claim);
  CHECK(r.actions[1].deadline == T0 + 3600 + 4000);  // behind the first 100 GB
  CHECK(r.actions[2].kind == TierOneActionKind::decline);  // 300 GB > 250 GB quota
}

TEST_CASE("tier-1 status, cause and blocker names read back to the same values, unknown names to nothing") {
  for (auto s : kTierOneStatuses) CHECK(tier_one_status_from(to_string(s)) == s);
  for (auto c : {TierOneCause::none, TierOneCause::retracted, TierOneCause::superseded, TierOneCause::unclaimed,
                 TierOneCause::claim_released, TierOneCause::claim_expired, TierOneCause::claimant_down,
                 TierOneCause::copy_dropped, TierOneCause::holders_down})
    CHECK(tier_one_cause_from(to_string(c)) == c);
  for (auto b : {TierOneBlocker::none, TierOneBlocker::no_eligible_tier1, TierOneBlocker::all_passed})
    CHECK(tier_one_blocker_from(to_string(b)) == b);
  CHECK_FALSE(tier_one_status_from("Compliant"));
  CHECK_FALSE(tier_one_cause_from(""));
  CHECK_FALSE(tier_one_blocker_from("all_passed "));
}

TEST_CASE("add_time saturates at kMaxTime instead of overflowing") {
  CHECK(add_time(10, 5) == 15);
  CHECK(add_time(10, -5) == 5);
  CHECK(add_time(kMaxTime - 1, 5) == kMaxTime);
  CHECK(add_time(kMaxTime, 0) == kMaxTime);
}
