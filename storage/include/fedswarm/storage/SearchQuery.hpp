// SearchQuery / SearchResult: the catalog's search semantics, the same as ESGF's
// esg-search API (DESIGN §6):
// - constraints are facet=value pairs: AND across facets, OR within a repeated facet; a
//   facet or value the catalog has never indexed matches nothing;
// - latest versions only unless `all_versions`; retracted versions hidden unless
//   `include_retracted` (a retracted version is never latest, so `include_retracted`
//   only matters with `all_versions`);
// - facet counts over the whole result set, for the requested facets (an unknown facet
//   gets an empty list);
// - `num_found` counts the whole result set; `docs` is the page [offset, offset+limit)
//   in catalog order (order of arrival, like Solr's index order for q=*).
// - Indexed facets: every facet of the manifest and of its dataset id, plus `project`,
//   `data_node` and `version`. Identity constraints are also accepted, as in esg-search:
//   `master_id` (or `dataset_id`) = every version of a dataset, `instance_id` = one
//   version, `id` = `instance_id|data_node`.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Manifest.hpp"

namespace fedswarm {

struct SearchQuery {
  // facet name -> value; the same facet may appear several times (OR).
  std::vector<std::pair<std::string, std::string>> constraints;
  // Facets to count. {"*"} means every indexed facet.
  std::vector<std::string> facet_fields;
  bool all_versions = false;
  bool include_retracted = false;
  std::size_t limit = 10;
  std::size_t offset = 0;
};

struct SearchDoc {
  std::string dataset_id;   // ESGF master_id
  std::string version;      // "vYYYYMMDD"
  std::string data_node;    // site of the publisher at the time of receipt
  PublicKey publisher;
  std::vector<Facet> facets;  // every indexed facet of the version
  bool latest = false;
  bool retracted = false;
  bool superseded = false;
  std::uint64_t size = 0;
  std::uint64_t number_of_files = 0;
  std::int64_t published_at = 0;

  std::string instance_id() const { return dataset_id + "." + version; }
};

struct FacetCount {
  std::string value;
  std::uint64_t count = 0;
};

struct FacetCounts {
  std::string facet;
  std::vector<FacetCount> counts;  // sorted by value (Solr facet.sort=lex), count > 0
};

struct SearchResult {
  std::uint64_t num_found = 0;
  std::vector<SearchDoc> docs;
  std::vector<FacetCounts> facet_counts;  // in the order requested
};

}  // namespace fedswarm
