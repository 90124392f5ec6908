// RecordBundle: a file of several envelopes, in order — what `fedswarm federation
// roster` writes (the federation authority's whole record log, newest roster last), so
// a node that imports it gets every authority record and its log has no gaps.
//
//   "FSRB" | u32 BE count | count × (u32 BE length | encoded envelope)
//
// Contract: pure, no I/O. `decode` takes untrusted bytes; reasons: bundle_bad_magic,
// bundle_truncated, bundle_too_large, bundle_trailing_bytes, and the envelope reasons
// of Envelope::decode. Envelopes are decoded, not verified.
#pragma once

#include <span>
#include <vector>

#include "fedswarm/protocol/Envelope.hpp"

namespace fedswarm {

namespace limits {
// Records in one bundle, and its total size.
inline constexpr std::size_t max_bundle_records = 100'000;
inline constexpr std::size_t max_bundle_bytes = 256u << 20;
}  // namespace limits

Bytes encode_bundle(std::span<const Envelope> records);
Result<std::vector<Envelope>> decode_bundle(ByteView bytes);

}  // namespace fedswarm
