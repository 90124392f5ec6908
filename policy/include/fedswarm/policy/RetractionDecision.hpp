// RetractionDecision: what a node does with its local copy of a retracted dataset
// version (DESIGN §7), decided from the configured handling, the catalog's view of the
// version and the local replica state. engine/RetractionActions carries it out.
//
// Rules
// - Whatever the handling, a retracted version is no longer fetched or offered
//   (`stop_offering`): transfers stop, seeding stops.
// - A complete replica: keep → `flag` (nothing moves, the state stays complete; every
//   command shows the version as retracted from the catalog); quarantine → `quarantine`
//   (the directory moves to <data_root>/.quarantine/<instance_id>, state quarantined,
//   the data stays on the node but is out of the DRS tree); delete → `remove` (the
//   directory is deleted, state dropped and a signed "dropped" replica record tells
//   the federation).
// - The primary copy (this node published the version): the publisher keeps its
//   original tree unless the handling is delete. quarantine → `flag`: moving an
//   institution's own archive tree out from under its other services (its ESGF data
//   node, its users) is not a replica policy's call; delete → `remove`, as configured.
// - An incomplete local replica (wanted, transferring, verifying, paused) → `cancel`:
//   state dropped; nothing was ever placed in the DRS tree (the swarm engine owns and
//   cleans its staging area).
// - Already handled (quarantined, dropped), or not retracted → `none`. A dropped
//   replica whose directory deletion did not finish (a crash in the middle) is
//   recognised by its non-empty path → `remove` again. So applying a decision twice
//   changes nothing the second time (idempotent).
//
// Contract: pure (no I/O, no clock); thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

// The node's configured handling. Mirrors engine Config's RetractionAction (which
// policy/ cannot include); engine/RetractionActions converts one into the other.
enum class RetractionHandling : std::uint8_t { keep, quarantine, remove };
std::string_view to_string(RetractionHandling h);

enum class RetractionStep : std::uint8_t {
  none,        // nothing to do
  flag,        // keep the complete copy where it is
  quarantine,  // move it out of the DRS tree into the quarantine
  remove,      // delete it and publish a "dropped" replica record
  cancel,      // an unfinished transfer: stop wanting it
};
std::string_view to_string(RetractionStep s);

struct RetractionDecision {
  RetractionStep step = RetractionStep::none;
  bool stop_offering = false;   // retracted: stop fetching and seeding it
  LocalState new_state = LocalState::complete;  // state after the step (unchanged for none/flag)
  bool drop_record = false;     // publish a signed "dropped" replica record
  std::string why;              // one line for logs and the CLI
};

// `version`: the catalog's view (nullopt: unknown version → none). `primary`: this
// node is the version's publisher.
RetractionDecision decide_retraction(RetractionHandling handling, const std::optional<VersionInfo>& version,
                                     const LocalReplica& local, bool primary);

}  // namespace fedswarm
