// Private helpers shared by the record codecs: canonical encoding and safe decoding of
// untrusted Cap'n Proto bytes.
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>
#include <string>
#include <string_view>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Limits.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm::codec {

// Canonical bytes (single segment, no segment table) of the builder's root struct.
template <class Schema>
Bytes canonical(capnp::MallocMessageBuilder& message) {
  auto words = capnp::canonicalize(message.getRoot<Schema>().asReader());
  auto bytes = words.asBytes();
  return Bytes(bytes.begin(), bytes.end());
}

inline Error malformed(std::string_view what, std::string_view detail) {
  return make_error(Errc::invalid, "malformed_" + std::string(what),
                    std::string(what) + " is not a valid record body: " + std::string(detail));
}

// Decodes canonical bytes as `Schema` and calls `fn(reader)` while the message is
// alive. Any structural problem (misaligned length, out-of-bounds pointer, not
// canonical, traversal limit) becomes `invalid`. `fn` must copy what it needs out.
template <class Schema, class Fn>
auto decode_canonical(ByteView bytes, std::string_view what, Fn&& fn) -> decltype(fn(std::declval<typename Schema::Reader>())) {
  if (bytes.size() > limits::max_envelope_bytes)
    return make_error(Errc::invalid, "too_large", std::string(what) + " exceeds the size limit");
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0)
    return malformed(what, "length is not a positive multiple of 8 bytes");
  try {
    auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
    std::memcpy(words.begin(), bytes.data(), bytes.size());
    kj::ArrayPtr<const capnp::word> segments[1] = {words.asPtr()};
    capnp::ReaderOptions options;
    options.traversalLimitInWords = 2 * words.size() + 64;
    options.nestingLimit = 16;
    capnp::SegmentArrayMessageReader reader(kj::arrayPtr(segments, 1), options);
    if (!reader.isCanonical()) return make_error(Errc::invalid, "non_canonical", std::string(what) + " is not in canonical form");
    return fn(reader.getRoot<Schema>());
  } catch (const kj::Exception& e) {
    return malformed(what, e.getDescription().cStr());
  }
}

inline std::string text(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

inline capnp::Data::Reader data(ByteView b) { return capnp::Data::Reader(b.data(), b.size()); }

template <std::size_t N>
Result<FixedBytes<N>> fixed(capnp::Data::Reader d, std::string_view field) {
  if (d.size() != N)
    return make_error(Errc::invalid, "bad_length",
                      std::string(field) + " must be " + std::to_string(N) + " bytes, got " + std::to_string(d.size()));
  FixedBytes<N> out;
  std::memcpy(out.data(), d.begin(), N);
  return out;
}

}  // namespace fedswarm::codec
