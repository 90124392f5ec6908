#include "http/ByteRange.hpp"

#include <charconv>

#include "http/TrimBlanks.hpp"

namespace fedswarm {

namespace {

// Digits only: from_chars would accept a leading '-' and stop at junk.
bool number(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return std::from_chars(s.data(), s.data() + s.size(), out).ec == std::errc{};
}

}  // namespace

ByteRange ByteRange::parse(std::string_view header, std::uint64_t size) {
  ByteRange whole;
  if (size > 0) whole.last = size - 1;
  header = trim_blanks(header);
  constexpr std::string_view kUnit = "bytes=";
  if (header.size() <= kUnit.size()) return whole;
  for (std::size_t i = 0; i < kUnit.size(); ++i)
    if ((header[i] | 0x20) != kUnit[i] && header[i] != kUnit[i]) return whole;
  std::string_view spec = trim_blanks(header.substr(kUnit.size()));
  if (spec.find(',') != std::string_view::npos) return whole;
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return whole;
  const std::string_view a = trim_blanks(spec.substr(0, dash)), b = trim_blanks(spec.substr(dash + 1));
  ByteRange r;
  r.kind = Kind::partial;
  if (a.empty()) {
    std::uint64_t n = 0;
    if (!number(b, n)) return whole;
    if (n == 0 || size == 0) return ByteRange{Kind::unsatisfiable, 0, 0};
    r.first = n >= size ? 0 : size - n;
    r.last = size - 1;
    return r;
  }
  std::uint64_t first = 0, last = 0;
  if (!number(a, first)) return whole;
  if (b.empty()) last = UINT64_MAX;
  else if (!number(b, last) || last < first) return whole;
  if (first >= size) return ByteRange{Kind::unsatisfiable, 0, 0};
  r.first = first;
  r.last = last >= size ? size - 1 : last;
  return r;
}

}  // namespace fedswarm
