// Placement (engine-private): turns a fully downloaded staged version into a verified
// replica in the DRS tree (DESIGN §5), in crash-safe order:
//   0. the files not downloaded because an earlier local version holds the same bytes
//      (`links`, see StagingArea.hpp) are linked into the staged directory;
//   1. every file of the manifest: size checked, SHA-256 checked unless the file is
//      in `trusted` (every piece verified by libtorrent in this run: one hash pass),
//      then fsynced; every directory of the version fsynced;
//   2. one rename of `<staging_root>/<version>` to `<data_root>/<DRS path>/<version>`
//      (parents created), then both parents fsynced;
//   3. one catalog transaction: the LocalReplica `complete` (path, resume data) and a
//      signed ReplicaRecord (complete) via Catalog::append_local;
//   4. the staging root (libtorrent's leftovers) removed.
// A crash before 2 leaves the version in staging (state verifying: placed again on
// restart); between 2 and 3 the directory is in the DRS tree and verified, and the next
// fetch finds it there and records it (`adopt`: steps 1, 3 and 4 on the final
// directory); after 3 the replica is complete and SwarmEngine::restore removes what is
// left of the staging root.
//
// Outcomes: placed; verify_failed (a file is missing, has another size or SHA-256; the
// first such file is named in `file`, and `linked` says whether it came from an earlier
// local version; the links of step 0 are removed again, and with
// `keep_staging_on_mismatch` false the whole staging root is deleted so the version is
// fetched again from scratch); error (the
// rename, a directory, fsync or the catalog failed; or, for `adopt`, the existing
// directory does not match: reason destination_mismatch); cancelled (engine stopping).
// If the catalog refuses the replica record (e.g. this node is not a roster member) the
// LocalReplica is still written and `record_error` says why.
//
// Contract: runs on the engine's worker thread; `cancel` is checked between files.
// Uses the catalog (thread-safe) and the key (read-only).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>

#include "swarm/StagingArea.hpp"
#include "fedswarm/protocol/Manifest.hpp"
#include "fedswarm/protocol/SigningKey.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

struct PlacementJob {
  Manifest manifest;
  std::filesystem::path staging_root;  // <data_root>/.staging/<instance_id>
  std::filesystem::path final_dir;     // <data_root>/<DRS path>/<version>
  bool adopt = false;                  // final_dir exists already: verify and record it in place
  Bytes resume_data;                   // stored with the complete replica (merkle trees for seeding)
  std::int64_t now = 0;
  std::vector<LinkedFile> links;       // linked in before verification (not with `adopt`)
  // On a mismatch, leave libtorrent's staged files for a re-check (the engine holds the
  // merkle trees in resume data) instead of deleting the staging root.
  bool keep_staging_on_mismatch = false;
  // Manifest paths of files whose every piece libtorrent verified against the signed
  // merkle roots in this run (after the pause confirmed their writes): size checked and
  // fsynced, not read again. Ignored with `adopt` and for `links`.
  std::set<std::string> trusted;
};

struct PlacementOutcome {
  enum class Kind : std::uint8_t { placed, verify_failed, error, cancelled };
  Kind kind = Kind::error;
  std::string reason;         // stable identifier of a failure
  std::string message;        // what failed and what to do
  std::string file;           // verify_failed: the manifest path of the file that differed
  bool linked = false;        // verify_failed: that file was linked from an earlier local version
  std::uint64_t record_seq = 0;
  std::string record_error;   // the replica record was refused (placed anyway)
  std::uint64_t bytes_rehashed = 0;  // read for their SHA-256 (whatever the outcome)
  std::uint64_t bytes_trusted = 0;   // files of `trusted` checked by size only
};

PlacementOutcome place_version(const PlacementJob& job, Catalog& catalog, const SigningKey& key,
                               const std::atomic<bool>& cancel);

}  // namespace fedswarm
