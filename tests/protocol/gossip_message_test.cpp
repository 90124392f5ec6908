#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "ManifestFactory.hpp"
#include "TestSupport.hpp"
#include "fedswarm/protocol/FrameCodec.hpp"
#include "fedswarm/protocol/GossipMessage.hpp"
#include "fedswarm/protocol/Limits.hpp"
#include "fedswarm/protocol/Retraction.hpp"
#include "fedswarm/protocol/SecureChannel.hpp"

using namespace fedswarm;

namespace {

const test::ManifestFactory& factory() {
  static const test::ManifestFactory f(test::cv_dir());
  return f;
}

// Real signed records of several kinds: manifests from a publisher, a retraction, the
// authority's roster.
std::vector<Envelope> real_records(std::mt19937_64& rng) {
  REQUIRE(crypto_init());
  static const SigningKey publisher = SigningKey::generate();
  static const test::FederationKeys fed;
  std::vector<Envelope> out;
  out.push_back(fed.roster(1, test::make_roster(1, {test::member(publisher, "ipsl")}, {test::grant(publisher)})));
  std::uint64_t seq = 1;
  for (int i = 0; i < 3; ++i) {
    auto spec = factory().random_dataset(rng);
    auto m = factory().make(spec, test::version_string(100 + i), 1 + rng() % 40, rng);
    out.push_back(Envelope::sign(publisher, seq++, RecordKind::manifest, m.encode()));
    Retraction r;
    r.dataset_id = m.dataset_id;
    r.version = m.version;
    r.reason = "wrong calendar";
    r.errata_id = "2f6a7c4e-1d2b-4c3a-9e8f-0a1b2c3d4e5f";
    r.retracted_at = 1'750'000'000;
    out.push_back(Envelope::sign(publisher, seq++, RecordKind::retraction, r.encode()));
  }
  return out;
}

Envelope small_record(std::uint64_t seq = 1) {
  REQUIRE(crypto_init());
  static const SigningKey key = SigningKey::generate();
  Retraction r;
  r.dataset_id = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr";
  r.version = "v20180803";
  r.reason = "x";
  return Envelope::sign(key, seq, RecordKind::retraction, r.encode());
}

PublicKey random_key(std::mt19937_64& rng) {
  PublicKey k;
  for (auto& b : k.bytes) b = static_cast<std::uint8_t>(rng());
  return k;
}

Digest random_digest(std::mt19937_64& rng, std::size_t n) {
  Digest d;
  d.reply = rng() % 2 == 0;
  for (std::size_t i = 0; i < n; ++i) d.entries.push_back({random_key(rng), rng()});
  return d;
}

GossipMessage round_trip(const GossipMessage& m) {
  auto bytes = m.encode();
  CHECK(bytes.size() % 8 == 0);
  CHECK(bytes.size() <= limits::max_frame_bytes);
  auto back = GossipMessage::decode(bytes);
  REQUIRE_MESSAGE(back.ok(), (back.ok() ? "" : back.error().reason + ": " + back.error().message));
  return *back;
}

void check_refused(ByteView bytes, std::string_view reason) {
  auto r = GossipMessage::decode(bytes);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::invalid);
  CHECK(r.error().reason == reason);
}

// Little-endian 64-bit words for hand-built Cap'n Proto messages.
void put_word(Bytes& out, std::uint64_t w) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(w >> (8 * i)));
}
std::uint64_t struct_ptr(std::int32_t offset, std::uint16_t data_words, std::uint16_t ptrs) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(offset) << 2)) | (std::uint64_t{data_words} << 32) |
         (std::uint64_t{ptrs} << 48);
}
std::uint64_t list_ptr(std::int32_t offset, std::uint8_t element_size, std::uint32_t count) {
  return 1u | (static_cast<std::uint64_t>(static_cast<std::uint32_t>(offset) << 2)) |
         (std::uint64_t{element_size} << 32) | (std::uint64_t{count} << 35);
}

}  // namespace

