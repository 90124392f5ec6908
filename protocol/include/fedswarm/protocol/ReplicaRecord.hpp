// ReplicaRecord: a node's signed statement that it holds (or dropped) a complete,
// verified copy of a dataset version. Contract as Manifest.hpp.
#pragma once

#include <cstdint>
#include <string>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

enum class ReplicaState : std::uint8_t { complete = 0, dropped = 1 };
std::string_view to_string(ReplicaState s);

struct ReplicaRecord {
  std::string dataset_id;
  std::string version;
  ReplicaState state = ReplicaState::complete;
  std::int64_t at = 0;

  std::string instance_id() const { return dataset_id + "." + version; }
  Bytes encode() const;
  static Result<ReplicaRecord> decode(ByteView body);
  bool operator==(const ReplicaRecord&) const = default;
};

}  // namespace fedswarm
