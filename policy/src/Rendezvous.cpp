#include "fedswarm/policy/Rendezvous.hpp"

#include <cmath>
#include <limits>
#include <string>

#include <xxhash.h>

namespace fedswarm {

std::uint64_t rendezvous_hash(const PublicKey& node, std::string_view instance_id) {
  std::string buf(reinterpret_cast<const char*>(node.data()), PublicKey::size());
  buf.append(instance_id);
  return XXH3_64bits(buf.data(), buf.size());
}

double rendezvous_unit(std::uint64_t hash) {
  // 2k+1 < 2^53 is exactly representable, and so is the product by a power of two.
  constexpr double kTwoPowMinus53 = 1.0 / 9007199254740992.0;
  return static_cast<double>(((hash >> 12) << 1) | 1u) * kTwoPowMinus53;
}

double portable_log(double x) {
  if (!(x > 0) || !std::isfinite(x)) return -std::numeric_limits<double>::infinity();
  // frexp is exact (it only splits the bits), so m and e are the same everywhere.
  int e = 0;
  double m = std::frexp(x, &e);  // x = m × 2^e, m in [0.5, 1)
  constexpr double kSqrtHalf = 0.70710678118654752440;
  if (m < kSqrtHalf) {
    m *= 2;  // exact
    --e;
  }
  // ln m = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.1716: 2s (1 + z/3 + z²/5 + …), z = s².
  // Eleven terms leave a truncation error below 1e-19, far under one ulp.
  const double s = (m - 1.0) / (m + 1.0);
  const double z = s * s;
  double p = 1.0 / 23.0;
  p = p * z + 1.0 / 21.0;
  p = p * z + 1.0 / 19.0;
  p = p * z + 1.0 / 17.0;
  p = p * z + 1.0 / 15.0;
  p = p * z + 1.0 / 13.0;
  p = p * z + 1.0 / 11.0;
  p = p * z + 1.0 / 9.0;
  p = p * z + 1.0 / 7.0;
  p = p * z + 1.0 / 5.0;
  p = p * z + 1.0 / 3.0;
  const double ln_m = 2.0 * s + 2.0 * s * z * p;
  // ln 2 split as in fdlibm: e × kLn2Hi is exact for any double exponent.
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  const double de = static_cast<double>(e);
  return de * kLn2Hi + (de * kLn2Lo + ln_m);
}

double rendezvous_score(std::uint64_t hash, double weight) {
  if (!(weight > 0)) return -std::numeric_limits<double>::infinity();
  return portable_log(rendezvous_unit(hash)) / weight;
}

double rank_weight(std::uint64_t free, std::uint64_t capacity, int exponent) {
  if (free == 0 || capacity == 0) return 0;
  // Integer to double conversions round correctly, so these are the same everywhere;
  // so are ÷ and × in this order (policy/ is built with -ffp-contract=off).
  const double r = static_cast<double>(free);
  const double fraction = r / static_cast<double>(capacity);
  double w = r;
  for (int i = 1; i < exponent; ++i) w = w * fraction;
  return w;
}

bool ranks_before(const RankedNode& a, const RankedNode& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.key < b.key;
}

}  // namespace fedswarm
