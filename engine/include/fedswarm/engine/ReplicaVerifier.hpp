// ReplicaVerifier: `fedswarm verify` — re-hashes this node's complete local replicas
// against their signed manifests, and withdraws a replica that fails.
//
// Modes: fast (xxh3-128 of every file: catches bit rot, truncation and partial writes
// at several GB/s) and full (SHA-256 and xxh3-128: the manifest's integrity digest).
// Every file of the manifest is checked (existence, regular file, size, digest) and
// every problem is reported; files in the directory that the manifest does not list
// are ignored.
//
// Withdrawal of a failed replica (`withdraw`), in crash-safe order:
//   1. the version directory is moved aside into the quarantine (MoveAside: one
//      rename, fsynced; <data_root>/.quarantine/<instance_id>, or .quarantine/ beside
//      the dataset directory when the replica is on another file system, e.g. a
//      publisher's own archive tree);
//   2. one catalog transaction: a signed "dropped" replica record and the local state
//      `wanted` (path cleared, the failure in last_error), so the swarm fetches the
//      version again — or `dropped` if the version is retracted (never fetched again).
// A crash after 1 leaves "complete" pointing at a missing directory: the next verify
// reports it missing and finishes the withdrawal. If this node may not sign replica
// records (not a roster member), the state is still written and the refusal is
// returned in `record_error`.
//
// Contract
// - Runs on the calling thread; `progress` is called from it. One ReplicaVerifier per
//   thread; `home` and `catalog` must outlive it.
// - A running node may be seeding the replica: `withdraw` moves its directory away
//   (libtorrent then sees missing files); the CLI notifies the node afterwards.
// - Errors of the Result are whole-run problems (catalog I/O, a rename that fails);
//   a file that does not match is a finding in the report, not an error.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "fedswarm/engine/NodeHome.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

enum class VerifyMode : std::uint8_t { fast, full };

struct VerifyProblem {
  std::string file;     // relative path in the version ("" for the directory itself)
  std::string reason;   // missing_directory, missing_file, not_regular_file, size_mismatch,
                        // xxh3_mismatch, sha256_mismatch, unreadable_file
  std::string message;  // human sentence (the path is `directory`/`file`)
};

struct VerifyProgress {
  std::uint64_t bytes_done = 0;   // of this version
  std::uint64_t bytes_total = 0;
  std::string current;            // file being hashed
};

struct VerifyReport {
  std::string instance_id;
  std::string directory;
  VerifyMode mode = VerifyMode::fast;
  bool ok = true;
  std::size_t files_checked = 0;
  std::uint64_t bytes_checked = 0;
  std::vector<VerifyProblem> problems;
  // Filled by `withdraw`:
  bool withdrawn = false;
  std::string moved_to;                   // empty if the directory was already gone
  LocalState new_state = LocalState::complete;
  std::uint64_t dropped_record_seq = 0;   // 0 if no record could be signed
  std::string record_error;               // why not, if so
};

class ReplicaVerifier {
 public:
  ReplicaVerifier(const NodeHome& home, Catalog& catalog) : home_(home), catalog_(catalog) {}

  // Checks `local` (a complete replica) against its manifest; changes nothing.
  Result<VerifyReport> check(const LocalReplica& local, VerifyMode mode,
                             const std::function<void(const VerifyProgress&)>& progress = {});
  // Withdraws the replica a failed `report` describes (see above) and completes the
  // report's withdrawal fields.
  Status withdraw(VerifyReport& report, std::int64_t now);
  // check, then withdraw if it failed.
  Result<VerifyReport> verify(const LocalReplica& local, VerifyMode mode, std::int64_t now,
                              const std::function<void(const VerifyProgress&)>& progress = {});

 private:
  const NodeHome& home_;
  Catalog& catalog_;
};

}  // namespace fedswarm
