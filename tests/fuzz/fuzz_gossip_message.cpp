// Fuzz target: gossip messages from peers (decrypted frame payloads). The first byte
// picks a mode:
//   even  the rest is decoded as a message
//   odd   the rest describes a valid message (heartbeat, digest or batch of envelopes),
//         which is encoded, checked to round-trip, then damaged at fuzz-chosen bytes
// Whatever decodes must encode and decode again to an equal message.
#include <cstddef>
#include <cstdint>

#include "fedswarm/protocol/GossipMessage.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

struct Input {
  const std::uint8_t* p;
  std::size_t n;
  bool empty() const { return n == 0; }
  std::uint8_t byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | byte();
    return v;
  }
  fedswarm::Bytes take(std::size_t k) {
    if (k > n) k = n;
    fedswarm::Bytes out(p, p + k);
    p += k;
    n -= k;
    return out;
  }
};

void check_round_trip(const fedswarm::GossipMessage& m) {
  auto again = fedswarm::GossipMessage::decode(m.encode());
  check(again.ok() && *again == m);
}

fedswarm::GossipMessage build(Input& in) {
  using namespace fedswarm;
  switch (in.byte() % 3) {
    case 0: {
      Heartbeat h;
      h.free_capacity = in.u64();
      h.transfer_load = static_cast<std::uint32_t>(in.u64());
      std::size_t len = in.byte() % 40;
      for (std::size_t i = 0; i < len; ++i) h.software_version.push_back(static_cast<char>(0x20 + in.byte() % 0x5f));
      h.uptime_s = in.u64();
      h.roster_serial = in.u64();
      h.records_known = in.u64();
      return {h};
    }
    case 1: {
      Digest d;
      d.reply = in.byte() & 1;
      std::size_t n = in.byte() % 16;
      for (std::size_t i = 0; i < n; ++i) {
        DigestEntry e;
        e.author.bytes[0] = static_cast<std::uint8_t>(i);  // distinct authors
        e.author.bytes[1] = in.byte();
        e.seq = in.u64();
        d.entries.push_back(e);
      }
      return {d};
    }
    default: {
      RecordBatch b;
      std::size_t n = in.byte() % 8;
      for (std::size_t i = 0; i < n; ++i) {
        Envelope e;  // unsigned: decode does not verify
        e.author.bytes[0] = in.byte();
        e.seq = 1 + in.byte();
        e.kind = static_cast<RecordKind>(1 + in.byte() % 5);
        e.body = in.take(in.byte());
        e.signature.bytes[0] = in.byte();
        b.records.push_back(std::move(e));
      }
      return {b};
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in{data, size};
  std::uint8_t mode = in.byte();
  fedswarm::Bytes bytes;
  if (mode % 2 == 0) {
    bytes.assign(in.p, in.p + in.n);
  } else {
    auto m = build(in);
    check_round_trip(m);
    bytes = m.encode();
    // Damage: pairs of (position, xor value) until the input runs out.
    for (int i = 0; i < 8 && !in.empty() && !bytes.empty(); ++i) {
      std::size_t at = ((static_cast<std::size_t>(in.byte()) << 8) | in.byte()) % bytes.size();
      bytes[at] ^= in.byte();
    }
  }
  auto decoded = fedswarm::GossipMessage::decode(bytes);
  if (decoded) {
    check_round_trip(*decoded);
  } else {
    check(decoded.error().code == fedswarm::Errc::invalid);
  }
  return 0;
}
