// Inputs that once crashed a fuzz target of the HTTP face's parsers (tests/fuzz), each
// kept also in the target's corpus as tests/fuzz/corpus/<target>/regress-*.
#include <doctest/doctest.h>

#include <string>

#include "http/SolrQuery.hpp"

using namespace fedswarm;

TEST_CASE("fuzz_solr_query regress-deep-not: a long chain of NOT/-/+ is refused, not a stack overflow") {
  // 60,000 unary operators fit in one request target (http.max_target_bytes, 64 KiB);
  // each used to recurse once, unbounded, and overflowed the stack of the HTTP thread.
  for (char op : {'-', '!', '+'}) {
    const std::string q = std::string(60'000, op) + "variable_id:tas";
    auto r = SolrQuery::parse(q);
    REQUIRE(!r.ok());
    CHECK(r.error().message.find("nested deeper than") != std::string::npos);
  }
  std::string nots;
  for (int i = 0; i < 20'000; ++i) nots += "NOT ";
  CHECK(!SolrQuery::parse(nots + "variable_id:tas").ok());
  // A few operators, as people write them, still parse.
  auto ok = SolrQuery::parse("NOT -variable_id:tas");
  CHECK(!ok.ok());  // NOT of a negation: refused by the translation, not by depth
  CHECK(SolrQuery::parse("+variable_id:tas AND -source_id:CESM2").ok());
  CHECK(SolrQuery::parse(std::string(10, '+') + "variable_id:tas").ok());
}
