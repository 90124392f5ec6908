// SolrXml: an esg-search answer built as JSON (Solr's wt=json shape) rewritten in Solr's
// XML response format (wt=xml), what esg-search answers when no `format` is given.
//
// Mapping: object -> <lst name=…>, array -> <arr name=…>, string -> <str>, boolean ->
// <bool>, integer -> <long>, other number -> <float>; `response` becomes
// <result name="response" numFound=… start=… maxScore=…> with one <doc> per document;
// facet_counts.facet_fields.<facet> (flat [value, count, …]) becomes
// <lst name=facet><int name=value>count</int>…</lst>. Text is XML-escaped; bytes that
// XML 1.0 cannot carry (control characters) are dropped. Pure; never throws.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace fedswarm {

std::string solr_xml(const nlohmann::ordered_json& answer);

}  // namespace fedswarm
