// Read access to the files compiled into the binary: the built-in project templates
// (protocol/projects/*.json) and the CMIP6 controlled vocabularies. Lets engine/ rebuild
// the CMIP6 template over a configured CV folder without shipping the template twice.
#pragma once

#include <string_view>

namespace fedswarm {
// The embedded file with this base name (e.g. "CMIP6.json"), or an empty view.
std::string_view builtin_file(std::string_view name);
}  // namespace fedswarm
