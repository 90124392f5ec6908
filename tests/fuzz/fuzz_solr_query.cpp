// libFuzzer target: arbitrary bytes as esg-search's `query=` (Solr syntax). Every input
// must translate or be refused without crashing; the glob matcher must terminate.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/SolrQuery.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = fedswarm::SolrQuery::parse(in);
  if (r.ok())
    for (const auto& c : r->clauses) {
      if (c.field.empty() || c.values.empty()) __builtin_trap();
      for (const auto& v : c.values) (void)fedswarm::SolrQuery::glob_match(v, "CMIP6.CMIP.IPSL.tas");
    }
  const std::size_t half = in.size() / 2;
  (void)fedswarm::SolrQuery::glob_match(in.substr(0, half), in.substr(half));
  return 0;
}
