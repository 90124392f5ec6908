// GossipMessage: what travels inside a peer link's encrypted frames after the handshake
// (DESIGN §4): heartbeats with ephemeral state, Scuttlebutt digests (version vectors)
// and batches of records. Encoded with Cap'n Proto (protocol/schema/gossip.capnp).
//
// Contract: pure value types; `decode` takes untrusted bytes and returns `invalid`
// ("malformed_message", "too_many_digest_entries", "too_many_records",
// "message_too_large") without throwing. Envelopes inside a batch are decoded here
// but not verified.
// - A message is at most limits::max_frame_bytes (FrameCodec.hpp); counts are checked
//   against the limits below before anything is allocated for them.
// - "malformed_message" also covers: a record in a batch that is not a valid canonical
//   envelope (its own reason is in the message), an author key that is not 32 bytes, an
//   author named twice in one digest, a heartbeat software version over
//   limits::max_short_text_bytes or with control characters, a message type this
//   version does not know.
// - `encode` does not check limits: the sender keeps a batch within max_batch_records
//   and the frame limit. Records travel as their canonical envelope bytes
//   (Envelope::encode), each costing its size rounded up to 8 plus 8 bytes.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Envelope.hpp"
#include "fedswarm/protocol/Limits.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

namespace limits {
inline constexpr std::size_t max_digest_entries = 100'000;  // authors in one version vector
inline constexpr std::size_t max_batch_records = 10'000;    // envelopes in one batch
}  // namespace limits

// Ephemeral state riding on link heartbeats; never stored in the record log.
struct Heartbeat {
  std::uint64_t free_capacity = 0;   // bytes the node can still take
  std::uint32_t transfer_load = 0;   // active transfers
  std::string software_version;
  std::uint64_t uptime_s = 0;
  std::uint64_t roster_serial = 0;
  std::uint64_t records_known = 0;
  bool operator==(const Heartbeat&) const = default;
};

struct DigestEntry {
  PublicKey author;
  std::uint64_t seq = 0;  // highest contiguous seq held
  bool operator==(const DigestEntry&) const = default;
};

// A version vector. `reply` marks the answer to a digest, which is not answered again.
struct Digest {
  std::vector<DigestEntry> entries;
  bool reply = false;
  bool operator==(const Digest&) const = default;
};

struct RecordBatch {
  std::vector<Envelope> records;
  bool operator==(const RecordBatch&) const = default;
};

struct GossipMessage {
  std::variant<Heartbeat, Digest, RecordBatch> body;

  Bytes encode() const;
  static Result<GossipMessage> decode(ByteView bytes);
  bool operator==(const GossipMessage&) const = default;
};

}  // namespace fedswarm
