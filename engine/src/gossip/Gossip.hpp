// Gossip: Scuttlebutt anti-entropy of signed records between peers (DESIGN §4), as pure
// logic: no sockets, no threads, no clock. The node daemon drives it over real peer
// links; tests and the benchmark drive the very same class over a simulated network.
//
// Rules
// - Every round the daemon calls `round(live)`: the node sends its digest (version
//   vector: author → highest contiguous seq) to `fanout` random live peers.
// - A peer receiving a digest sends, for every author it knows more of, the missing
//   records in seq order, in batches bounded by `batch_bytes`/`batch_records` (at most
//   `batches_per_exchange` batches per digest; the rest follows in later rounds), and
//   answers a non-reply digest with its own digest marked `reply`, so the exchange is
//   push-pull in one round trip. Authority records (rosters) go first, so a newer roster
//   arrives before the records it permits.
// - A reply digest is a delta: it lists only the authors of the request the replier
//   has fewer records of (with its own seq), and is not sent at all when it lacks
//   nothing; absent authors in a reply mean "nothing wanted". So a round in which
//   nothing is new costs one digest per contacted peer.
// - Records are not sent again to a peer that got them (or showed it holds them) within
//   the last `resend_after_rounds` rounds, so a peer still ingesting a large catch-up is
//   not sent the same records by every exchange; a lost batch is resent after that.
//   (Except the authority's: whatever roster records a digest shows missing are sent.)
// - New local records are pushed at once to `fanout` random live peers (`push`),
//   preceded by the authority's records a peer is known (from its digests) to lack. With
//   `relay_new`, records a node stores for the first time from a peer are pushed on to
//   `fanout` random peers of the last `round`'s live list as well (rumor mongering on
//   top of anti-entropy; see bench/gossip_bench.cpp for what it buys).
// - Any node relays any record: trust comes from signatures, checked by the store.
// - Records a peer sends that the store refuses are counted by reason, and the peer is
//   `punish`ed once per batch (the daemon disconnects and backs it off) when the
//   refusal is its fault: not for `io` (ours) or `conflict` (an honest relay of a
//   conflicting manifest, a gap too large to park), and not for a roster-dependent
//   refusal (publisher_not_granted, author_not_member, author_unknown, not_tier1,
//   not_version_publisher, no_roster, no_authority) while the peer has shown, by a
//   digest, more authority records than we hold: then our roster is the stale one.
//   Replays and parked (gap) records are not refusals.
//
// - The store is asynchronous (the daemon's reads and writes run on catalog threads):
//   answering a digest reads the records to send and sends them when they come; a
//   received batch is handed to the store and its results (stats, marks, punishment,
//   relay) are handled when they come back. While a read for a peer is in flight, its
//   next digests get the reply digest but no second read (the records would be the
//   same). A store may complete at once (the simulation, tests).
//
// Contract: single-threaded — every call, and every store completion, on the thread
// that owns the node's state (the daemon's io thread, or the simulation loop). The
// store and net must outlive it; completions arriving after its destruction are
// ignored. `net.send` and `net.punish` may be called from inside any of the calls;
// they must not call back into this object.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "fedswarm/protocol/GossipMessage.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

using PeerId = PublicKey;  // peers are known by their node key

// What gossip needs of the catalog (the daemon: CatalogGossipStore over its catalog
// threads; tests: in-memory stores implementing the same receipt rules). Completions
// run on the owner's thread, possibly before the call returns.
class GossipStore {
 public:
  virtual ~GossipStore() = default;
  // The version vector to advertise (in memory: cheap).
  virtual VersionVector version_vector() = 0;
  // The federation authority's key (its records are sent first).
  virtual PublicKey authority() = 0;

  struct Range {
    PublicKey author;
    std::uint64_t after = 0;  // records with seq > after …
    std::uint64_t upto = 0;   // … up to this one
  };
  using ReadDone = std::function<void(std::vector<Envelope>)>;
  // The records of `ranges`, range after range, each in seq order, about `max_records`
  // and `max_bytes` in all (a range is cut when the budget runs out, the rest dropped).
  virtual void read(std::vector<Range> ranges, std::size_t max_records, std::size_t max_bytes, ReadDone done) = 0;
  using IngestDone = std::function<void(std::vector<Envelope> records, std::vector<IngestResult> results)>;
  // Applies a batch received from a peer; `done` gets the records back with one result
  // per record, in order.
  virtual void ingest(std::vector<Envelope> records, IngestDone done) = 0;
};

