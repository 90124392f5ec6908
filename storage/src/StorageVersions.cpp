#include "fedswarm/storage/StorageVersions.hpp"

#include <lmdb.h>

#include <string>

namespace fedswarm {

std::vector<ComponentVersion> storage_component_versions() {
  int major = 0, minor = 0, patch = 0;
  mdb_version(&major, &minor, &patch);
  return {{"LMDB", std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch), true}};
}

}  // namespace fedswarm
