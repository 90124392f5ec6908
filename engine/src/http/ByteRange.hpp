// ByteRange: the one byte range a `Range` header asks of a file (RFC 9110 §14).
//
// Contract: pure, no I/O. Only a single `bytes=a-b`, `bytes=a-` or `bytes=-n` is served as
// a range; several ranges, another unit or a malformed header mean the whole file (a
// server may ignore Range). A range starting at or past the end, or `-0`, is
// unsatisfiable (416). `last` is clamped to the file's last byte.
#pragma once

#include <cstdint>
#include <string_view>

namespace fedswarm {

struct ByteRange {
  enum class Kind : std::uint8_t { whole, partial, unsatisfiable };
  Kind kind = Kind::whole;
  std::uint64_t first = 0;  // inclusive
  std::uint64_t last = 0;   // inclusive; meaningful for partial (and whole when size > 0)

  std::uint64_t length() const { return last - first + 1; }
  // `header` is the Range field's value (empty: no header).
  static ByteRange parse(std::string_view header, std::uint64_t size);
};

}  // namespace fedswarm