TEST_CASE("a heartbeat round-trips") {
  Heartbeat h;
  CHECK(round_trip({h}) == GossipMessage{h});
  h.free_capacity = ~0ull;
  h.transfer_load = 4'000'000'000u;
  h.software_version = "fedswarm 0.1.0 (debian 12)";
  h.uptime_s = 86'400;
  h.roster_serial = 7;
  h.records_known = 1'234'567;
  auto back = round_trip({h});
  REQUIRE(std::holds_alternative<Heartbeat>(back.body));
  CHECK(std::get<Heartbeat>(back.body) == h);
  h.software_version = std::string(limits::max_short_text_bytes, 'v');
  CHECK(round_trip({h}) == GossipMessage{h});
}

TEST_CASE("a digest round-trips, empty or large, as a reply or not") {
  auto seed = test::test_seed();
  MESSAGE("seed ", seed);
  std::mt19937_64 rng(seed);
  for (std::size_t n : {0u, 1u, 17u, 5000u}) {
    Digest d = random_digest(rng, n);
    auto back = round_trip({d});
    REQUIRE(std::holds_alternative<Digest>(back.body));
    CHECK(std::get<Digest>(back.body) == d);
  }
  Digest reply;
  reply.reply = true;
  CHECK(std::get<Digest>(round_trip({reply}).body).reply);
}

TEST_CASE("a batch of real signed records round-trips byte for byte") {
  auto seed = test::test_seed();
  MESSAGE("seed ", seed);
  std::mt19937_64 rng(seed);
  RecordBatch batch{real_records(rng)};
  auto back = round_trip({batch});
  REQUIRE(std::holds_alternative<RecordBatch>(back.body));
  const auto& got = std::get<RecordBatch>(back.body).records;
  REQUIRE(got.size() == batch.records.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i] == batch.records[i]);
    CHECK(got[i].verify());  // relayed records keep their signatures
    CHECK(got[i].digest() == batch.records[i].digest());
  }
  CHECK(round_trip({RecordBatch{}}) == GossipMessage{RecordBatch{}});
}

TEST_CASE("encoding is deterministic and decoding does not need an aligned buffer") {
  auto seed = test::test_seed();
  MESSAGE("seed ", seed);
  std::mt19937_64 rng(seed);
  GossipMessage m{RecordBatch{real_records(rng)}};
  auto bytes = m.encode();
  CHECK(m.encode() == bytes);
  Bytes shifted(bytes.size() + 1);
  std::copy(bytes.begin(), bytes.end(), shifted.begin() + 1);
  auto back = GossipMessage::decode(ByteView(shifted).subspan(1));
  REQUIRE(back.ok());
  CHECK(*back == m);
}

TEST_CASE("a maximal record fits in one message within the frame limit") {
  Envelope e = small_record();
  e.body.assign(limits::max_envelope_bytes - 512, 0x5a);  // unsigned: decode does not verify
  auto encoded = e.encode();
  REQUIRE(encoded.size() <= limits::max_envelope_bytes);
  auto bytes = GossipMessage{RecordBatch{{e}}}.encode();
  CHECK(bytes.size() + SecureChannel::overhead <= limits::max_frame_bytes);
  auto back = GossipMessage::decode(bytes);
  REQUIRE(back.ok());
  CHECK(std::get<RecordBatch>(back->body).records.at(0) == e);
}

TEST_CASE("every truncation of a message is refused") {
  auto seed = test::test_seed();
  MESSAGE("seed ", seed);
  std::mt19937_64 rng(seed);
  Heartbeat h;
  h.software_version = "fedswarm 0.1.0";
  for (const GossipMessage& m : {GossipMessage{h}, GossipMessage{random_digest(rng, 3)},
                                 GossipMessage{RecordBatch{{small_record(1), small_record(2)}}}}) {
    auto bytes = m.encode();
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      CAPTURE(n);
      check_refused(ByteView(bytes).first(n), "malformed_message");
    }
  }
}

