#include <doctest/doctest.h>

#include "TierOneRuleFixture.hpp"

using namespace fedswarm;

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
