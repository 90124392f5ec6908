// SearchIndexWriter: the search-index side of one write transaction (private to
// storage/). It turns facet names and values into ids, and buffers what indexing a
// document changes — posting-list entries, per-value counters for the three views,
// per-view document totals, flag bits — so that a batch of records costs one posting
// write per distinct value and one counter update per distinct value, not one per
// record and facet.
//
// Contract
// - Lives inside one write transaction attempt: construct, `begin`, index, `flush`
//   before commit. After a successful commit call `committed`; on abort or replay the
//   dictionary is rolled back by the next `begin`.
// - Documents are added in increasing doc id order (arrival order), so posting lists
//   are only ever appended to.
// - Not thread-safe; the catalog's write lock covers it.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "CatalogRows.hpp"
#include "CatalogTables.hpp"
#include "SearchDictionary.hpp"
#include "SearchFlags.hpp"

namespace fedswarm {

struct FacetValueRef {
  std::string_view facet;
  std::string_view value;
};

class SearchIndexWriter {
 public:
  SearchIndexWriter(const CatalogTables& tables, SearchDictionary& dict)
      : t_(tables), dict_(dict), flags_(tables.flags) {}

  Status begin(LmdbTxn& txn);
  // Ids of the given facet values, sorted by (facet id, value id), duplicates removed.
  Status resolve(LmdbTxn& txn, std::span<const FacetValueRef> facets, std::vector<FacetPair>& out);
  // Indexes a new document with its initial flags.
  Status add(LmdbTxn& txn, std::uint32_t doc, std::span<const FacetPair> pairs, std::uint8_t flags);
  Result<std::uint8_t> flags(LmdbTxn& txn, std::uint32_t doc) { return flags_.get(txn, doc); }
  // Changes the flags of an indexed document and moves its counters between views.
  Status change(LmdbTxn& txn, std::uint32_t doc, const DocRow& row, std::uint8_t old_flags, std::uint8_t new_flags);
  Status flush(LmdbTxn& txn);
  void committed() { dict_.commit(); }

 private:
  // What this transaction changes for one facet value.
  struct Slot {
    FacetPair pair;
    std::array<std::int64_t, kViews> delta{};  // counter changes per View
    std::vector<std::uint32_t> docs;            // new doc ids, ascending
  };
  Slot& slot(const FacetPair& p);
  void count(const FacetPair& p, std::uint8_t flags, int sign);

  const CatalogTables& t_;
  SearchDictionary& dict_;
  FlagWriter flags_;
  // Dense by value id (ids are dense), so indexing a value costs an array access: 4
  // bytes per dictionary entry for the transaction's lifetime.
  std::vector<std::uint32_t> slot_of_;  // value id -> index in slots_ + 1, 0 = none
  std::vector<Slot> slots_;
  std::array<std::int64_t, kViews> view_delta_{};
};

}  // namespace fedswarm