TEST_CASE("garbage is refused without a crash") {
  auto seed = test::test_seed();
  MESSAGE("seed ", seed);
  std::mt19937_64 rng(seed);
  check_refused(Bytes{}, "malformed_message");
  check_refused(as_bytes("hello, peer"), "malformed_message");
  for (int i = 0; i < 2000; ++i) {
    Bytes b(8 * (1 + rng() % 64));
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    auto r = GossipMessage::decode(b);
    if (!r.ok()) CHECK(r.error().code == Errc::invalid);
  }
}

TEST_CASE("a message over the frame limit is refused before it is parsed") {
  Bytes big(limits::max_frame_bytes + 8, 0);
  check_refused(big, "message_too_large");
  // Exactly at the limit it is parsed (and here, all zeros, is an empty heartbeat).
  Bytes at_limit(limits::max_frame_bytes - limits::max_frame_bytes % 8, 0);
  CHECK(GossipMessage::decode(at_limit).ok());
}

TEST_CASE("digest and batch counts over the limits are refused") {
  auto seed = test::test_seed();
  MESSAGE("seed ", seed);
  std::mt19937_64 rng(seed);
  {
    Digest d = random_digest(rng, limits::max_digest_entries);
    CHECK(GossipMessage::decode(GossipMessage{d}.encode()).ok());
    d.entries.push_back({random_key(rng), 1});
    check_refused(GossipMessage{d}.encode(), "too_many_digest_entries");
  }
  {
    RecordBatch b;
    b.records.assign(limits::max_batch_records, small_record());
    CHECK(GossipMessage::decode(GossipMessage{b}.encode()).ok());
    b.records.push_back(small_record());
    check_refused(GossipMessage{b}.encode(), "too_many_records");
  }
}

TEST_CASE("a batch with an invalid envelope is refused, naming the envelope's reason") {
  Envelope bad = small_record();
  bad.seq = 0;  // envelopes start at seq 1
  auto r = GossipMessage::decode(GossipMessage{RecordBatch{{small_record(1), bad}}}.encode());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().reason == "malformed_message");
  CHECK(r.error().message.find("record 2") != std::string::npos);
  CHECK(r.error().message.find("bad_seq") != std::string::npos);

  Envelope victim = small_record();
  auto bytes = GossipMessage{RecordBatch{{victim}}}.encode();
  // Break the envelope's own root pointer inside the batch so it no longer decodes.
  auto enc = victim.encode();
  auto at = std::search(bytes.begin(), bytes.end(), enc.begin(), enc.end());
  REQUIRE(at != bytes.end());
  std::fill(at, at + 8, 0xff);
  check_refused(bytes, "malformed_message");
}

TEST_CASE("a digest naming an author twice, or with a short key, is refused") {
  auto seed = test::test_seed();
  MESSAGE("seed ", seed);
  std::mt19937_64 rng(seed);
  Digest d = random_digest(rng, 10);
  d.entries.push_back({d.entries[3].author, 99});
  auto r = GossipMessage::decode(GossipMessage{d}.encode());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().reason == "malformed_message");
  CHECK(r.error().message.find("more than once") != std::string::npos);

  // One entry; its author is a Data pointer (list of 32 bytes): make it 31 bytes.
  Digest one = random_digest(rng, 1);
  auto bytes = GossipMessage{one}.encode();
  bool patched = false;
  for (std::size_t w = 0; w + 8 <= bytes.size(); w += 8) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | bytes[w + static_cast<std::size_t>(i)];
    if ((v & 3) == 1 && ((v >> 32) & 7) == 2 && (v >> 35) == 32) {
      v = (v & 0xffffffffull) | (std::uint64_t{2} << 32) | (std::uint64_t{31} << 35);
      for (int i = 0; i < 8; ++i) bytes[w + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
      patched = true;
    }
  }
  REQUIRE(patched);
  auto s = GossipMessage::decode(bytes);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().reason == "malformed_message");
  CHECK(s.error().message.find("31 bytes") != std::string::npos);
}

