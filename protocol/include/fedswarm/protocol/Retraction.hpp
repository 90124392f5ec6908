// Retraction: a signed statement that a dataset version is withdrawn (DESIGN §1).
// Contract as Manifest.hpp: canonical encode, decode of untrusted bytes returns `invalid`.
#pragma once

#include <cstdint>
#include <string>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

struct Retraction {
  std::string dataset_id;
  std::string version;
  std::string reason;
  std::string errata_id;  // ES-DOC errata id (a UUID) or empty
  std::int64_t retracted_at = 0;

  std::string instance_id() const { return dataset_id + "." + version; }
  Bytes encode() const;
  static Result<Retraction> decode(ByteView body);
  bool operator==(const Retraction&) const = default;
};

}  // namespace fedswarm
