// FileHasher: every digest fedswarm needs of a data file, in one sequential read pass —
// SHA-256 (libsodium, the manifest's integrity digest), xxh3-128 (xxHash, the fast
// digest `fedswarm verify` uses) and the BitTorrent v2 (BEP 52) piece layer: the
// SHA-256 of every 16 KiB block, grouped into one merkle root per piece.
//
// Piece hashes follow libtorrent's create_torrent/set_piece_hashes exactly, so the
// info dict built from them is byte-identical to one libtorrent hashes itself:
// - a block hash is SHA-256 of the block's real bytes (the last block may be short);
// - a file of at least one piece length: each piece's root is the merkle root of its
//   block hashes, padded with all-zero leaf hashes up to piece_length / 16 KiB leaves;
// - a file shorter than one piece: one root, padded only up to the next power of two
//   of its block count;
// - an empty file has no pieces.
//
// Contract
// - A FileHasher owns one read buffer and is not thread-safe: use one per thread. The
//   functions below it are pure and thread-safe.
// - Errors are values: `io` with reason `unreadable_file` (cannot open, read error, the
//   file changed size while being read, not a regular file), the message naming the
//   path and saying what to do. Never throws on file contents.
// - `progress` (optional) is called on the calling thread after each chunk read, with
//   the bytes of this file hashed so far.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <vector>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

// BEP 52 block size: the leaf size of every v2 merkle tree.
inline constexpr std::uint64_t kV2BlockSize = 16 * 1024;

struct FileDigest {
  std::uint64_t size = 0;
  Sha256 sha256;
  Xxh128 xxh3;  // canonical big-endian (XXH128_canonicalFromHash)
  // One merkle root per piece of `piece_length` (empty for an empty file, or when no
  // piece length was asked for).
  std::vector<Sha256> piece_roots;
};

class FileHasher {
 public:
  using Progress = std::function<void(std::uint64_t bytes_done)>;

  // Default read size: large sequential reads keep parallel file systems (GPFS, Lustre)
  // streaming; 1 MiB is also a multiple of every piece size up to 1 MiB.
  static constexpr std::size_t kDefaultBufferBytes = 1u << 20;

  explicit FileHasher(std::size_t buffer_bytes = kDefaultBufferBytes);

  // Hashes the file at `path` (symlinks are followed). `piece_length` is 0 (no piece
  // layer) or a power of two >= 16 KiB; any other value is `invalid`
  // (reason bad_piece_length).
  Result<FileDigest> hash(const std::filesystem::path& path, std::uint64_t piece_length,
                          const Progress& progress = {});

 private:
  std::vector<std::uint8_t> buffer_;
};

// Merkle root of `leaves`, whose count must be a power of two (>= 1): pairs are
// hashed as SHA-256(left || right) level by level. Pure; exposed for tests.
Sha256 merkle_root_pow2(std::span<const Sha256> leaves);

// The piece roots of an in-memory byte string, by the same rules as FileHasher::hash.
// Pure; for tests and small inputs.
std::vector<Sha256> v2_piece_roots(ByteView data, std::uint64_t piece_length);

}  // namespace fedswarm