// How gossip talks to peers.
class GossipNet {
 public:
  virtual ~GossipNet() = default;
  // Returns the bytes the message took on the wire (0: not sent, e.g. no link).
  virtual std::size_t send(const PeerId& to, const GossipMessage& message) = 0;
  // `peer` sent something that breaks the rules: disconnect and back it off.
  virtual void punish(const PeerId& peer, const std::string& reason) = 0;
};

struct GossipConfig {
  std::uint32_t fanout = 3;
  std::size_t batch_bytes = 1u << 20;
  std::size_t batch_records = 2000;
  std::size_t batches_per_exchange = 8;
  std::uint32_t resend_after_rounds = 2;
  bool relay_new = false;
};

struct GossipStats {
  std::uint64_t rounds = 0;
  std::uint64_t digests_sent = 0, digests_received = 0;
  std::uint64_t records_sent = 0, records_received = 0, records_stored = 0, records_duplicate = 0,
                records_parked = 0;
  std::uint64_t bytes_sent = 0, bytes_received = 0;       // encoded message bytes
  std::uint64_t punishments = 0;
  std::map<std::string, std::uint64_t> refused;            // by reason
  std::map<PeerId, std::uint64_t> sent_to, received_from;  // records per peer
};

class Gossip {
 public:
  Gossip(GossipConfig config, GossipStore& store, GossipNet& net, std::uint64_t seed);

  void round(const std::vector<PeerId>& live);
  void push(const std::vector<Envelope>& records, const std::vector<PeerId>& live);
  // `wire_bytes`: the size of the message as received, for the byte counters (0: the
  // message is encoded again to measure it).
  void on_message(const PeerId& from, const GossipMessage& message, std::size_t wire_bytes = 0);
  // Forgets what was sent to `peer` (call when its link ends: a new link starts clean).
  void forget(const PeerId& peer);

  const GossipStats& stats() const { return stats_; }

 private:
  // What a peer is known to hold or to have been sent, per author, as of a round.
  struct Mark {
    std::uint64_t upto = 0;
    std::uint64_t round = 0;
  };
  struct PeerMarks {
    std::map<PublicKey, Mark> authors;
    std::uint64_t authority_seq = 0;  // highest authority seq the peer's digests showed
    bool authority_known = false;
    bool reading = false;             // records for this peer are being read
  };

  // `bytes`: the message's encoded size if known (0: measured here).
  void send(const PeerId& to, const GossipMessage& m);
  void answer_digest(const PeerId& from, const Digest& d);
  void ingest_batch(const PeerId& from, const RecordBatch& batch);
  void on_ingested(const PeerId& from, const std::vector<Envelope>& records, const std::vector<IngestResult>& results);
  // Sends `records` (any authors, each in seq order) to `to` in bounded batches.
  void send_records(const PeerId& to, const std::vector<Envelope>& records);
  // Sends `records`, preceded by the authority's records `peer` is known to lack.
  void send_with_roster(const PeerId& peer, std::vector<Envelope> records);
  void mark(const PeerId& peer, const PublicKey& author, std::uint64_t upto);
  std::vector<PeerId> pick(const std::vector<PeerId>& live, std::size_t k, const PeerId* except = nullptr);
  bool peer_at_fault(const PeerId& from, const Error& e);
  Digest digest();

  GossipConfig config_;
  GossipStore& store_;
  GossipNet& net_;
  std::mt19937_64 rng_;
  GossipStats stats_;
  std::uint64_t round_ = 0;
  std::uint64_t authority_seq_ = 0;  // ours, as of the last digest built or answered
  std::vector<PeerId> live_;         // as given to the last `round`
  std::map<PeerId, PeerMarks> marks_;
  // Store completions hold a weak reference: they do nothing once this object is gone.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace fedswarm
