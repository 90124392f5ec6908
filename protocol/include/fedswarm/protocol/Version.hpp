// Dataset version strings: "v" followed by a real calendar date YYYYMMDD (DESIGN §1).
// Pure, no I/O. Reasons: version_format (not v + 8 digits), version_date (no such day,
// or a year before 1900 or after 2999).
#pragma once

#include <string_view>

#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

struct VersionDate {
  int year = 0, month = 0, day = 0;
};

Result<VersionDate> parse_version(std::string_view version);
inline Status validate_version(std::string_view version) {
  auto r = parse_version(version);
  if (!r) return std::move(r).error();
  return {};
}

}  // namespace fedswarm
