#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "TestSupport.hpp"
#include "fedswarm/protocol/Version.hpp"

using namespace fedswarm;

namespace {
std::string reason_of(std::string_view v) {
  auto r = parse_version(v);
  return r ? std::string("ok") : r.error().reason;
}
}  // namespace

TEST_CASE("a version is v + a real calendar date") {
  auto r = parse_version("v20190308");
  REQUIRE(r.ok());
  CHECK(r->year == 2019);
  CHECK(r->month == 3);
  CHECK(r->day == 8);
  CHECK(validate_version("v19000101").ok());
  CHECK(validate_version("v29991231").ok());
}

TEST_CASE("version format errors") {
  for (const char* v : {"", "v", "v2019023", "v201903081", "V20190308", "20190308", "v2019-03-08", "v2019030a",
                        "v 2019030", "vv20190308", " v20190308", "v20190308 "}) {
    CAPTURE(v);
    CHECK(reason_of(v) == "version_format");
  }
  CHECK(reason_of(std::string_view("v2019\0"
                                   "308",
                                   9)) == "version_format");
  auto r = parse_version("V20190308");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::invalid);
  CHECK(r.error().message.find("vYYYYMMDD") != std::string::npos);
}

TEST_CASE("version dates must exist") {
  for (const char* v : {"v20190230", "v20190229", "v21000229", "v19000229", "v20190001", "v20191301", "v20190100",
                        "v20190431", "v20191232", "v18991231", "v30000101", "v00000000"}) {
    CAPTURE(v);
    CHECK(reason_of(v) == "version_date");
  }
  // Leap years: divisible by 4, except centuries not divisible by 400.
  CHECK(reason_of("v20200229") == "ok");
  CHECK(reason_of("v20000229") == "ok");
  CHECK(reason_of("v20240229") == "ok");
  CHECK(reason_of("v20190228") == "ok");
  CHECK(reason_of("v20190131") == "ok");
  CHECK(reason_of("v20190430") == "ok");
}

TEST_CASE("each sampled year accepts exactly its calendar days") {
  int accepted = 0;
  for (int y : {1900, 1999, 2000, 2019, 2020, 2100, 2400}) {
    int in_year = 0;
    for (int m = 1; m <= 12; ++m)
      for (int d = 1; d <= 31; ++d) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "v%04d%02d%02d", y, m, d);
        in_year += parse_version(buf).ok();
      }
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    CAPTURE(y);
    CHECK(in_year == (leap ? 366 : 365));
    accepted += in_year;
  }
  CHECK(accepted > 0);
}

TEST_CASE("hostile version strings produce bounded, printable messages") {
  std::string big(100000, '\x01');
  auto r = parse_version(big);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().reason == "version_format");
  CHECK(r.error().message.size() < 200);
  for (char c : r.error().message) CHECK((c >= 0x20 && c < 0x7f));
}
