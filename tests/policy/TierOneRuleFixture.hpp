// TierOneRuleFixture: the small federation the Tier-1 rule tests share — keys by number,
// members, versions, replica records and claims, a Fixture that judges one version, and
// `text` (a report as comparable text). Header-only, test code.
#pragma once

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

namespace fedswarm {

namespace {

constexpr std::int64_t T0 = 1'700'000'000;
constexpr std::uint64_t GB = 1'000'000'000ull;
constexpr std::uint64_t TB = 1000 * GB;
constexpr std::uint8_t kPublisher = 200;  // a Tier-2 node at site "P"

inline PublicKey key(std::uint8_t n) {
  PublicKey k;
  k.bytes[0] = n;
  k.bytes[31] = static_cast<std::uint8_t>(n * 7);
  return k;
}

inline TierOneMember member(std::uint8_t n, std::string site, std::uint64_t capacity, std::uint64_t committed = 0) {
  TierOneMember m;
  m.key = key(n);
  m.site = std::move(site);
  m.capacity = capacity;
  m.committed = committed;
  return m;
}

inline TierOneVersion version(const std::string& dataset, const std::string& ver, std::uint64_t size,
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

inline ReplicaLocation replica(std::uint8_t n, ReplicaState s = ReplicaState::complete, std::int64_t at = T0) {
  return {key(n), "", s, at};
}
inline ClaimInfo take(std::uint8_t n, std::int64_t deadline, std::int64_t made_at = T0) {
  return {key(n), ClaimAction::take, deadline, made_at};
}
inline ClaimInfo release(std::uint8_t n, std::int64_t made_at) { return {key(n), ClaimAction::release, made_at, made_at}; }

inline std::uint8_t node_of(const PublicKey& k) { return k.bytes[0]; }
inline std::vector<std::uint8_t> nodes_of(const std::vector<PublicKey>& ks) {
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

inline std::string text(const TierOneReport& r) {
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

}  // namespace fedswarm
