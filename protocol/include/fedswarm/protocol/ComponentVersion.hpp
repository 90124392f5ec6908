// ComponentVersion: what a build of fedswarm is made of, for `fedswarm --version`, bug
// reports and the daemon's heartbeat. Each layer reports the libraries it owns
// (protocol: libsodium, Cap'n Proto; storage: LMDB; engine: libtorrent), so no layer
// needs a library that belongs to another one. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fedswarm {

struct ComponentVersion {
  std::string name;      // "libsodium"
  std::string version;   // "1.0.18"
  bool runtime = true;   // true: asked of the library loaded at run time;
                         // false: the headers it was compiled with (no run-time query)
};

// fedswarm's own version, the CMake project VERSION ("0.1.0").
std::string_view fedswarm_version();

// libsodium (run time, sodium_version_string) and Cap'n Proto (built with: the
// CAPNP_VERSION_* macros; the library has no run-time query).
std::vector<ComponentVersion> protocol_component_versions();

}  // namespace fedswarm
