// CatalogLog: the record log (private to storage/) — every applied record, in the order
// it was applied, plus the index that answers "record `seq` of `author`" and the version
// vector.
//
// Layout
// - `log`: position (u64, INTEGERKEY) -> chunk. A record is cut into chunks of at most
//   kLogChunkBytes, stored at consecutive positions with MDB_APPEND: the first chunk
//   starts with a header (author, seq, kind, signature, body length), the rest carry the
//   body. Fixed small chunks pack four to an LMDB page, where a whole ~3 KiB record
//   would take a 4 KiB overflow page of its own; appending keeps pages full.
// - `log_index`: author (32 bytes) -> dupsort DUPFIXED seq (u64 BE) || position (u64 BE).
//   Seqs of one author are appended in order (MDB_APPENDDUP); the last duplicate is the
//   author's version-vector entry, so there is no separate version-vector table.
//
// Contract: functions run inside a caller's transaction; `append` needs a write
// transaction and caches the next position for its lifetime (one CatalogLog per
// transaction attempt). Errors: `io` from LMDB, `corrupt` for damaged chunks.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "CatalogTables.hpp"
#include "LmdbTxn.hpp"
#include "fedswarm/protocol/Envelope.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

// Value bytes per chunk: four 1000-byte values plus LMDB's per-node overhead fill a
// 4 KiB page.
inline constexpr std::size_t kLogChunkBytes = 1000;

class CatalogLog {
 public:
  explicit CatalogLog(const CatalogTables& tables) : t_(tables) {}

  // Appends `env` (the caller checked it is the author's next seq); returns its position.
  Result<std::uint64_t> append(LmdbTxn& txn, const Envelope& env);

  static Result<Envelope> read(LmdbTxn& txn, const CatalogTables& t, std::uint64_t position);
  // Highest seq of `author` in the log (0 if none).
  static Result<std::uint64_t> last_seq(LmdbTxn& txn, const CatalogTables& t, const PublicKey& author);
  static Result<VersionVector> version_vector(LmdbTxn& txn, const CatalogTables& t);
  // Records of `author` with seq > after, in order, within the limits of
  // Catalog::records_after.
  static Result<std::vector<Envelope>> after(LmdbTxn& txn, const CatalogTables& t, const PublicKey& author,
                                             std::uint64_t after, std::size_t max_records, std::size_t max_bytes);
  static Result<std::uint64_t> count(LmdbTxn& txn, const CatalogTables& t);

 private:
  const CatalogTables& t_;
  std::optional<std::uint64_t> next_;
  std::optional<LmdbCursor> cursor_;  // on `log`, kept for the transaction
};

}  // namespace fedswarm
