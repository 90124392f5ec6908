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
// - Filters, applied to the result set before counting (so num_found and facet counts
//   agree with the docs): `exclusions` (a version carrying any listed facet value is
//   removed; identity names are not accepted here), `not_latest` / `only_retracted`
//   (esg-search's latest=false / retracted=true), a version range (inclusive, compared
//   as strings: "vYYYYMMDD" sorts by date) and a published_at range (inclusive, unix
//   seconds). Filters cost one row read per candidate of the constrained result.
#pragma once

#include <cstdint>
#include <optional>
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

  std::vector<std::pair<std::string, std::string>> exclusions;  // facet name -> value
  bool not_latest = false;     // only versions that are not latest
  bool only_retracted = false;  // only retracted versions
  std::string min_version, max_version;  // "vYYYYMMDD"; empty: unbounded
  std::optional<std::int64_t> published_from, published_to;

  bool has_filters() const {
    return !exclusions.empty() || not_latest || only_retracted || !min_version.empty() || !max_version.empty() ||
           published_from || published_to;
  }
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
