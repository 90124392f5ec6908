// Fuzz target: envelope decoding and every record body decoder (bytes from peers).
#include <cstddef>
#include <cstdint>

#include "fedswarm/protocol/Envelope.hpp"
#include "fedswarm/protocol/RecordValidator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fedswarm::ByteView bytes(data, size);
  auto env = fedswarm::Envelope::decode(bytes);
  if (env) {
    (void)fedswarm::decode_body(*env);
    // A decoded envelope must re-encode to exactly the input.
    auto again = env->encode();
    if (again.size() != size) __builtin_trap();
  }
  // Feed the raw bytes to every body decoder as well.
  (void)fedswarm::Manifest::decode(bytes);
  (void)fedswarm::Retraction::decode(bytes);
  (void)fedswarm::ReplicaRecord::decode(bytes);
  (void)fedswarm::Claim::decode(bytes);
  (void)fedswarm::Roster::decode(bytes);
  return 0;
}
