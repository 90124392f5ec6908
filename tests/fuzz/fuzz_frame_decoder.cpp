// Fuzz target: the peer-link frame decoder, fed the input in chunks of varying size (the
// first byte seeds the chunk sizes, the rest is the byte stream). Checks that the frames
// handed out re-encode to exactly the stream they came from, that nothing is held beyond
// the bytes received, and that a failed decoder stays failed.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fedswarm/protocol/FrameCodec.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void run(const std::uint8_t* stream, std::size_t size, std::uint8_t seed, std::size_t max) {
  fedswarm::FrameDecoder d(max);
  std::uint64_t x = 0x9e3779b97f4a7c15ull ^ seed;
  std::size_t fed = 0, consumed = 0;
  while (fed < size) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    // Mostly small chunks (header splits), sometimes large ones (many frames at once).
    std::size_t n = (x & 7) == 0 ? static_cast<std::size_t>(x >> 8) % 4096 : static_cast<std::size_t>(x >> 8) % 9;
    if (n > size - fed) n = size - fed;
    auto st = d.feed(fedswarm::ByteView(stream + fed, n));
    fed += n;
    if (!st) {
      check(st.error().reason == "frame_too_large" || st.error().reason == "frame_empty");
      check(!d.next().has_value());
      // Stays failed with the same reason.
      auto again = d.feed(fedswarm::ByteView(stream, fed < 8 ? fed : 8));
      check(!again && again.error().reason == st.error().reason);
      break;
    }
    while (auto f = d.next()) {
      check(!f->empty() && f->size() <= max);
      auto framed = fedswarm::encode_frame(*f);
      check(consumed + framed.size() <= fed);
      check(std::memcmp(framed.data(), stream + consumed, framed.size()) == 0);
      consumed += framed.size();
    }
    check(consumed + d.pending_bytes() == fed);
    // An incomplete frame is all that may remain, and its header (if whole) is valid.
    check(d.pending_bytes() < 4 + max);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // A small limit so the fuzzer reaches the over-limit path with short inputs, and the
  // real one.
  run(data + 1, size - 1, data[0], 300);
  run(data + 1, size - 1, data[0], fedswarm::limits::max_frame_bytes);
  return 0;
}
