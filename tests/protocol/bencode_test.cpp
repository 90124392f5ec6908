#include <doctest/doctest.h>

#include "fedswarm/protocol/Bencode.hpp"

using namespace fedswarm;

namespace {
Result<BValue> dec(std::string_view s) { return bdecode(as_bytes(s)); }
std::string enc(const BValue& v) {
  auto b = bencode(v);
  return std::string(b.begin(), b.end());
}
}  // namespace

TEST_CASE("bencode round trip") {
  for (std::string_view s : {"i0e", "i-42e", "i9223372036854775807e", "i-9223372036854775808e", "0:", "4:spam",
                             "le", "li1ei2ee", "de", "d3:bar4:spam3:fooi42ee", "d1:ad1:bli1e1:xeee"}) {
    auto v = dec(s);
    REQUIRE_MESSAGE(v.ok(), s);
    CHECK(enc(*v) == s);
  }
  auto d = dec("d3:bar4:spam3:fooi42ee");
  CHECK(d->find("foo")->as_int() == 42);
  CHECK(d->find("bar")->as_string() == "spam");
  CHECK(d->find("nope") == nullptr);
}

TEST_CASE("bencode refuses non-canonical or malformed input") {
  for (std::string_view s : {"", "i", "ie", "i01e", "i-0e", "i--1e", "i9223372036854775808e",
                             "i-9223372036854775809e", "5:abc", "-1:a", "01:a", "l", "li1e", "d", "d3:fooe",
                             "di1ei2ee", "d3:foo1:a3:bar1:be", "d3:foo1:a3:foo1:be", "i1ei2e", "x", "4:spamX"}) {
    auto v = dec(s);
    CHECK_MESSAGE(!v.ok(), s);
    if (!v.ok()) CHECK(v.error().reason == "bad_bencode");
  }
}

TEST_CASE("bencode nesting is bounded") {
  std::string deep(1000, 'l');
  deep += std::string(1000, 'e');
  CHECK_FALSE(dec(deep).ok());
}
