// libFuzzer target: arbitrary bytes as an esg-search query string. Every input must be
// accepted or refused (400 text) without crashing; a parsed request stays in bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/EsgQuery.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto facets = [](std::string_view n) { return n == "project" || n == "variable_id" || n == "data_node"; };
  auto r = fedswarm::EsgQuery::parse(in, facets);
  if (r.ok() && r->limit > fedswarm::kEsgMaxLimit) __builtin_trap();
  if (!r.ok() && r.error().message.empty()) __builtin_trap();
  (void)fedswarm::EsgQuery::decode(in);
  (void)fedswarm::EsgQuery::parse_time(in);
  (void)fedswarm::EsgQuery::normalize_version(in);
  return 0;
}
