// TierOneCase: everything the one-Tier-1-copy rule (TierOneRule.hpp) looks at for one
// dataset version, plus the Tier-1 members it ranks. All of it comes from the catalog
// (records) and from link liveness; nothing from local disks, so every Tier-1 node can
// build the same case.
//
// Contract: plain value types (the case holds spans: the caller keeps the replicas,
// claims and previous holders alive while the rule runs); no I/O; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Roster.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

// A Tier-1 member of the roster as the rule sees it.
struct TierOneMember {
  PublicKey key;
  std::string site;
  std::uint64_t capacity = 0;  // roster: bytes offered for replicas
  // Liveness from link heartbeats. A node not alive is not eligible for new work; its
  // copies and claims keep counting until it has been down grace_seconds.
  bool alive = true;
  std::int64_t down_since = 0;  // unix seconds; meaningful when !alive
  // When its liveness last came up (unix seconds; meaningful when alive): the time its
  // link or heartbeats resumed after it was down, or was first heard from. 0: alive
  // since before anything the rule looks at (the local node, liveness unknown). A
  // holder's copy is kept over surplus ones only once it has been up for
  // surplus_settle_seconds.
  std::int64_t up_since = 0;
  // Bytes committed at this node: complete replicas plus live claims, as
  // CapacityLedger::committed counts them from the catalog. The caller fills it for
  // TierOneRule::judge; TierOneRule::evaluate computes it.
  std::uint64_t committed = 0;

  // The Tier-1 members of a roster (alive, committed 0), in roster order.
  static std::vector<TierOneMember> of(const Roster& roster);
};

// One dataset version (from VersionInfo).
struct TierOneVersion {
  std::string dataset_id;
  std::string version;
  std::uint64_t size = 0;
  PublicKey primary;             // the publisher's node key
  std::string primary_site;      // the publisher's site (VersionInfo::data_node)
  std::int64_t published_at = 0;
  std::string previous_version;  // the version it supersedes, or empty
  VersionStatus status = VersionStatus::published;

  std::string instance_id() const { return dataset_id + "." + version; }
  std::string previous_instance_id() const {
    return previous_version.empty() ? std::string() : dataset_id + "." + previous_version;
  }
  static TierOneVersion from(const VersionInfo& info);
};

// The per-version input of TierOneRule::judge.
struct TierOneCase {
  TierOneVersion version;
  // The catalog's replica locations and claims of this version: the latest record per
  // node (Catalog::replicas / Catalog::claims). Any order. Records of nodes that are
  // not Tier-1 members are ignored. If a node appears twice, the newer one counts (by
  // time; on equal times "dropped" over "complete", "release" over "take", then the
  // later deadline), so the answer never depends on the order.
  std::span<const ReplicaLocation> replicas;
  std::span<const ClaimInfo> claims;
  // Nodes holding a complete replica of previous_version (empty if none or unknown).
  std::span<const PublicKey> previous_holders;
  // Local only: when this node expects its own transfer of the version to be complete
  // and verified (nullopt: unknown, or not transferring). Used only for the local
  // node's actions, never for the verdict.
  std::optional<std::int64_t> local_eta;
};

// "a is newer than b" for two records of the same node (see TierOneCase).
bool newer_replica(const ReplicaLocation& a, const ReplicaLocation& b);
bool newer_claim(const ClaimInfo& a, const ClaimInfo& b);

}  // namespace fedswarm
