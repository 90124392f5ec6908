// Fuzz target: the bencode parser and the v2 info dict reader (bytes from manifests).
#include <cstddef>
#include <cstdint>

#include "fedswarm/protocol/Bencode.hpp"
#include "fedswarm/protocol/InfoDict.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fedswarm::ByteView bytes(data, size);
  auto v = fedswarm::bdecode(bytes);
  if (v) {
    // The parser only accepts canonical bencode, so encoding gives back the input.
    auto again = fedswarm::bencode(*v);
    if (again.size() != size) __builtin_trap();
  }
  (void)fedswarm::InfoDict::parse(bytes);
  return 0;
}
