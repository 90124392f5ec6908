// TierOneConfig: the tunables of the one-Tier-1-copy rule (DESIGN §7, TierOneRule.hpp).
//
// Two kinds of settings:
// - Federation-wide (grace_seconds, max_claim_seconds, retry_after_seconds,
//   superseded_needs_copy, rank_weight_exponent): every Tier-1 node must use the same
//   values, or two nodes reading the same catalog can reach different decisions. They
//   belong with the roster / federation configuration, not with one node's local taste.
// - Local (claim_base_seconds, deadline_slack, min_rate, surplus_settle_seconds): they
//   only shape the deadline a node writes into its own claim (others read the deadline
//   from the signed record) or when it releases its own surplus copy.
//
// Contract: plain value type; pure functions; thread-safe.
#pragma once

#include <cstdint>

#include "fedswarm/policy/Rendezvous.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

struct TierOneConfig {
  // --- federation-wide ----------------------------------------------------------------
  // How long a Tier-1 node may be unreachable before its complete copies stop counting
  // (the version is repaired elsewhere) and its live claims pass to the next in rank.
  // Bounds the exposure to a single unreachable copy; below a few hours it makes
  // routine maintenance windows trigger needless repairs.
  std::int64_t grace_seconds = 6 * 3600;
  // A claim's deadline never counts beyond made_at + this, whatever the record says:
  // bounds how long one claim can block a version (a buggy or malicious claimant).
  std::int64_t max_claim_seconds = 14 * 86400;
  // A Tier-1 node that passed on a version (its claim expired, or it released or
  // declined) is not asked again before every other eligible node was asked; after
  // this long it may be asked again (oldest pass first). Bounds how often a version
  // that nobody can take generates claims.
  std::int64_t retry_after_seconds = 86400;
  // A superseded (but not retracted) version keeps its obligation: it stays published
  // and citable, and old versions are what reproducibility needs. false exempts it.
  bool superseded_needs_copy = true;
  // k of the rank weight free^k / capacity^(k−1) (Rendezvous.hpp). Not a config.toml
  // setting: nodes always use kRankWeightExponent (a node-local file cannot keep it equal
  // at every node); simulations and tests set it to compare weights.
  int rank_weight_exponent = kRankWeightExponent;

  // --- local: the deadline this node writes into a new claim --------------------------
  // deadline = now + claim_base_seconds
  //          + ceil(deadline_slack × (backlog + size) / max(observed_rate, min_rate))
  // capped at now + max_claim_seconds.
  // Fixed part: peer discovery, torrent start, verification latency of a small version.
  std::int64_t claim_base_seconds = 3600;
  // Multiplier on the expected transfer time: absorbs rate variation and verification
  // (a full SHA-256 pass over the data). Too small: claims expire while progressing.
  double deadline_slack = 2.0;
  // Bytes/s assumed when the observed rate is lower or unknown (a new node), so a
  // deadline is never infinite nor absurdly far. 10 MB/s: a slow but working WAN link.
  double min_rate = 10e6;

  // --- local: when this node releases a surplus copy ----------------------------------
  // A copy made to repair a violation is surplus once the holder it repaired is back
  // (TierOneRule.hpp, "Surplus copies"): this node drops its own only when that holder
  // has been alive continuously for this long and its complete replica record is this
  // old. Bounds the churn of a flapping holder: a copy is never dropped because a holder
  // showed up for a moment. Local, since it only delays this node's own drop; which copy
  // is kept is decided from the catalog alone.
  std::int64_t surplus_settle_seconds = 3600;

  // The deadline other nodes hold a claim to: the record's, capped at made_at +
  // max_claim_seconds.
  std::int64_t effective_deadline(const ClaimInfo& claim) const;
  // The deadline for a new claim of `size` bytes queued behind `backlog` bytes, at
  // `observed_rate` bytes/s (0 or NaN: unknown).
  std::int64_t claim_deadline(std::int64_t now, std::uint64_t size, std::uint64_t backlog, double observed_rate) const;
  // Seconds the transfer is expected to take without slack (base + bytes / rate): a
  // node declines a claim it cannot expect to finish within max_claim_seconds.
  double expected_seconds(std::uint64_t size, std::uint64_t backlog, double observed_rate) const;
};

}  // namespace fedswarm
