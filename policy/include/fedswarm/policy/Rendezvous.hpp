// Rendezvous: weighted rendezvous hashing (highest random weight), the ranking behind
// the one-Tier-1-copy rule (DESIGN §7).
//
// For a dataset version X and a node N with weight w (its free capacity in bytes):
//   h     = XXH3_64bits(N's 32-byte key || X's instance id "dataset_id.version")
//   u     = ((h >> 12) × 2 + 1) × 2^-53          in (0, 1), never 0 or 1, exact
//   score = ln(u) / w                             (≤ 0; higher ranks first)
// The node with the highest score is first. P(N is first) = w_N / Σw exactly (−ln(u)/w
// is exponential with rate w, and the smallest of independent exponentials is N's with
// probability w_N / Σw), so placements follow free capacity, and removing a node only
// moves the versions it ranked first.
//
// Determinism across machines: ln is `portable_log`, written with IEEE-754 +, −, ×, ÷
// in a fixed order only (no libm, whose last-bit rounding differs between platforms and
// versions); policy/ is compiled with -ffp-contract=off so no compiler fuses them.
// Equal scores (bit for bit) are broken by the node key, byte-wise ascending.
//
// Contract: pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "fedswarm/protocol/Bytes.hpp"

namespace fedswarm {

// XXH3_64bits(key || instance_id), seed 0.
std::uint64_t rendezvous_hash(const PublicKey& node, std::string_view instance_id);

// ((h >> 12) × 2 + 1) × 2^-53: 52 random bits, an odd numerator so ln never sees 0 or
// 1 and the conversion is exact.
double rendezvous_unit(std::uint64_t hash);

// ln(x) for finite x > 0, bit-identical on every IEEE-754 platform; accurate to a few
// ulp. x ≤ 0 or not finite: −infinity (callers never pass it; see rendezvous_unit).
double portable_log(double x);

// ln(u)/weight. weight 0: −infinity (ranks last; callers exclude such nodes anyway).
double rendezvous_score(std::uint64_t hash, std::uint64_t weight);

struct RankedNode {
  PublicKey key;
  double score = 0;
};

// Strict order "a ranks before b": higher score, then lower key.
bool ranks_before(const RankedNode& a, const RankedNode& b);

}  // namespace fedswarm
