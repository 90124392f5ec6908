#include <doctest/doctest.h>

#include "http/ByteRange.hpp"

using namespace fedswarm;
using K = ByteRange::Kind;

TEST_CASE("Range headers: one range served, others whole or unsatisfiable") {
  auto r = ByteRange::parse("bytes=0-9", 100);
  CHECK(r.kind == K::partial);
  CHECK(r.first == 0);
  CHECK(r.last == 9);
  CHECK(r.length() == 10);
  r = ByteRange::parse("bytes=90-", 100);
  CHECK((r.kind == K::partial && r.first == 90 && r.last == 99));
  r = ByteRange::parse("bytes=50-1000", 100);
  CHECK((r.kind == K::partial && r.first == 50 && r.last == 99));
  r = ByteRange::parse("bytes=-5", 100);
  CHECK((r.kind == K::partial && r.first == 95 && r.last == 99));
  r = ByteRange::parse("bytes=-500", 100);
  CHECK((r.kind == K::partial && r.first == 0 && r.last == 99));
  CHECK(ByteRange::parse("bytes=100-", 100).kind == K::unsatisfiable);
  CHECK(ByteRange::parse("bytes=-0", 100).kind == K::unsatisfiable);
  CHECK(ByteRange::parse("bytes=0-", 0).kind == K::unsatisfiable);
  for (const char* whole : {"", "bytes=0-1,5-6", "items=0-1", "bytes=5-2", "bytes=a-b", "bytes=-", "bytes=--1",
                            "bytes=1-2-3", "bytes=99999999999999999999-"}) {
    CHECK_MESSAGE(ByteRange::parse(whole, 100).kind == K::whole, whole);
  }
  r = ByteRange::parse("", 100);
  CHECK((r.first == 0 && r.last == 99));
}
