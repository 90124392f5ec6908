// xxh3_file: the xxh3-128 digest of a file alone — the fast check of `fedswarm verify`
// (several times faster than SHA-256, and as good at catching bit rot and truncation;
// not a defence against a forger, which is what the signed SHA-256 is for).
//
// Contract
// - Same digest form as FileHasher (canonical big-endian XXH128_canonicalFromHash), so
//   it compares with ManifestFile::xxh3 directly.
// - Errors are values: `io` with reason `unreadable_file` (cannot open, read error, not
//   a regular file, size changed while reading), the message naming the path.
// - Thread-safe (each call owns its buffer); `progress` is called on the calling thread
//   after each chunk, with the bytes of this file read so far.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

Result<Xxh128> xxh3_file(const std::filesystem::path& path,
                         const std::function<void(std::uint64_t bytes_done)>& progress = {});

}  // namespace fedswarm
