// SearchPostings: reading posting lists (the sorted doc ids of one facet value), probing
// them with candidates, and unions of sorted doc-id vectors (private to storage/).
// Functions over a caller's read transaction.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "CatalogTables.hpp"
#include "LmdbTxn.hpp"

namespace fedswarm {

using DocIds = std::vector<std::uint32_t>;

// Appends the doc ids of `value_id` (sorted) to `out`, a page of duplicates at a time
// (MDB_GET_MULTIPLE / MDB_NEXT_MULTIPLE).
Status read_postings(LmdbTxn& txn, const CatalogTables& t, std::uint32_t value_id, DocIds& out);
// Appends to `out` the docs of `candidates` (sorted) that are in the posting list of
// `value_id`, without reading the whole list: it seeks the list to the next candidate
// (MDB_GET_BOTH_RANGE) and takes the page of ids there (MDB_GET_MULTIPLE), so the cost
// is about min(|candidates|, pages of the list) seeks plus the pages' entries.
Status filter_by_postings(LmdbTxn& txn, const CatalogTables& t, std::uint32_t value_id,
                          std::span<const std::uint32_t> candidates, DocIds& out);
// Sorted union of several sorted lists, duplicates removed.
DocIds union_of(std::vector<DocIds>&& lists);
}  // namespace fedswarm
