#include <doctest/doctest.h>

#include <regex>
#include <sodium.h>

#include "fedswarm/protocol/ComponentVersion.hpp"

using namespace fedswarm;

TEST_CASE("fedswarm's version is the CMake project VERSION") {
  CHECK(fedswarm_version() == FEDSWARM_PROJECT_VERSION);
  CHECK(std::regex_match(std::string(fedswarm_version()), std::regex(R"(\d+\.\d+\.\d+)")));
}

TEST_CASE("the protocol layer reports libsodium at run time and Cap'n Proto as built") {
  auto v = protocol_component_versions();
  REQUIRE(v.size() == 2);
  CHECK(v[0].name == "libsodium");
  CHECK(v[0].version == sodium_version_string());
  CHECK(v[0].runtime);
  CHECK(v[1].name == "Cap'n Proto");
  CHECK(std::regex_match(v[1].version, std::regex(R"(\d+\.\d+\.\d+)")));
  CHECK_FALSE(v[1].runtime);
}
