// StorageVersions: the libraries the storage layer owns, for `fedswarm --version`
// (see fedswarm/protocol/ComponentVersion.hpp). No I/O.
#pragma once

#include <vector>

#include "fedswarm/protocol/ComponentVersion.hpp"

namespace fedswarm {

// LMDB, as the loaded liblmdb reports it (mdb_version).
std::vector<ComponentVersion> storage_component_versions();

}  // namespace fedswarm
