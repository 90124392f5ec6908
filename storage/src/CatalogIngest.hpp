// CatalogIngest: applies records to the catalog inside one write transaction — receipt
// rules 3 (sequence) and 5 (immutability) here, rules 1, 2, 4 through RecordValidator —
// and keeps every table and index in step (private to storage/).
//
// Contract
// - One instance per write-transaction attempt: construct, `begin`, `ingest` any number
//   of envelopes, `finish`, then commit. Records and rows are written as they are
//   applied; pending counts, file-index entries and search-index changes are buffered
//   and written in `finish`. Replayable: a fresh instance on a fresh transaction redoes
//   the same work.
// - `ingest` returns an IngestResult for receipt outcomes (stored, duplicate, parked,
//   refused) and a non-OK Result only for LMDB/OS failures, which abort the whole
//   transaction.
// - A refused record writes nothing, except a manifest conflict, which is recorded in
//   the `conflicts` table.
// - Not thread-safe; runs under the catalog's write lock.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "CatalogLog.hpp"
#include "CatalogLookup.hpp"
#include "CatalogRows.hpp"
#include "CatalogTables.hpp"
#include "SearchIndexWriter.hpp"
#include "fedswarm/protocol/RecordValidator.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

// Parked records per author beyond which more are refused (reason gap_too_large): a
// gap this long is re-fetched in order by anti-entropy rather than held here. Bounds
// the `pending` table per author, together with kMaxParkedBytes.
inline constexpr std::uint32_t kMaxParkedRecords = 10'000;
inline constexpr std::uint64_t kMaxParkedBytes = 256ull << 20;

struct KeyHash {
  std::size_t operator()(const PublicKey& k) const noexcept {
    std::size_t h;
    std::memcpy(&h, k.data(), sizeof(h));
    return h;
  }
};

class CatalogIngest {
 public:
  CatalogIngest(LmdbTxn& txn, const CatalogTables& tables, SearchIndexWriter& index, const RecordValidator& validator,
                RosterCache& rosters, std::int64_t now)
      : txn_(txn), t_(tables), index_(index), validator_(validator), rosters_(rosters), now_(now), log_(tables) {}

  Status begin();
  Result<IngestResult> ingest(const Envelope& env, bool signature_checked);
  Status finish();

  // The next sequence number of `author`'s log (for append_local).
  Result<std::uint64_t> next_seq(const PublicKey& author);

  // What a node's latest replica record of a version and authorship make it count in
  // NodeTotals (Catalog.hpp): held, complete.
  enum class Repl : std::uint8_t { none, complete, dropped };
  struct Holding {
    bool held = false, complete = false;
  };
  static Holding holding(bool publisher, Repl repl);

 private:
  struct ParkedCount {
    std::uint32_t records = 0;
    std::uint64_t bytes = 0;
    bool changed = false;
  };
  struct FileEntry {
    std::uint64_t key;
    std::uint64_t value;  // doc << 32 | file index
  };
  // Changes to a node's NodeTotals in this transaction, written by `finish`.
  struct NodeDelta {
    std::int64_t held_versions = 0, held_bytes = 0, complete_versions = 0, complete_bytes = 0;
  };
  void count(const PublicKey& node, const Holding& before, std::uint64_t size_before, const Holding& after,
             std::uint64_t size_after);
  Status mark_node_version(const PublicKey& node, std::string_view instance_id, std::uint8_t bit);

  Result<std::uint64_t*> vv_slot(const PublicKey& author);
  Result<ParkedCount*> parked_slot(const PublicKey& author);
  Result<IngestResult> park(const Envelope& env, bool signature_checked);
  // Applies a record whose seq is the next one; `stored` or `refused`.
  Result<IngestResult> apply(const Envelope& env, bool signature_checked);
  Result<std::uint32_t> release(const PublicKey& author);

  // Per kind; each returns the refusal error or nothing (stored).
  Result<std::optional<Error>> apply_manifest(const Envelope& env, const Manifest& m, const DatasetId& id);
  Status apply_retraction(const Envelope& env, const Retraction& r);
  Status apply_replica(const Envelope& env, const ReplicaRecord& r);
  Status apply_claim(const Envelope& env, const Claim& c);
  Status apply_roster(const Envelope& env, const Roster& r);
  // Appends `env` to the log and advances its author's seq.
  Result<std::uint64_t> append_log(const Envelope& env);
  std::string site_of(const PublicKey& key) const;
  bool known_author(const PublicKey& key) const;

  LmdbTxn& txn_;
  const CatalogTables& t_;
  SearchIndexWriter& index_;
  const RecordValidator& validator_;
  RosterCache& rosters_;
  std::int64_t now_;
  CatalogLog log_;

  PublicKey authority_;
  std::uint64_t roster_serial_ = 0;
  std::shared_ptr<const Roster> roster_;
  std::uint32_t next_doc_ = 0;
  std::uint32_t first_doc_ = 0;
  std::unordered_map<PublicKey, std::uint64_t, KeyHash> vv_;  // last applied seq per author
  std::unordered_map<PublicKey, ParkedCount, KeyHash> parked_;
  std::unordered_map<PublicKey, NodeDelta, KeyHash> node_deltas_;
  std::vector<std::string> touched_;  // of the record being ingested (and its released successors)
  bool roster_changed_ = false;
  std::vector<FileEntry> tracking_;
  std::vector<FileEntry> sha_;
  // Scratch reused across records.
  std::vector<FacetValueRef> refs_;
  std::vector<FacetPair> pairs_;
};

}  // namespace fedswarm
