// Claim: a Tier-1 node's signed statement that it takes on (or releases) the Tier-1 copy
// of a dataset version, due by `deadline` (DESIGN §7). Contract as Manifest.hpp.
#pragma once

#include <cstdint>
#include <string>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

enum class ClaimAction : std::uint8_t { take = 0, release = 1 };
std::string_view to_string(ClaimAction a);

struct Claim {
  std::string dataset_id;
  std::string version;
  ClaimAction action = ClaimAction::take;
  std::int64_t deadline = 0;  // unix seconds
  std::int64_t made_at = 0;

  std::string instance_id() const { return dataset_id + "." + version; }
  Bytes encode() const;
  static Result<Claim> decode(ByteView body);
  bool operator==(const Claim&) const = default;
};

}  // namespace fedswarm
