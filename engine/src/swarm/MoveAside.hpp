// MoveAside (engine-private): takes a dataset version directory out of the DRS tree in
// one atomic rename, and deletes one — the file-system half of quarantine, delete and
// a failed `verify` (RetractionActions, ReplicaVerifier).
//
// Contract
// - `move_aside` renames `dir` to `<quarantine>/<instance_id>` (or `<instance_id>.2`,
//   `.3`, … if taken) and fsyncs both parents, so after a crash the directory is in
//   exactly one of the two places. When `quarantine` is on another file system
//   (a publisher's archive tree outside the data root) it uses `.quarantine/` beside
//   the version's dataset directory instead: a rename never copies, and DrsScanner skips
//   `.quarantine` folders. Errors: `io` (reason move_aside_failed) naming both paths.
// - `find_moved_aside` finds a previous move of `instance_id` in either place (the
//   crash-recovery half: the rename happened, the catalog update did not).
// - `remove_version_directory` deletes `dir` recursively, refusing (io,
//   remove_refused) a path that does not look like a version directory of
//   `instance_id` — its name must be the version or start with the instance id — so a
//   bad catalog row can never make it delete anything else.
// - `exists_no_follow`: something (a directory, a file, a dangling link) is at `p`,
//   without following a final symlink; false for an empty path or any error.
// - Not thread-safe for the same instance id; distinct ids may run concurrently.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

Result<std::filesystem::path> move_aside(const std::filesystem::path& dir, const std::filesystem::path& quarantine,
                                         std::string_view instance_id);

std::optional<std::filesystem::path> find_moved_aside(const std::filesystem::path& original_dir,
                                                      const std::filesystem::path& quarantine,
                                                      std::string_view instance_id);

Status remove_version_directory(const std::filesystem::path& dir, std::string_view instance_id);

bool exists_no_follow(const std::filesystem::path& p);

}  // namespace fedswarm
