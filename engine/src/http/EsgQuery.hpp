// EsgQuery: the query string of an esg-search request (`/esg-search/search`,
// `/esg-search/wget`) parsed into an EsgRequest. Pure: no I/O, no catalog access.
//
// Accepted parameters (DESIGN §9, ESGF's esg-search API):
// - type (Dataset | File; default Dataset), format (application/solr+json -> JSON;
//   absent or application/solr+xml -> Solr XML), limit (default `default_limit`, at
//   most 10,000), offset, query (Solr syntax, parsed later by SolrQuery), facets and
//   fields (comma lists, spaces allowed after commas, `*` = all), distrib and shards
//   (accepted; no fan-out is needed), latest / replica / retracted (booleans in any
//   case), sort ("<field> [asc|desc]"), from / to (record time, ISO 8601 UTC such as
//   2019-01-01T00:00:00Z, or a date), start / end (data time coverage: accepted, not
//   applied — the catalog holds no time coverage), min_version / max_version
//   (YYYYMMDD or vYYYYMMDD).
// - Any other name is a constraint if `is_constraint(name)` says so: `k=a,b` and
//   `k=a&k=b` mean OR, `k!=v` excludes.
// - Geospatial parameters (bbox, lat, lon, location, radius, polygon) are refused with
//   a message: the catalog indexes no coordinates.
//
// Errors (all `invalid`; the message is the whole 400 body): an unknown name gives
// exactly `Invalid HTTP query parameter=<name>` (pyesgf parses it); empty values, a
// bad number, boolean, time, sort or format, a limit over 10,000, malformed percent
// escapes each give a sentence naming the parameter. Never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

// Bounds the answer built in memory (ESGF's own maximum).
inline constexpr std::size_t kEsgMaxLimit = 10'000;

enum class EsgType : std::uint8_t { dataset, file };
enum class EsgFormat : std::uint8_t { xml, json };

struct EsgSort {
  std::string field;  // empty: catalog order
  bool descending = false;
};

struct EsgRequest {
  EsgType type = EsgType::dataset;
  EsgFormat format = EsgFormat::xml;
  std::size_t limit = 10;
  std::size_t offset = 0;
  std::string query;                 // decoded `query=`; empty when absent
  std::vector<std::string> facets;   // facet counts asked for ("*" = all)
  std::vector<std::string> fields;   // empty: all fields
  bool distrib = true;
  std::string shards;                // as sent (ignored)
  std::optional<bool> latest, replica, retracted;
  EsgSort sort;
  std::optional<std::int64_t> from, to;  // unix seconds, inclusive
  std::string start, end;                // data time coverage as sent (not applied)
  std::string min_version, max_version;  // normalised to "vYYYYMMDD"
  // Constraints in order of appearance: OR within a name, AND across names.
  std::vector<std::pair<std::string, std::string>> constraints;
  std::vector<std::pair<std::string, std::string>> exclusions;
  // Every (name, value) as decoded, for echoing in responseHeader.params.
  std::vector<std::pair<std::string, std::string>> raw;
};

class EsgQuery {
 public:
  using ConstraintNames = std::function<bool(std::string_view name)>;
  // `default_limit`: 10 for search, 1,000 for wget (as the reference server).
  static Result<EsgRequest> parse(std::string_view query_string, const ConstraintNames& is_constraint,
                                  std::size_t default_limit = 10);

  // Percent-decoding with '+' as space; nullopt for a malformed escape.
  static std::optional<std::string> decode(std::string_view s);
  // "2019-01-01T00:00:00Z", "2019-01-01T00:00:00.123Z", "2019-01-01" -> unix seconds.
  static std::optional<std::int64_t> parse_time(std::string_view s);
  // "20190308" or "v20190308" -> "v20190308"; nullopt otherwise.
  static std::optional<std::string> normalize_version(std::string_view s);
};

}  // namespace fedswarm
