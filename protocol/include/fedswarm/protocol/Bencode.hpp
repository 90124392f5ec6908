// Bencode: a strict parser for bencoded data from untrusted peers and manifests.
//
// Contract: pure, no I/O, never throws on bad input. Rejects (reason "bad_bencode"):
// truncated input, trailing bytes, leading zeros or "-0" in integers, integers that do
// not fit int64, dictionary keys that are not strictly ascending byte strings, nesting
// deeper than limits::max_bencode_depth, and string lengths beyond the input. The parsed
// tree owns copies of its strings.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

struct BValue {
  using List = std::vector<BValue>;
  using Dict = std::map<std::string, BValue>;  // std::map keeps keys in byte order
  std::variant<std::int64_t, std::string, List, Dict> v;

  bool is_int() const { return v.index() == 0; }
  bool is_string() const { return v.index() == 1; }
  bool is_list() const { return v.index() == 2; }
  bool is_dict() const { return v.index() == 3; }
  std::int64_t as_int() const { return std::get<0>(v); }
  const std::string& as_string() const { return std::get<1>(v); }
  const List& as_list() const { return std::get<2>(v); }
  const Dict& as_dict() const { return std::get<3>(v); }
  // Dictionary member or nullptr (also nullptr when this is not a dict).
  const BValue* find(const std::string& key) const;
};

Result<BValue> bdecode(ByteView data);
Bytes bencode(const BValue& value);

}  // namespace fedswarm
