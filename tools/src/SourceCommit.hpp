// The source commit this binary was built from: `git describe --always --dirty --tags`
// at build time, FEDSWARM_SOURCE_COMMIT when set at configure time, else "unknown".
// Defined in a file generated at every build (cmake/source_commit.cmake).
#pragma once

#include <string_view>

namespace fedswarm::cli {
std::string_view source_commit();
}  // namespace fedswarm::cli
