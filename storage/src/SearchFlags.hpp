// SearchFlags: the per-document flags (latest, retracted, superseded) as bitmaps stored in
// blocks of kFlagBlockBits documents, one bitmap per flag kind (private to storage/).
//
// A query tests a candidate with one bit test on a block it loaded once; a block is
// 1 KiB so it fits in an LMDB leaf page and is rewritten cheaply when a flag changes.
//
// - FlagReader: read transactions. Blocks are used in place (pointers into the map,
//   valid for the transaction); byte-wise access, so alignment does not matter.
// - FlagWriter: one write transaction. Changed blocks are kept in memory and written
//   back by `flush`; a missing block reads as all zero.
// Neither is thread-safe; each lives inside one transaction.
#pragma once

#include <array>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "CatalogTables.hpp"
#include "LmdbTxn.hpp"

namespace fedswarm {

inline constexpr std::uint32_t kFlagBlockBits = 8192;
inline constexpr std::uint32_t kFlagBlockBytes = kFlagBlockBits / 8;

using FlagKey = std::array<std::uint8_t, 5>;
// kind: 0 latest, 1 retracted, 2 superseded (DocFlag == 1 << kind).
FlagKey flag_key(unsigned kind, std::uint32_t block);

class FlagReader {
 public:
  FlagReader(LmdbTxn& txn, MDB_dbi dbi) : txn_(&txn), dbi_(dbi) {}
  // The block's bytes, or nullptr when no document of the block has the flag.
  const std::uint8_t* block(unsigned kind, std::uint32_t block);
  bool test(unsigned kind, std::uint32_t doc) {
    const std::uint8_t* b = block(kind, doc / kFlagBlockBits);
    std::uint32_t bit = doc % kFlagBlockBits;
    return b && (b[bit >> 3] >> (bit & 7) & 1);
  }
  std::uint8_t flags(std::uint32_t doc) {
    std::uint8_t f = 0;
    for (unsigned k = 0; k < kFlagKinds; ++k)
      if (test(k, doc)) f |= static_cast<std::uint8_t>(1u << k);
    return f;
  }

 private:
  LmdbTxn* txn_;
  MDB_dbi dbi_;
  // Per kind, per block: nullptr = not loaded, kAbsent = no such block.
  std::array<std::vector<const std::uint8_t*>, kFlagKinds> blocks_;
};

class FlagWriter {
 public:
  explicit FlagWriter(MDB_dbi dbi) : dbi_(dbi) {}
  Result<std::uint8_t> get(LmdbTxn& txn, std::uint32_t doc);
  Status set(LmdbTxn& txn, std::uint32_t doc, std::uint8_t flags);
  Status flush(LmdbTxn& txn);

 private:
  struct Block {
    std::array<std::uint8_t, kFlagBlockBytes> bits{};
    bool changed = false;
  };
  Result<Block*> load(LmdbTxn& txn, unsigned kind, std::uint32_t block);
  MDB_dbi dbi_;
  std::unordered_map<std::uint64_t, Block> loaded_;  // (kind << 32 | block) -> bitmap
};

}  // namespace fedswarm
