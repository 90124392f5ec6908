// Fuzz target: record bundle files (roster files handed between operators).
#include <cstddef>
#include <cstdint>

#include "fedswarm/protocol/RecordBundle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto records = fedswarm::decode_bundle(fedswarm::ByteView(data, size));
  if (records) {
    auto again = fedswarm::encode_bundle(*records);
    if (again.size() != size) __builtin_trap();
  }
  return 0;
}
