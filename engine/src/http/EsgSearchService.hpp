// EsgSearchService: the ESGF search API (`/esg-search/search`, `/esg-search/wget`) over
// the local catalog (DESIGN §9). Answers are built whole in memory (a page is at most
// 10,000 records).
//
// Contract
// - Thread-safe: every call reads the catalog in its own read transaction; called on the
//   HTTP worker threads, never on the io thread.
// - `query_string` is the raw, still percent-encoded part after '?'. Bad input is an
//   answer, never an exception: 400 with `Invalid HTTP query parameter=<name>` for an
//   unknown parameter, 400 with a message for an empty value, a limit over 10,000 or an
//   unparsable `query=`; 500 with the catalog's message for an I/O error.
// - `catalog` must outlive the service; so must `site.projects` when set.
//
// Semantics (beyond EsgQuery / SolrQuery, which parse the request):
// - Records. `replica` unset or false: one primary record per matching version
//   (data_node = the publisher's site), numFound = versions matched (`fedswarm search`
//   with the same constraints). `replica=true`: one record per complete replica held by
//   a roster member that is not a dark repository (data_node = the holder's site); on a
//   dark repository's own node also its own complete local copies. numFound is exact: the
//   whole result is walked.
// - `latest` unset: every version, retracted ones included (as ESGF's index keeps them,
//   flagged retracted=true); latest=true: latest versions only; latest=false: the others.
//   retracted=false hides retracted versions, retracted=true keeps only them.
// - Facet counts: over the versions (storage counters) for primary Dataset records;
//   over the records themselves when the result is walked (replica=true, File, record
//   fields such as id / index_node / tracking_id, sort) — so they always add up to
//   numFound's records. `version` values are written as ESGF does: digits, no "v".
// - File records: one per manifest file per dataset record; `url` =
//   `<holder http_url>/thredds/fileServer/<drs_file_path>` (DrsPath.hpp), empty when the
//   holder has no HTTP face.
// - `sort` (id, instance_id, master_id, title, version, size, _timestamp, data_node,
//   asc|desc; `score` = catalog order) walks and sorts the whole result, at most
//   kEsgSortLimit records (more: 400).
// - `start` / `end` (data time coverage) are accepted and not applied: the catalog
//   holds no time coverage yet.
#pragma once

#include <string>
#include <string_view>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/ProjectTemplate.hpp"
#include "fedswarm/protocol/Roster.hpp"
#include "fedswarm/storage/Catalog.hpp"
#include "http/HttpAnswer.hpp"

namespace fedswarm {

struct EsgSearchSite {
  PublicKey self;            // this node's key
  std::string site;          // this node's site
  Tier tier = Tier::tier2;   // a dark repository lists its own local copies
  std::string public_url;    // "https://host:port" of this node ([http] public_url)
  std::string index_node;    // `index_node` of every record (this node's host)
  // Templates for DRS paths and dataset/directory templates; null: the built-in CMIP6.
  const ProjectRegistry* projects = nullptr;
};

// Bounds the records a sorted answer collects in memory.
inline constexpr std::size_t kEsgSortLimit = 100'000;

class EsgSearchService {
 public:
  EsgSearchService(const Catalog& catalog, EsgSearchSite site);
  HttpAnswer search(std::string_view query_string) const;
  HttpAnswer wget(std::string_view query_string) const;

 private:
  const Catalog& catalog_;
  EsgSearchSite site_;
};

}  // namespace fedswarm
