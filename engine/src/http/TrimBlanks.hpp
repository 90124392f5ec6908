// trim_blanks (engine-private): an HTTP header value or query term without its leading
// and trailing spaces and tabs (RFC 9110's optional whitespace), as ByteRange and
// EsgQuery read them.
//
// Contract: pure; the result views `s`.
#pragma once

#include <string_view>

namespace fedswarm {

constexpr std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace fedswarm
