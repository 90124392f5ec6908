#include "fedswarm/protocol/Envelope.hpp"

#include <algorithm>

#include "CapnpCodec.hpp"
#include "fedswarm/protocol/SigningKey.hpp"
#include "records.capnp.h"

namespace fedswarm {

namespace {
constexpr std::string_view kDomain = "fedswarm/record/v1";
}

std::string_view to_string(RecordKind kind) {
  switch (kind) {
    case RecordKind::manifest: return "manifest";
    case RecordKind::retraction: return "retraction";
    case RecordKind::replica: return "replica";
    case RecordKind::claim: return "claim";
    case RecordKind::roster: return "roster";
  }
  return "unknown";
}

std::optional<RecordKind> record_kind_from_int(std::uint16_t v) {
  if (v >= 1 && v <= 5) return static_cast<RecordKind>(v);
  return std::nullopt;
}

Bytes Envelope::signed_message(const PublicKey& author, std::uint64_t seq, RecordKind kind, ByteView body) {
  // Fixed-width fields and an explicit body length keep the layout unambiguous.
  // The message is sized once and filled in place.
  Bytes msg(kDomain.size() + author.bytes.size() + 8 + 2 + 8 + body.size());
  std::uint8_t* p = msg.data();
  p = std::copy(kDomain.begin(), kDomain.end(), p);
  p = std::copy(author.bytes.begin(), author.bytes.end(), p);
  put_u64_be(p, seq);
  p += 8;
  auto k = static_cast<std::uint16_t>(kind);
  *p++ = static_cast<std::uint8_t>(k >> 8);
  *p++ = static_cast<std::uint8_t>(k);
  put_u64_be(p, body.size());
  p += 8;
  std::copy(body.begin(), body.end(), p);
  return msg;
}

Envelope Envelope::sign(const SigningKey& key, std::uint64_t seq, RecordKind kind, Bytes body) {
  Envelope e;
  e.author = key.public_key();
  e.seq = seq;
  e.kind = kind;
  e.body = std::move(body);
  e.signature = key.sign(signed_message(e.author, seq, kind, e.body));
  return e;
}

bool Envelope::verify() const {
  return verify_signature(author, signed_message(author, seq, kind, body), signature);
}

Bytes Envelope::encode() const {
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<schema::Envelope>();
  b.setAuthorKey(codec::data(author.view()));
  b.setSeq(seq);
  b.setKind(static_cast<schema::RecordKind>(kind));
  b.setBody(codec::data(body));
  b.setSignature(codec::data(signature.view()));
  return codec::canonical<schema::Envelope>(message);
}

Result<Envelope> Envelope::decode(ByteView bytes) {
  if (bytes.size() > limits::max_envelope_bytes)
    return make_error(Errc::invalid, "envelope_too_large",
                      "record of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                          std::to_string(limits::max_envelope_bytes));
  auto decoded = codec::decode_canonical<schema::Envelope>(bytes, "envelope", [](schema::Envelope::Reader r) -> Result<Envelope> {
    Envelope e;
    FEDSWARM_ASSIGN_OR_RETURN(e.author, codec::fixed<32>(r.getAuthorKey(), "author key"));
    FEDSWARM_ASSIGN_OR_RETURN(e.signature, codec::fixed<64>(r.getSignature(), "signature"));
    e.seq = r.getSeq();
    if (e.seq == 0) return make_error(Errc::invalid, "bad_seq", "record sequence numbers start at 1");
    auto kind = record_kind_from_int(static_cast<std::uint16_t>(r.getKind()));
    if (!kind) return make_error(Errc::invalid, "unknown_kind", "unknown record kind " + std::to_string(static_cast<int>(r.getKind())));
    e.kind = *kind;
    auto body = r.getBody();
    e.body.assign(body.begin(), body.end());
    return e;
  });
  if (!decoded) return decoded;
  // Cap'n Proto's canonical check ignores unused bits of the data section; re-encoding
  // closes that gap so one envelope has exactly one byte string.
  auto again = decoded->encode();
  if (again.size() != bytes.size() || !std::equal(again.begin(), again.end(), bytes.begin()))
    return make_error(Errc::invalid, "non_canonical", "envelope is not in canonical form");
  return decoded;
}

Sha256 Envelope::digest() const { return sha256(encode()); }

}  // namespace fedswarm