TEST_CASE("a heartbeat software version that is too long or has control characters is refused") {
  Heartbeat h;
  h.software_version = std::string(limits::max_short_text_bytes + 1, 'v');
  check_refused(GossipMessage{h}.encode(), "malformed_message");
  for (std::string v : {std::string("fedswarm\x1b[2J"), std::string("a\nb"), std::string("nul\0in", 6), std::string("del\x7f")}) {
    h.software_version = v;
    check_refused(GossipMessage{h}.encode(), "malformed_message");
  }
}

TEST_CASE("an unknown message type is refused") {
  auto bytes = GossipMessage{Heartbeat{}}.encode();
  // Word 0 is the root pointer, word 1 the root struct's data: the union tag.
  bytes[8] = 3;
  auto r = GossipMessage::decode(bytes);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().reason == "malformed_message");
  CHECK(r.error().message.find("unknown message type 3") != std::string::npos);
}

TEST_CASE("a small message cannot make decode copy far more than its size") {
  // A batch of 10,000 Data pointers all aimed at the same valid envelope: without a
  // traversal limit it would decode as 10,000 records (about 60x its own size).
  const std::uint32_t n = 10'000;
  Bytes env = small_record().encode();
  REQUIRE(env.size() % 8 == 0);
  Bytes msg;
  put_word(msg, struct_ptr(0, 1, 1));  // root: GossipMessage
  put_word(msg, 2);                    // union tag: records
  put_word(msg, struct_ptr(0, 0, 1));  // -> RecordBatch
  put_word(msg, list_ptr(0, 6, n));    // RecordBatch.records: n pointers
  for (std::uint32_t i = 0; i < n; ++i)
    put_word(msg, list_ptr(static_cast<std::int32_t>(n - 1 - i), 2, static_cast<std::uint32_t>(env.size())));
  msg.insert(msg.end(), env.begin(), env.end());
  auto r = GossipMessage::decode(msg);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().reason == "malformed_message");
  CHECK(r.error().message.find("traversal limit") != std::string::npos);
  // The same layout with a few pointers is an honest, if odd, message and decodes.
  Bytes small;
  put_word(small, struct_ptr(0, 1, 1));
  put_word(small, 2);
  put_word(small, struct_ptr(0, 0, 1));
  put_word(small, list_ptr(0, 6, 1));
  put_word(small, list_ptr(0, 2, static_cast<std::uint32_t>(env.size())));
  small.insert(small.end(), env.begin(), env.end());
  auto ok = GossipMessage::decode(small);
  REQUIRE(ok.ok());
  CHECK(std::get<RecordBatch>(ok->body).records.size() == 1);
}

TEST_CASE("random byte flips never crash, and what decodes re-encodes to the same value") {
  auto seed = test::test_seed();
  MESSAGE("seed ", seed);
  std::mt19937_64 rng(seed);
  Heartbeat h;
  h.software_version = "fedswarm 0.1.0";
  h.free_capacity = 1 << 30;
  std::vector<Bytes> originals = {GossipMessage{h}.encode(), GossipMessage{random_digest(rng, 20)}.encode(),
                                  GossipMessage{RecordBatch{real_records(rng)}}.encode()};
  int decoded = 0;
  for (int i = 0; i < 3000; ++i) {
    Bytes b = originals[static_cast<std::size_t>(i) % originals.size()];
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] ^= static_cast<std::uint8_t>(1 + rng() % 255);
    auto r = GossipMessage::decode(b);
    if (!r.ok()) {
      CHECK(r.error().code == Errc::invalid);
      continue;
    }
    ++decoded;
    auto again = GossipMessage::decode(r->encode());
    REQUIRE(again.ok());
    CHECK(*again == *r);
  }
  MESSAGE(decoded, " of 3000 damaged messages still decoded");
}
