// RetractionActions: carries out the node's configured retraction handling
// (`retraction.action` in config.toml) on its local copy of a retracted dataset version
// (DESIGN §7). What to do is decided by policy/RetractionDecision (read its rules:
// keep → flag, quarantine → move to <data_root>/.quarantine/<instance_id>, delete →
// remove + signed "dropped" replica record; the publisher keeps its own tree unless
// the action is delete; unfinished transfers are cancelled).
//
// Contract
// - Idempotent and crash-safe: every step is either one catalog transaction or a
//   rename followed by one transaction, ordered so that a crash at any point leaves a
//   state the next `apply` finishes:
//   quarantine = rename into the quarantine (fsynced), then state quarantined + path;
//     a crash between the two is recognised by the directory being found in the
//     quarantine (MoveAside's find_moved_aside) and only the state is written;
//   delete = drop_local_copy (DropLocalCopy.hpp, shared with the release of surplus
//     Tier-1 copies): the "dropped" replica record and state dropped (path kept) in one
//     transaction, then the directory is removed, then the path is cleared; a crash in
//     between leaves "dropped with a path", which `apply` deletes again.
// - The daemon must stop seeding or fetching the version (the decision's
//   stop_offering) before calling `apply`: this class moves and deletes directories
//   and does not talk to the swarm engine. CLI commands may call it too (the catalog
//   serialises writers); after changing the catalog they notify the running node.
// - One thread at a time per RetractionActions; `home` and `catalog` must outlive it.
// - Errors: the catalog's (`io`, and `unauthorized` if this node may not sign replica
//   records), MoveAside's `io` (move_aside_failed, remove_refused, remove_failed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fedswarm/engine/Config.hpp"
#include "fedswarm/engine/NodeHome.hpp"
#include "fedswarm/policy/RetractionDecision.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

struct RetractionOutcome {
  std::string instance_id;
  RetractionStep step = RetractionStep::none;
  LocalState state = LocalState::complete;  // after the step
  std::string path;                         // after the step (the quarantine path, or empty)
  std::uint64_t dropped_record_seq = 0;     // the signed "dropped" replica record, if one was made
  std::string why;
};

class RetractionActions {
 public:
  RetractionActions(const NodeHome& home, Catalog& catalog);

  // The configured handling, as policy/ names it.
  static RetractionHandling handling(RetractionAction action);

  // What `apply` would do now (no change). nullopt: no local replica.
  Result<std::optional<RetractionDecision>> decide(std::string_view instance_id) const;
  // Applies the decision for this node's local replica of `instance_id`. nullopt: no
  // local replica. A version that is not retracted gives step none and changes nothing.
  Result<std::optional<RetractionOutcome>> apply(std::string_view instance_id, std::int64_t now);
  // `apply` for every local replica of a retracted version (at node start, and after
  // gossip stored retractions). Returns only the outcomes that changed something (not
  // none, not flag: a kept copy is flagged by the catalog's retraction alone).
  Result<std::vector<RetractionOutcome>> apply_all(std::int64_t now);
  // The local replicas (any state) of retracted versions: what apply_all acts on. Reads
  // the local rows a page at a time (for_each_local).
  Result<std::vector<std::string>> retracted_locals() const;

 private:
  const NodeHome& home_;
  Catalog& catalog_;
};

}  // namespace fedswarm
