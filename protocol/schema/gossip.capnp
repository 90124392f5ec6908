# fedswarm peer-link messages (DESIGN §4): what travels inside the encrypted frames of
# an established link. Unlike records, these are not signed and not stored, so they need
# not be canonical; a receiver bounds them by the frame limit and the counts in
# GossipMessage.hpp. Field numbers are append-only: never renumber or reuse.
@0x8471fb19890186e6;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("fedswarm::schema");

struct GossipMessage {
  union {
    heartbeat @0 :Heartbeat;
    digest @1 :Digest;
    records @2 :RecordBatch;
  }
}

# Ephemeral state of the sender; never stored in the record log.
struct Heartbeat {
  freeCapacity @0 :UInt64;     # bytes the node can still take
  transferLoad @1 :UInt32;     # active transfers
  softwareVersion @2 :Text;
  uptimeS @3 :UInt64;
  rosterSerial @4 :UInt64;
  recordsKnown @5 :UInt64;
}

struct DigestEntry {
  author @0 :Data;             # Ed25519 public key, 32 bytes
  seq @1 :UInt64;              # highest contiguous seq the sender holds
}

# A version vector; `reply` marks the answer to a digest (not answered again).
struct Digest {
  entries @0 :List(DigestEntry);
  reply @1 :Bool;
}

# Records in the sender's order; each element is the canonical encoding of one
# records.capnp Envelope (exactly the bytes Envelope::encode produces), so a relayed
# record keeps the one byte string its signature and digest were computed over.
struct RecordBatch {
  records @0 :List(Data);
}
