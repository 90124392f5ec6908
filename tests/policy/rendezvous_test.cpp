#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "TestSupport.hpp"
#include "fedswarm/policy/Rendezvous.hpp"

using namespace fedswarm;

namespace {
PublicKey key(std::uint8_t n) {
  PublicKey k;
  k.bytes[0] = n;
  k.bytes[31] = n;
  return k;
}
}  // namespace

TEST_CASE("portable_log agrees with the C library to within a few ulp, and is exact where it must be") {
  CHECK(portable_log(1.0) == 0.0);
  CHECK(portable_log(0.5) == -portable_log(2.0));
  CHECK(std::isinf(portable_log(0.0)));
  CHECK(std::isinf(portable_log(-1.0)));
  CHECK(std::isinf(portable_log(std::numeric_limits<double>::quiet_NaN())));
  CHECK(portable_log(std::numeric_limits<double>::denorm_min()) == doctest::Approx(std::log(std::numeric_limits<double>::denorm_min())));
  const std::uint64_t seed = test::test_seed();
  MESSAGE("seed " << seed);
  std::mt19937_64 rng(seed);
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    double u = rendezvous_unit(rng());
    double mine = portable_log(u), libm = std::log(u);
    double rel = std::fabs(mine - libm) / std::fabs(libm);
    if (rel > worst) worst = rel;
  }
  CHECK(worst < 4e-16);
}

TEST_CASE("rendezvous values are frozen: any change reorders every placement in the federation") {
  // Golden values. If one of these changes (a new xxhash, a changed formula), nodes of
  // different builds would rank differently: that is a protocol change, not a refactor.
  const std::uint64_t h = rendezvous_hash(key(1), "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr.v20180803");
  CHECK(h == 0xa68a98c6f7c0209dull);
  CHECK(std::bit_cast<std::uint64_t>(rendezvous_unit(h)) == 0x3fe4d15318def805ull);
  CHECK(std::bit_cast<std::uint64_t>(portable_log(rendezvous_unit(h))) == 0xbfdb840807bb6f45ull);
  CHECK(std::bit_cast<std::uint64_t>(portable_log(0.1)) == 0xc0026bb1bbb55515ull);
}

TEST_CASE("the unit value never reaches 0 or 1") {
  CHECK(rendezvous_unit(0) > 0.0);
  CHECK(rendezvous_unit(~0ull) < 1.0);
  CHECK(std::isfinite(portable_log(rendezvous_unit(0))));
  CHECK(portable_log(rendezvous_unit(~0ull)) < 0.0);
}

TEST_CASE("rank weight: free^k / capacity^(k-1), bit for bit, and plain free capacity at k = 1") {
  constexpr std::uint64_t TB = 1'000'000'000'000ull;
  CHECK(kRankWeightExponent == 4);
  CHECK(rank_weight(3 * TB, 7 * TB, 1) == static_cast<double>(3 * TB));
  CHECK(rank_weight(0, 7 * TB) == 0.0);
  CHECK(rank_weight(3 * TB, 0) == 0.0);
  // An empty node weighs its capacity whatever k; a quarter-free one (1/4)^(k-1) of its free.
  CHECK(rank_weight(7 * TB, 7 * TB) == static_cast<double>(7 * TB));
  CHECK(rank_weight(1 * TB, 4 * TB) == static_cast<double>(TB) / 64);
  CHECK(rank_weight(1 * TB, 4 * TB, 2) == static_cast<double>(TB) / 4);
  // Frozen like the hash: a change reorders placements across the federation.
  const double w = rank_weight(12'345'678'901'234ull, 50 * TB);  // ≈ 1.858e11
  CHECK(std::bit_cast<std::uint64_t>(w) == 0x4245a2999c04749dull);
  CHECK(std::bit_cast<std::uint64_t>(rendezvous_score(0xa68a98c6f7c0209dull, w)) == 0xbd8459527fe3e00eull);
}

TEST_CASE("scores: more weight ranks higher for the same hash, weight 0 ranks last, ties go to the lower key") {
  const std::uint64_t h = rendezvous_hash(key(1), "X.v20200101");
  CHECK(rendezvous_score(h, 2000) > rendezvous_score(h, 1000));
  CHECK(std::isinf(rendezvous_score(h, 0)));
  CHECK(std::isinf(rendezvous_score(h, -1.0)));
  CHECK(std::isinf(rendezvous_score(h, std::numeric_limits<double>::quiet_NaN())));
  RankedNode a{key(1), -0.5}, b{key(2), -0.5}, c{key(3), -0.25};
  CHECK(ranks_before(a, b));
  CHECK_FALSE(ranks_before(b, a));
  CHECK(ranks_before(c, a));
  CHECK_FALSE(ranks_before(a, a));
}
