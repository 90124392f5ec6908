#include <doctest/doctest.h>

#include <libtorrent/version.hpp>

#include "fedswarm/engine/ComponentVersions.hpp"

using namespace fedswarm;

TEST_CASE("component_versions lists libtorrent, LMDB, libsodium and Cap'n Proto, each once") {
  auto v = component_versions();
  REQUIRE(v.size() == 4);
  CHECK(v[0].name == "libtorrent");
  CHECK(v[0].version == lt::version());
  CHECK(v[1].name == "LMDB");
  CHECK(v[2].name == "libsodium");
  CHECK(v[3].name == "Cap'n Proto");
  for (const auto& c : v) {
    CAPTURE(c.name);
    CHECK_FALSE(c.version.empty());
  }
}
