// ComponentVersions: every library version `fedswarm --version` reports, from each layer
// that owns one (engine: libtorrent; storage: LMDB; protocol: libsodium, Cap'n Proto),
// in that order. Callable from any thread; no I/O.
#pragma once

#include <vector>

#include "fedswarm/protocol/ComponentVersion.hpp"

namespace fedswarm {

// libtorrent as the loaded libtorrent-rasterbar reports it (lt::version()).
std::vector<ComponentVersion> engine_component_versions();

// engine_component_versions(), then storage's, then protocol's.
std::vector<ComponentVersion> component_versions();

}  // namespace fedswarm
