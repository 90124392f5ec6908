// SearchExecutor: answers one SearchQuery in one read transaction (private to storage/).
//
// Algorithm (README.md "Catalog" has the long form):
// 1. Constraints are grouped by facet (OR inside a group, AND across groups) and
//    resolved to value ids; each group's size is known from the `counts` table before
//    any posting list is read.
// 2. No constraints: the result is a whole view. num_found and facet counts are read from
//    the maintained counters; the page is found by scanning the view's flag bitmap.
// 3. Otherwise the smallest group's posting lists are read and unioned, filtered by the
//    view's flag bit, then narrowed group by group (smallest first): each posting list
//    of the group is sought to the next candidate and only the page found there is
//    read, so a large group costs about one seek per candidate or per page, whichever
//    is fewer, never a scan of the list.
// 4. Facet counts over a filtered result walk the result rows (they carry their value
//    ids) or, for very large results, intersect each counted value's posting list with a
//    bitmap of the result, whichever is estimated cheaper.
// Identity constraints (master_id / dataset_id, instance_id, id) are resolved through the
// versions table to a doc set that seeds step 3 instead of a posting list.
// 5. Filters (exclusions, latest/retracted restrictions, version and published_at
//    ranges) narrow the result of step 3 (or the whole view, when there are no
//    constraints) before counting: exclusions by seeking the excluded values' posting
//    lists to the candidates, flags by bit tests, ranges by reading each candidate's row.
// Not thread-safe; one executor per query and transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "CatalogRows.hpp"
#include "CatalogTables.hpp"
#include "SearchFlags.hpp"
#include "SearchPostings.hpp"
#include "fedswarm/storage/SearchQuery.hpp"

namespace fedswarm {

class SearchExecutor {
 public:
  SearchExecutor(LmdbTxn& txn, const CatalogTables& tables) : txn_(txn), t_(tables), flags_(txn, tables.flags) {}
  Result<SearchResult> run(const SearchQuery& query);

  // Every facet name -> id (also used for facet_names()).
  static Result<std::vector<std::pair<std::string, std::uint16_t>>> facets(LmdbTxn& txn, const CatalogTables& t);

 private:
  struct Group {
    std::uint16_t facet = 0;
    std::vector<std::uint32_t> values;  // sorted value ids
    std::uint64_t size = 0;             // sum of posting list lengths
  };

  Result<std::optional<std::uint32_t>> value_id(std::uint16_t facet, std::string_view value);
  Result<std::uint64_t> posting_size(std::uint16_t facet, std::uint32_t value);
  Result<DocIds> read_group(const Group& g);
  bool in_view(std::uint32_t doc);
  static bool is_identity_facet(std::string_view name);
  Result<std::optional<DocIds>> identity_docs(const SearchQuery& q);
  Result<DocIds> filter(std::vector<Group>& groups, const std::optional<DocIds>& named);
  Result<DocIds> view_page(std::size_t offset, std::size_t limit);
  Status apply_filters(const SearchQuery& q, const std::unordered_map<std::string_view, std::uint16_t>& facet_ids,
                       DocIds& result);
  Status count_from_counters(std::uint16_t facet, std::vector<FacetCount>& out);
  Status count_by_rows(const DocIds& result, const std::vector<std::uint16_t>& facets,
                       std::vector<std::unordered_map<std::uint32_t, std::uint64_t>>& counts);
  Status count_by_postings(const DocIds& result, const std::vector<std::uint16_t>& facets,
                           std::vector<std::unordered_map<std::uint32_t, std::uint64_t>>& counts);
  Result<std::string_view> value_text(std::uint32_t value);
  Result<SearchDoc> make_doc(std::uint32_t doc);

  LmdbTxn& txn_;
  const CatalogTables& t_;
  FlagReader flags_;
  unsigned view_ = kViewLatest;
  std::uint32_t total_docs_ = 0;
  std::unordered_map<std::uint16_t, std::string> facet_names_;
  std::unordered_map<std::uint32_t, std::string_view> value_text_;
};

}  // namespace fedswarm
