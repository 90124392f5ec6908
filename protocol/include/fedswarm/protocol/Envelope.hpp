// Envelope: the one signed container every record travels and is stored in (DESIGN §3).
//
//   signed message = "fedswarm/record/v1" || author_key (32) || seq (u64 BE)
//                    || kind (u16 BE) || body length (u64 BE) || body
//
// The domain tag, kind and author are inside the signed bytes, so a signature made for
// one kind, author, seq or body never verifies for another.
//
// Contract: pure value type, no I/O, thread-compatible. `decode` accepts untrusted bytes
// of any length and returns `invalid` ("malformed_envelope", "envelope_too_large",
// "unknown_kind", "non_canonical") instead of throwing. `verify` checks only the
// signature; the roster and sequence rules live in RecordValidator and the catalog.
#pragma once

#include <cstdint>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/RecordKind.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

class SigningKey;

struct Envelope {
  PublicKey author;
  std::uint64_t seq = 0;
  RecordKind kind = RecordKind::manifest;
  Bytes body;  // canonical Cap'n Proto bytes of the body struct
  Signature signature;

  // Builds and signs an envelope for `body` (already canonical bytes).
  static Envelope sign(const SigningKey& key, std::uint64_t seq, RecordKind kind, Bytes body);

  // The exact byte string covered by the signature.
  static Bytes signed_message(const PublicKey& author, std::uint64_t seq, RecordKind kind,
                              ByteView body);

  bool verify() const;

  // Canonical Cap'n Proto encoding of the whole envelope.
  Bytes encode() const;
  static Result<Envelope> decode(ByteView bytes);

  // SHA-256 of the encoded envelope: identifies a record (e.g. two conflicting manifests).
  Sha256 digest() const;

  bool operator==(const Envelope&) const = default;
};

}  // namespace fedswarm
