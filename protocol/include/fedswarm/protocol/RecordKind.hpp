// The kinds of signed record (DESIGN §1, §3). The numeric values are part of the signed
// message and the wire format: append only.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace fedswarm {

enum class RecordKind : std::uint16_t {
  manifest = 1,
  retraction = 2,
  replica = 3,
  claim = 4,
  roster = 5,
};

std::string_view to_string(RecordKind kind);
std::optional<RecordKind> record_kind_from_int(std::uint16_t v);

}  // namespace fedswarm
