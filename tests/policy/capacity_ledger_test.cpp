#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "TestSupport.hpp"
#include "fedswarm/policy/CapacityLedger.hpp"

using namespace fedswarm;

namespace {
constexpr std::int64_t T0 = 1'700'000'000;

PublicKey key(std::uint8_t n) {
  PublicKey k;
  k.bytes[0] = n;
  return k;
}
ReplicaLocation replica(std::uint8_t n, ReplicaState s, std::int64_t at) { return {key(n), "site", s, at}; }
ClaimInfo take(std::uint8_t n, std::int64_t deadline, std::int64_t made_at = T0) {
  return {key(n), ClaimAction::take, deadline, made_at};
}
ClaimInfo release(std::uint8_t n, std::int64_t made_at) { return {key(n), ClaimAction::release, made_at, made_at}; }
}  // namespace

TEST_CASE("committed bytes: complete replicas plus live claims, from catalog records only") {
  CapacityLedger l;
  l.put_version("A.v1", 100, false);
  l.put_version("B.v1", 20, false);
  l.put_version("C.v1", 3, false);
  l.put_replica("A.v1", replica(1, ReplicaState::complete, T0));
  l.put_claim("B.v1", take(1, T0 + 3600));
  CHECK(l.committed(key(1), T0) == 120);
  CHECK(l.committed(key(2), T0) == 0);  // unknown node

  SUBCASE("a claim stops counting once its deadline passed, and counts again if the clock goes back") {
    CHECK(l.committed(key(1), T0 + 3600) == 120);  // deadline is inclusive
    CHECK(l.committed(key(1), T0 + 3601) == 100);
    CHECK(l.committed(key(1), T0 + 10) == 120);
  }
  SUBCASE("a released claim stops counting") {
    l.put_claim("B.v1", release(1, T0 + 5));
    CHECK(l.committed(key(1), T0 + 6) == 100);
  }
  SUBCASE("a claim fulfilled by a complete replica is counted once") {
    l.put_replica("B.v1", replica(1, ReplicaState::complete, T0 + 100));
    CHECK(l.committed(key(1), T0 + 200) == 120);
    CHECK(l.committed(key(1), T0 + 100000) == 120);  // the replica stays after the deadline
  }
  SUBCASE("a dropped replica frees its bytes") {
    l.put_replica("A.v1", replica(1, ReplicaState::dropped, T0 + 50));
    CHECK(l.committed(key(1), T0 + 60) == 20);
  }
  SUBCASE("claims on a retracted version free their bytes; complete copies of it still take room") {
    l.put_replica("C.v1", replica(1, ReplicaState::complete, T0));
    l.put_version("B.v1", 20, true);
    l.put_version("C.v1", 3, true);
    CHECK(l.committed(key(1), T0) == 103);
  }
  SUBCASE("a record before its version counts 0 bytes until the version is known") {
    l.put_claim("D.v1", take(1, T0 + 7200));
    CHECK(l.committed(key(1), T0) == 120);
    l.put_version("D.v1", 1000, false);
    CHECK(l.committed(key(1), T0) == 1120);
  }
  SUBCASE("a claim's deadline counts only up to made_at + max_claim_seconds") {
    TierOneConfig cfg;
    l.put_claim("C.v1", take(1, T0 + 10 * cfg.max_claim_seconds, T0));
    CHECK(l.committed(key(1), T0 + cfg.max_claim_seconds) == 103);  // B's claim expired long ago
    CHECK(l.committed(key(1), T0 + cfg.max_claim_seconds + 1) == 100);
  }
}

TEST_CASE("the incremental ledger equals the formula recomputed from scratch, in any record order and at any time") {
  const std::uint64_t seed = test::test_seed();
  MESSAGE("seed " << seed);
  std::mt19937_64 rng(seed);
  TierOneConfig cfg;
  for (int round = 0; round < 20; ++round) {
    std::map<std::string, std::pair<std::uint64_t, bool>> versions;  // id -> size, retracted
    struct Rec {
      std::string id;
      bool is_claim;
      ReplicaLocation r;
      ClaimInfo c;
    };
    std::vector<Rec> recs;
    for (int v = 0; v < 40; ++v) {
      std::string id = "D" + std::to_string(v) + ".v1";
      versions[id] = {1 + rng() % 1000, rng() % 8 == 0};
      for (std::uint8_t n = 1; n <= 4; ++n) {
        if (rng() % 3 == 0)
          recs.push_back({id, false, replica(n, rng() % 4 ? ReplicaState::complete : ReplicaState::dropped, T0), {}});
        if (rng() % 3 == 0)
          recs.push_back({id, true, {}, rng() % 4 ? take(n, T0 + static_cast<std::int64_t>(rng() % 20000)) : release(n, T0)});
      }
    }
    std::shuffle(recs.begin(), recs.end(), rng);
    CapacityLedger l(cfg);
    // Versions interleaved with records at random points.
    std::vector<std::string> ids;
    for (auto& [id, _] : versions) ids.push_back(id);
    std::shuffle(ids.begin(), ids.end(), rng);
    std::size_t vi = 0;
    std::map<std::pair<std::string, PublicKey>, std::pair<std::optional<ReplicaLocation>, std::optional<ClaimInfo>>> latest;
    for (const auto& r : recs) {
      if (vi < ids.size() && rng() % 2) {
        l.put_version(ids[vi], versions[ids[vi]].first, versions[ids[vi]].second);
        ++vi;
      }
      if (r.is_claim) {
        l.put_claim(r.id, r.c);
        latest[{r.id, r.c.node}].second = r.c;
      } else {
        l.put_replica(r.id, r.r);
        latest[{r.id, r.r.node}].first = r.r;
      }
      // Interleaved queries move claims between the live and expired sums.
      if (rng() % 5 == 0) (void)l.committed(key(1 + rng() % 4), T0 + static_cast<std::int64_t>(rng() % 25000));
    }
    for (; vi < ids.size(); ++vi) l.put_version(ids[vi], versions[ids[vi]].first, versions[ids[vi]].second);
    for (int q = 0; q < 30; ++q) {
      std::int64_t now = T0 + static_cast<std::int64_t>(rng() % 25000);
      for (std::uint8_t n = 1; n <= 4; ++n) {
        std::uint64_t expect = 0;
        for (const auto& [k, rc] : latest) {
          if (k.second != key(n)) continue;
          auto [size, retracted] = versions[k.first];
          bool complete = rc.first && rc.first->state == ReplicaState::complete;
          if (complete)
            expect += size;
          else if (rc.second && claim_reserves(cfg, *rc.second, false, retracted, now))
            expect += size;
        }
        CHECK(l.committed(key(n), now) == expect);
      }
    }
  }
}
