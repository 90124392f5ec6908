// Rendezvous: weighted rendezvous hashing (highest random weight), the ranking behind
// the one-Tier-1-copy rule (DESIGN §7).
//
// For a dataset version X and a node N with weight w (rank_weight below):
//   h     = XXH3_64bits(N's 32-byte key || X's instance id "dataset_id.version")
//   u     = ((h >> 12) × 2 + 1) × 2^-53          in (0, 1), never 0 or 1, exact
//   score = ln(u) / w                             (≤ 0; higher ranks first)
// The node with the highest score is first. P(N is first) = w_N / Σw exactly (−ln(u)/w
// is exponential with rate w, and the smallest of independent exponentials is N's with
// probability w_N / Σw), so placements follow the weight, and removing a node only
// moves the versions it ranked first.
//
// The weight: w = R^k / C^(k−1) = R × (R/C)^(k−1), R = the node's free capacity for X
// (CapacityLedger.hpp), C = its roster capacity, k = kRankWeightExponent (4). k = 1 is
// plain free capacity: its pull toward even fill is weak while the centres are far
// from full, and the fill max/min of bench/policy_sim missed 1.15 at several seeds;
// k = 4 pulls a node that is fuller than the others (relative to its capacity) down
// steeply and stays within 1.15 at every seed 1–10 (README, Benchmarks). k is
// federation-wide: every Tier-1 must use the same, or two nodes rank differently.
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

// ln(u)/weight. weight ≤ 0 or NaN: −infinity (ranks last; callers exclude such nodes
// anyway).
double rendezvous_score(std::uint64_t hash, double weight);

// The exponent of the rank weight. Federation-wide and part of the protocol like the
// hash: it is not a node setting (config.toml), since a node-local file cannot keep it
// equal everywhere; changing it is a federation-wide software change. Chosen with
// bench/policy_sim (TierOneConfig::rank_weight_exponent lets simulations vary it).
inline constexpr int kRankWeightExponent = 4;

// w = free^k / capacity^(k−1), evaluated as free × (free/capacity)^(k−1) with IEEE-754
// ×, ÷ in that fixed order (no pow: libm differs between platforms), so it is
// bit-identical on every node. k < 1 counts as 1 (w = free). capacity 0 or free 0: 0.
double rank_weight(std::uint64_t free, std::uint64_t capacity, int exponent = kRankWeightExponent);

struct RankedNode {
  PublicKey key;
  double score = 0;
};

// Strict order "a ranks before b": higher score, then lower key.
bool ranks_before(const RankedNode& a, const RankedNode& b);

}  // namespace fedswarm
