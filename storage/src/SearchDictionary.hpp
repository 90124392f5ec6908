// SearchDictionary: the writer's in-memory copy of the facet dictionary — facet name ->
// facet id (u16), (facet, value) -> value id (u32) — so indexing a document costs one
// hash lookup per facet value, not B-tree searches (private to storage/). Its memory is
// proportional to the number of distinct facet values in the catalog.
//
// Contract
// - Used only inside write transactions, under the catalog's write lock (not
//   thread-safe by itself).
// - `sync` at the start of every write transaction catches up with entries other
//   processes added (ids are dense and allocated in order, so it reads only the new
//   tail of the `values` table).
// - Ids allocated during a transaction are written to the tables at once; `commit` keeps
//   them in the cache, `rollback` forgets them (the transaction was aborted or is being
//   replayed after map growth).
// - Errors: `io` from LMDB; `invalid` (reason catalog_too_many_facets) when the u16
//   facet id space is exhausted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "CatalogRows.hpp"
#include "CatalogTables.hpp"
#include "LmdbTxn.hpp"

namespace fedswarm {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

class SearchDictionary {
 public:
  Status sync(LmdbTxn& txn, const CatalogTables& t);
  // The ids of (facet, value), allocating missing ones: one hash lookup when known.
  Result<FacetPair> lookup(LmdbTxn& txn, const CatalogTables& t, std::string_view facet, std::string_view value);
  // Writes the id counters to `meta` (end of a transaction that allocated ids).
  Status flush(LmdbTxn& txn, const CatalogTables& t);
  void commit();
  void rollback();

 private:
  Status reload(LmdbTxn& txn, const CatalogTables& t, std::uint32_t db_next_value, std::uint16_t db_next_facet);
  Result<std::uint16_t> facet(LmdbTxn& txn, const CatalogTables& t, std::string_view name);

  // (facet, value) pairs in value id order; `text` is "facet\0value" in `arena_`.
  struct Entry {
    std::uint64_t hash;
    std::uint32_t text;
    std::uint32_t length;
    FacetPair pair;
  };
  // Open addressing (linear probing, load <= 1/2) over `entries_`: index + 1, 0 = empty.
  // Node-free, so a lookup is a hash of the key and about one cache line.
  std::optional<FacetPair> find(std::string_view key, std::uint64_t hash) const;
  void add(std::string_view key, std::uint64_t hash, FacetPair pair);
  void rebuild_table();

  StringMap<std::uint16_t> facets_;
  std::vector<std::string> facet_names_;  // by facet id
  std::vector<Entry> entries_;
  std::string arena_;
  std::vector<std::uint32_t> table_;
  std::uint32_t next_value_ = 0;
  std::uint16_t next_facet_ = 0;
  bool synced_ = false;
  // Facets allocated by the open transaction (its values are the entries past
  // committed_next_value_).
  std::vector<std::string> new_facets_;
  std::uint32_t committed_next_value_ = 0;
  std::uint16_t committed_next_facet_ = 0;
  std::string key_;  // scratch
};

}  // namespace fedswarm
