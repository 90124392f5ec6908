// DropLocalCopy: deletes this node's placed copy of a dataset version and, when asked,
// tells the federation with a signed Replica{dropped} record — the one way a complete
// local copy leaves the DRS tree for good: a retraction whose action is delete
// (RetractionActions), a surplus Tier-1 copy released (TierOneDuty).
//
// Steps, ordered so that a crash at any point leaves a state that is finished later:
// 1. one catalog transaction: the "dropped" replica record (if `sign_record` and the
//    row is not dropped yet) and the local row, state dropped with its path kept —
//    "dropped with a path" means "deletion unfinished";
// 2. the version directory is removed (remove_version_directory: only a directory that
//    looks like the version's own, so a bad row can never delete anything else);
// 3. the path is cleared (one more transaction).
// A crash after 1 is finished by `finish_local_drops` (the replication loop's start) or
// by calling `drop_local_copy` again with the dropped row: 2 and 3, no second record.
//
// Contract: the caller has stopped seeding and fetching the version first (the swarm
// engine must not hold its files). Not thread-safe for one instance id; the catalog
// serialises writers. Errors: the catalog's (`io`; `unauthorized` if this node may not
// sign replica records), remove_version_directory's (`io`: remove_refused,
// remove_failed) — the row then stays "dropped with a path" and a later call finishes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fedswarm/protocol/Result.hpp"
#include "fedswarm/protocol/SigningKey.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

// Drops `local` (this node's row of `version`; complete, or dropped with a path). `note`
// goes to the row's last_error (why it went). Returns the seq of the record signed, or
// 0 when none was (not asked, or signed before a crash).
Result<std::uint64_t> drop_local_copy(Catalog& catalog, const SigningKey& key, const LocalReplica& local,
                                      const VersionInfo& version, bool sign_record, const std::string& note,
                                      std::int64_t now);

// Finishes every deletion a crash interrupted (dropped rows that still name a path):
// removes the directory if it is there, clears the path. Returns their instance ids.
Result<std::vector<std::string>> finish_local_drops(Catalog& catalog, std::int64_t now);

}  // namespace fedswarm
