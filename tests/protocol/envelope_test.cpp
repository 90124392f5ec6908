#include <doctest/doctest.h>

#include "fedswarm/protocol/Envelope.hpp"
#include "fedswarm/protocol/Limits.hpp"
#include "fedswarm/protocol/Retraction.hpp"
#include "fedswarm/protocol/SigningKey.hpp"

using namespace fedswarm;

namespace {
Bytes sample_body() {
  Retraction r;
  r.dataset_id = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.1pctCO2.r1i1p1f1.3hr.clt.gr";
  r.version = "v20180605";
  r.reason = "versioning error";
  r.errata_id = "5b2d4b5a-1f80-4a1e-9d0b-7bd3e4b5f0a1";
  r.retracted_at = 1700000000;
  return r.encode();
}
}  // namespace

TEST_CASE("an envelope round-trips through its canonical encoding and verifies") {
  auto key = SigningKey::generate();
  auto env = Envelope::sign(key, 7, RecordKind::retraction, sample_body());
  CHECK(env.verify());
  auto bytes = env.encode();
  auto back = Envelope::decode(bytes);
  REQUIRE(back.ok());
  CHECK(*back == env);
  CHECK(back->verify());
  CHECK(back->encode() == bytes);
}

TEST_CASE("flipping any byte of an encoded envelope breaks decoding or verification") {
  auto key = SigningKey::generate();
  auto env = Envelope::sign(key, 3, RecordKind::retraction, sample_body());
  auto bytes = env.encode();
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (std::uint8_t mask : {0x01, 0x80}) {
      auto copy = bytes;
      copy[i] ^= mask;
      auto decoded = Envelope::decode(copy);
      if (!decoded) continue;  // structurally broken: refused
      INFO("byte " << i << " mask " << int(mask));
      // A flip in the unused padding of a canonical message makes it non-canonical
      // (refused above); everything else must change a signed field.
      CHECK_FALSE(decoded->verify());
    }
  }
}

TEST_CASE("a signature cannot be moved to another kind, author, seq or body") {
  auto alice = SigningKey::generate();
  auto bob = SigningKey::generate();
  auto env = Envelope::sign(alice, 5, RecordKind::retraction, sample_body());

  auto other_kind = env;
  other_kind.kind = RecordKind::replica;
  CHECK_FALSE(other_kind.verify());

  auto other_seq = env;
  other_seq.seq = 6;
  CHECK_FALSE(other_seq.verify());

  auto other_author = env;
  other_author.author = bob.public_key();
  CHECK_FALSE(other_author.verify());

  auto other_body = env;
  Retraction r = *Retraction::decode(env.body);
  r.version = "v20180606";
  other_body.body = r.encode();
  CHECK_FALSE(other_body.verify());

  // Bob's valid signature on the same content does not verify under Alice's key.
  auto by_bob = Envelope::sign(bob, 5, RecordKind::retraction, sample_body());
  auto swapped = env;
  swapped.signature = by_bob.signature;
  CHECK_FALSE(swapped.verify());
}

TEST_CASE("the signed message is domain-separated and length-delimited") {
  PublicKey k;
  auto m = Envelope::signed_message(k, 1, RecordKind::manifest, as_bytes("abc"));
  std::string prefix(m.begin(), m.begin() + 18);
  CHECK(prefix == "fedswarm/record/v1");
  CHECK(m.size() == 18 + 32 + 8 + 2 + 8 + 3);
}

TEST_CASE("malformed envelopes are refused with a reason, never a crash") {
  CHECK(Envelope::decode(Bytes{}).error().reason == "malformed_envelope");
  CHECK(Envelope::decode(Bytes(7, 0)).error().reason == "malformed_envelope");
  CHECK_FALSE(Envelope::decode(Bytes(64, 0xff)).ok());
  Bytes huge(limits::max_envelope_bytes + 8, 0);
  CHECK(Envelope::decode(huge).error().reason == "envelope_too_large");

  auto key = SigningKey::generate();
  auto env = Envelope::sign(key, 1, RecordKind::retraction, sample_body());
  env.seq = 0;
  CHECK(Envelope::decode(env.encode()).error().reason == "bad_seq");
}

TEST_CASE("record bodies refuse non-canonical encodings") {
  auto body = sample_body();
  // Appending a zero word keeps the message readable but no longer canonical.
  body.insert(body.end(), 8, 0);
  auto r = Retraction::decode(body);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().reason == "non_canonical");
}

TEST_CASE("keys round-trip through their seed and hex") {
  auto key = SigningKey::generate();
  auto again = SigningKey::from_seed(key.seed());
  CHECK(again.public_key() == key.public_key());
  auto hex = to_hex(key.public_key());
  CHECK(hex.size() == 64);
  CHECK(*fixed_from_hex<32>(hex) == key.public_key());
  CHECK_FALSE(fixed_from_hex<32>("zz").ok());
  CHECK_FALSE(fixed_from_hex<32>(hex.substr(2)).ok());
}
