// CatalogTables: the LMDB tables of a catalog and their key encodings (private to
// storage/; README.md "Catalog" describes the layout for humans).
//
// Integers inside composite keys are big-endian so byte order is numeric order;
// MDB_INTEGERKEY / MDB_INTEGERDUP tables use native unsigned integers (LMDB compares
// them as integers). Values are native-endian, written and read with memcpy.
#pragma once

#include <lmdb.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "LmdbEnv.hpp"
#include "fedswarm/protocol/Bytes.hpp"

namespace fedswarm {

// Search flags of a document (one dataset version), kept as bitmaps (SearchFlags).
enum DocFlag : std::uint8_t {
  kLatest = 1,      // the newest version of its dataset and not retracted
  kRetracted = 2,   // a retraction exists for its instance id
  kSuperseded = 4,  // a newer version of its dataset exists
};
inline constexpr unsigned kFlagKinds = 3;

// The three unfiltered views a query can ask for (SearchQuery all_versions /
// include_retracted); counters are kept for each.
enum View : std::uint8_t { kViewLatest = 0, kViewVisible = 1, kViewAll = 2 };
inline constexpr unsigned kViews = 3;
inline bool in_view(std::uint8_t flags, unsigned view) {
  switch (view) {
    case kViewLatest: return flags & kLatest;
    case kViewVisible: return !(flags & kRetracted);
    default: return true;
  }
}

struct CatalogTables {
  MDB_dbi meta{};           // name -> value (authority, roster, counters, dictionary size)
  MDB_dbi log{};            // position (u64, INTEGERKEY) -> record chunk (CatalogLog)
  MDB_dbi log_index{};      // author(32) -> seq(u64 BE) position(u64 BE) (dupsort, CatalogLog)
  MDB_dbi pending{};        // author(32) seq(u64 BE) -> parked record: kind(u16) signature(64) body
  MDB_dbi pending_count{};  // author(32) -> number of parked records (u32)
  MDB_dbi docs{};           // doc id (u32, INTEGERKEY) -> DocRow
  MDB_dbi versions{};       // xxh3-64(dataset id) (u64, INTEGERKEY) -> doc ids (dupsort u32)
  MDB_dbi retractions{};    // instance id -> RetractionRow (first retraction wins)
  MDB_dbi facets{};         // facet name -> facet id (u16)
  MDB_dbi values{};         // value id (u32, INTEGERKEY) -> facet id (u16) value bytes
  MDB_dbi value_ids{};      // facet id (u16 BE) value bytes -> value id (u32)
  MDB_dbi counts{};         // facet id (u16 BE) value id (u32 BE) -> u64[3] per View
  MDB_dbi postings{};       // value id (u32, INTEGERKEY) -> doc ids (dupsort u32)
  MDB_dbi flags{};          // flag kind (u8) block (u32 BE) -> SearchFlags block bitmap
  MDB_dbi tracking{};       // file_key(doc, xxh3-64(tracking id)) -> doc<<32|file (dupsort u64)
  MDB_dbi sha{};            // file_key(doc, first 8 bytes of SHA-256) -> doc<<32|file (dupsort u64)
  MDB_dbi replicas{};       // instance id 0x00 node(32) -> ReplicaRow
  MDB_dbi claims{};         // instance id 0x00 node(32) -> ClaimRow
  MDB_dbi conflicts{};      // instance id 0x00 refused digest(32) -> ConflictRow
  MDB_dbi locals{};         // instance id -> LocalReplica
  // The local-change sequence (Catalog::local_changes_after): change (u64, INTEGERKEY)
  // -> instance id, and instance id -> its latest change (u64). Absent from a catalog
  // no fedswarm with the sequence opened read-write: handles 0 then (read-only opens).
  MDB_dbi local_changes{};
  MDB_dbi local_change_of{};
  MDB_dbi nodes{};          // node(32) -> NodeTotals (u64[4]: held versions, held bytes, complete versions, complete bytes)
  MDB_dbi node_versions{};  // node(32) instance id -> u8 bits: 1 replica record, 2 claim

  std::vector<LmdbEnv::TableSpec> specs();
};

// Keys of the `meta` table.
namespace meta_key {
inline constexpr std::string_view format = "format";            // u32 layout version
inline constexpr std::string_view authority = "authority";      // 32 bytes
inline constexpr std::string_view roster = "roster";            // current roster envelope (log format + author)
inline constexpr std::string_view roster_serial = "roster_serial";  // u64, 0 = none
inline constexpr std::string_view next_doc = "next_doc";        // u32
inline constexpr std::string_view dictionary = "dictionary";    // u32 next value id, u16 next facet id
inline constexpr std::string_view view_counts = "view_counts";  // u64[3] documents per View
}  // namespace meta_key

// 2: the `nodes` and `node_versions` tables (built from a layout-1 catalog's replica
// and claim rows when it is first opened for writing).
inline constexpr std::uint32_t kFormatVersion = 2;
inline constexpr std::uint8_t kNodeHasReplica = 1, kNodeHasClaim = 2;

// node(32) || instance id: the `node_versions` key.
inline std::string node_version_key(const PublicKey& node, std::string_view instance_id) {
  std::string k(reinterpret_cast<const char*>(node.data()), 32);
  k.append(instance_id);
  return k;
}

inline void put_u16_be(std::uint8_t* out, std::uint16_t v) {
  out[0] = static_cast<std::uint8_t>(v >> 8);
  out[1] = static_cast<std::uint8_t>(v);
}
inline std::uint16_t get_u16_be(const std::uint8_t* in) { return static_cast<std::uint16_t>(in[0] << 8 | in[1]); }

// facet id (BE) || value id (BE): the `counts` key, so one facet's values are adjacent.
using CountKey = std::array<std::uint8_t, 6>;
inline CountKey count_key(std::uint16_t facet, std::uint32_t value) {
  CountKey k;
  put_u16_be(k.data(), facet);
  put_u32_be(k.data() + 2, value);
  return k;
}

// author || seq (big-endian): the `pending` key.
using PendingKey = std::array<std::uint8_t, 40>;
inline PendingKey pending_key(const PublicKey& author, std::uint64_t seq) {
  PendingKey k;
  std::copy(author.bytes.begin(), author.bytes.end(), k.begin());
  put_u64_be(k.data() + 32, seq);
  return k;
}

// instance id || 0x00 || 32 bytes (node key or digest).
inline std::string instance_key(std::string_view instance_id, ByteView suffix) {
  std::string k;
  k.reserve(instance_id.size() + 1 + suffix.size());
  k.append(instance_id);
  k.push_back('\0');
  k.append(as_chars(suffix));
  return k;
}

// Key of the file indexes: the document's generation (doc id / kDocsPerGeneration) in
// the top 16 bits, then the top 48 bits of the hash. Inserts of a batch land in the
// current generation's small subtree (few dirty pages per commit) instead of all over a
// tree of every file; a lookup probes each generation (N / 65,536 B-tree searches).
inline constexpr std::uint32_t kDocsPerGeneration = 1u << 16;
inline std::uint64_t file_key(std::uint32_t generation, std::uint64_t hash) {
  return static_cast<std::uint64_t>(generation) << 48 | hash >> 16;
}

std::uint64_t dataset_hash(std::string_view dataset_id);
std::uint64_t tracking_hash(std::string_view tracking_id);
std::uint64_t sha_prefix(const Sha256& digest);

// Splits "dataset.id.vYYYYMMDD" at its last '.'; false if there is none.
bool split_instance_id(std::string_view instance_id, std::string_view& dataset_id, std::string_view& version);

}  // namespace fedswarm
