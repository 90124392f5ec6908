// Crash-safe small-file writes: a reader sees the old file or the new one, never a
// half-written one (write to a temp file beside it, fsync, rename, fsync the directory).
//
// Contract: errors are `io` with the path and the OS reason; on failure the temp file is
// removed and the target is unchanged. Safe to call from any thread for distinct paths.
#pragma once

#include <filesystem>
#include <string_view>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

Status write_file_atomic(const std::filesystem::path& path, ByteView contents, unsigned mode = 0644);
inline Status write_file_atomic(const std::filesystem::path& path, std::string_view contents, unsigned mode = 0644) {
  return write_file_atomic(path, as_bytes(contents), mode);
}
Result<Bytes> read_whole_file(const std::filesystem::path& path);
// fsync a directory so a rename or create inside it is durable.
Status fsync_directory(const std::filesystem::path& dir);

}  // namespace fedswarm
