// SolrQuery: the `query=` parameter of esg-search (Solr/Lucene syntax) translated into
// the catalog's model: a conjunction of clauses, each "field has one of these values"
// or "field has none of these values". Pure: no I/O.
//
// Accepted: `*` and `*:*` (match all), `field:value`, `field:"quoted value"`,
// `field:(v1 v2)` and `field:(v1 OR v2)` (either value), AND / && / + (all of),
// OR / || between terms of the same field, NOT / ! / - (none of), parentheses, `\`
// escapes, value wildcards `tas*`, `t?s` (clause.wildcard: the caller expands them
// against the values the catalog holds). Juxtaposed terms without an operator are OR,
// as Solr's default operator (esgpull writes AND explicitly).
// `field:*` matches every record (every record of the catalog carries its facets).
// Refused (`invalid`, the message says what to write instead): free text without a field
// (the catalog has no full-text index), OR across different fields, the same field in
// two AND-ed clauses, NOT of an OR across fields, ranges `[a TO b]`, fuzzy/proximity/
// boost operators, unbalanced parentheses or quotes, more than kSolrMaxTerms terms or
// deeper than kSolrMaxDepth parentheses. Never throws.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

// Bound the work of one query (a URL is limited anyway; these keep recursion shallow).
inline constexpr std::size_t kSolrMaxTerms = 4096;
inline constexpr std::size_t kSolrMaxDepth = 32;

struct SolrClause {
  std::string field;
  std::vector<std::string> values;  // OR of these
  bool negated = false;             // none of `values`
  bool wildcard = false;            // some value holds an unescaped * or ?
  bool operator==(const SolrClause&) const = default;
};

struct SolrConjunction {
  std::vector<SolrClause> clauses;  // AND; empty: everything matches
};

class SolrQuery {
 public:
  static Result<SolrConjunction> parse(std::string_view query);
  // Glob match with * (any run) and ? (one byte); `\x` matches x literally.
  static bool glob_match(std::string_view pattern, std::string_view text);
};

}  // namespace fedswarm
