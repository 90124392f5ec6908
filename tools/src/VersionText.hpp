// The text of `fedswarm --version`: "fedswarm <version>" on the first line (help2man
// reads it), then the source commit and the libraries fedswarm runs with.
#pragma once

#include <string>

namespace fedswarm::cli {
std::string version_text();
}  // namespace fedswarm::cli
