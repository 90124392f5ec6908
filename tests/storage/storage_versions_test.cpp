#include <doctest/doctest.h>

#include <lmdb.h>

#include "fedswarm/storage/StorageVersions.hpp"

using namespace fedswarm;

TEST_CASE("the storage layer reports the LMDB it runs with") {
  auto v = storage_component_versions();
  REQUIRE(v.size() == 1);
  CHECK(v[0].name == "LMDB");
  CHECK(v[0].runtime);
  // The loaded library may be a newer patch release than the headers, not another series.
  const std::string series = std::to_string(MDB_VERSION_MAJOR) + "." + std::to_string(MDB_VERSION_MINOR) + ".";
  CHECK(v[0].version.rfind(series, 0) == 0);
}
