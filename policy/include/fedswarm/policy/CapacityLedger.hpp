// CapacityLedger: bytes committed at each node, computed from catalog records only, so
// every Tier-1 node computes the same free capacity for the ranking of the
// one-Tier-1-copy rule (TierOneRule.hpp). Local disk space plays no part: a node short
// of disk releases claims through the engine, which the catalog then shows.
//
// committed(node, now) = Σ size of versions whose latest replica record by `node` is
//                          complete (retracted ones too: they take room until dropped)
//                      + Σ size of versions whose latest claim by `node` reserves:
//                          action take, effective deadline ≥ now, the node does not hold
//                          the version complete, the version is not retracted
// free capacity for ranking version X = capacity + (X's reservation at the node, if any)
//                                       − committed   (saturating at 0)
// The reservation of X itself is added back so a claimant's own claim does not lower its
// rank for that very version.
//
// Incremental: the engine (or a simulation) feeds each version, replica record and
// claim as it is stored; a record replaces the node's previous one for that version
// (the catalog keeps the latest per node). Records may come before their version
// (size 0 until the version is known). Claims pass their deadline by themselves: the
// ledger moves them out of the live sum lazily when `committed` is asked with a later
// time (amortised O(log n) per claim); an earlier time than before moves them back.
//
// Contract: single-threaded (owned by the policy caller's thread); no I/O; no errors
// (unknown nodes have 0 committed).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "fedswarm/policy/TierOneCase.hpp"
#include "fedswarm/policy/TierOneConfig.hpp"

namespace fedswarm {

// Whether a claim reserves its version's size at its node (see above).
bool claim_reserves(const TierOneConfig& config, const ClaimInfo& claim, bool node_holds_complete, bool retracted,
                    std::int64_t now);

class CapacityLedger {
 public:
  explicit CapacityLedger(TierOneConfig config = {});

  void put_version(std::string_view instance_id, std::uint64_t size, bool retracted);
  // The node's latest replica record / claim for the version (replaces the previous).
  void put_replica(std::string_view instance_id, const ReplicaLocation& replica);
  void put_claim(std::string_view instance_id, const ClaimInfo& claim);

  // Not const: moves claims whose deadline passed out of the live sum.
  std::uint64_t committed(const PublicKey& node, std::int64_t now);
  // Sets `committed` of every member.
  void fill(std::span<TierOneMember> members, std::int64_t now);

 private:
  struct Entry {
    bool complete = false;
    bool has_claim = false;
    ClaimInfo claim;
  };
  struct Version {
    std::uint64_t size = 0;
    bool retracted = false;
    std::map<PublicKey, Entry> nodes;
  };
  // Reserved bytes by effective deadline, split at `now`: `live` holds deadlines ≥ now.
  struct Node {
    std::uint64_t complete_bytes = 0;
    std::map<std::int64_t, std::uint64_t> live, expired;
    std::uint64_t live_bytes = 0;
    std::int64_t now = INT64_MIN;
  };

  void add(const PublicKey& node, const Version& v, const Entry& e, int sign);
  void advance(Node& n, std::int64_t now);

  TierOneConfig config_;
  std::map<std::string, Version, std::less<>> versions_;
  std::map<PublicKey, Node> nodes_;
};

}  // namespace fedswarm
