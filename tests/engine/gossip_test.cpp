// Gossip's rules one at a time, over an in-memory store and a recording network.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "gossip/Gossip.hpp"
#include "fedswarm/protocol/SigningKey.hpp"

using namespace fedswarm;

namespace {

// Bodies that make the fake store refuse a record.
const std::string kBad = "bad";                // reason bad_signature
const std::string kNotGranted = "not-granted";  // reason publisher_not_granted (roster-dependent)

Bytes body(const std::string& s) { return Bytes(s.begin(), s.end()); }

// Logs per author with the catalog's sequence rules: replays are duplicates, gaps park.
class FakeStore final : public GossipStore {
 public:
  PublicKey authority_key;
  std::map<PublicKey, std::vector<Envelope>> logs;
  std::map<PublicKey, std::map<std::uint64_t, Envelope>> pending;
  std::size_t ingest_calls = 0;
  std::size_t reads = 0;
  bool defer_reads = false;                      // hold read completions (a slow disk)
  std::vector<std::function<void()>> deferred;

  VersionVector version_vector() override {
    VersionVector vv;
    for (const auto& [a, log] : logs)
      if (!log.empty()) vv[a] = log.back().seq;
    return vv;
  }
  std::vector<Envelope> records_after(const PublicKey& author, std::uint64_t after, std::size_t max_records,
                                      std::size_t max_bytes) {
    std::vector<Envelope> out;
    std::size_t bytes = 0;
    auto it = logs.find(author);
    if (it == logs.end()) return out;
    for (const auto& e : it->second) {
      if (e.seq <= after) continue;
      if (out.size() >= max_records || (!out.empty() && bytes + e.body.size() > max_bytes)) break;
      bytes += e.body.size();
      out.push_back(e);
    }
    return out;
  }
  void read(std::vector<Range> ranges, std::size_t max_records, std::size_t max_bytes, ReadDone done) override {
    ++reads;
    std::vector<Envelope> out;
    std::size_t bytes = 0;
    for (const auto& r : ranges) {
      if (out.size() >= max_records || bytes >= max_bytes) break;
      for (auto& e : records_after(r.author, r.after, max_records - out.size(), max_bytes - bytes)) {
        if (e.seq > r.upto) break;
        bytes += e.body.size();
        out.push_back(std::move(e));
      }
    }
    if (defer_reads) deferred.push_back([done, out] { done(out); });
    else done(std::move(out));
  }
  void ingest(std::vector<Envelope> records, IngestDone done) override {
    auto results = apply(records);
    done(std::move(records), std::move(results));
  }
  std::vector<IngestResult> apply(const std::vector<Envelope>& records) {
    ++ingest_calls;
    std::vector<IngestResult> out;
    for (const auto& e : records) {
      IngestResult r;
      auto& log = logs[e.author];
      const std::uint64_t have = log.empty() ? 0 : log.back().seq;
      const std::string b(e.body.begin(), e.body.end());
      if (e.seq <= have) {
        r.outcome = IngestOutcome::duplicate;
      } else if (b == kBad) {
        r.error = make_error(Errc::unauthorized, "bad_signature", "bad");
      } else if (b == kNotGranted) {
        r.error = make_error(Errc::unauthorized, "publisher_not_granted", "not granted");
      } else if (e.seq > have + 1) {
        pending[e.author].emplace(e.seq, e);
        r.outcome = IngestOutcome::parked;
      } else {
        log.push_back(e);
        r.outcome = IngestOutcome::stored;
        auto& p = pending[e.author];
        for (auto it = p.find(log.back().seq + 1); it != p.end(); it = p.find(log.back().seq + 1)) {
          log.push_back(it->second);
          p.erase(it);
          ++r.released;
        }
      }
      out.push_back(std::move(r));
    }
    return out;
  }
  PublicKey authority() override { return authority_key; }
};

struct Sent {
  PeerId to;
  GossipMessage message;
};

class RecordingNet final : public GossipNet {
 public:
  std::vector<Sent> sent;
  std::vector<std::pair<PeerId, std::string>> punished;
  std::size_t send(const PeerId& to, const GossipMessage& m) override {
    sent.push_back({to, m});
    return m.encode().size();
  }
  void punish(const PeerId& peer, const std::string& reason) override { punished.emplace_back(peer, reason); }

  std::vector<const RecordBatch*> batches_to(const PeerId& to) const {
    std::vector<const RecordBatch*> out;
    for (const auto& s : sent)
      if (s.to == to)
        if (const auto* b = std::get_if<RecordBatch>(&s.message.body)) out.push_back(b);
    return out;
  }
  std::vector<const Digest*> digests_to(const PeerId& to) const {
    std::vector<const Digest*> out;
    for (const auto& s : sent)
      if (s.to == to)
        if (const auto* d = std::get_if<Digest>(&s.message.body)) out.push_back(d);
    return out;
  }
};

struct World {
  SigningKey authority = SigningKey::generate();
  SigningKey alice = SigningKey::generate();  // a publisher
  SigningKey bob = SigningKey::generate();    // another publisher
  std::vector<PeerId> peers;
  FakeStore store;
  RecordingNet net;

  World() {
    REQUIRE(crypto_init());
    store.authority_key = authority.public_key();
    for (int i = 0; i < 6; ++i) peers.push_back(SigningKey::generate().public_key());
  }
  Envelope rec(const SigningKey& k, std::uint64_t seq, const std::string& b = "ok") const {
    return Envelope::sign(k, seq, RecordKind::manifest, body(b + std::to_string(seq)));
  }
  Envelope raw(const SigningKey& k, std::uint64_t seq, const std::string& b) const {
    return Envelope::sign(k, seq, RecordKind::manifest, body(b));
  }
  void hold(const SigningKey& k, std::uint64_t upto) {
    for (std::uint64_t s = 1; s <= upto; ++s) store.logs[k.public_key()].push_back(rec(k, s));
  }
};

Digest digest_of(std::initializer_list<std::pair<PublicKey, std::uint64_t>> entries, bool reply = false) {
  Digest d;
  d.reply = reply;
  for (const auto& [a, s] : entries) d.entries.push_back({a, s});
  return d;
}

std::vector<std::pair<PublicKey, std::uint64_t>> ids(const std::vector<const RecordBatch*>& batches) {
  std::vector<std::pair<PublicKey, std::uint64_t>> out;
  for (const auto* b : batches)
    for (const auto& e : b->records) out.emplace_back(e.author, e.seq);
  return out;
}

}  // namespace

TEST_CASE("gossip: a round sends the digest to fanout distinct live peers") {
  World w;
  w.hold(w.alice, 2);
  Gossip g({}, w.store, w.net, 7);
  g.round({});
  CHECK(w.net.sent.empty());

  g.round(w.peers);
  REQUIRE(w.net.sent.size() == 3);
  std::set<PeerId> to;
  for (const auto& s : w.net.sent) {
    to.insert(s.to);
    const auto* d = std::get_if<Digest>(&s.message.body);
    REQUIRE(d);
    CHECK_FALSE(d->reply);
    CHECK(d->entries == std::vector<DigestEntry>{{w.alice.public_key(), 2}});
  }
  CHECK(to.size() == 3);
  CHECK(g.stats().digests_sent == 3);
  CHECK(g.stats().bytes_sent > 0);

  w.net.sent.clear();
  g.round({w.peers[0]});  // fewer live peers than the fanout
  CHECK(w.net.sent.size() == 1);
}

TEST_CASE("gossip: a digest is answered with the missing records, authority first, and a delta digest") {
  World w;
  w.hold(w.alice, 3);
  w.hold(w.authority, 2);
  Gossip g({}, w.store, w.net, 1);
  const PeerId p = w.peers[0];
  // The peer has alice 1 and bob 5; it lacks alice 2..3 and all of the authority's.
  g.on_message(p, GossipMessage{digest_of({{w.alice.public_key(), 1}, {w.bob.public_key(), 5}})});
  auto got = ids(w.net.batches_to(p));
  REQUIRE(got.size() == 4);
  CHECK(got[0] == std::make_pair(w.authority.public_key(), std::uint64_t{1}));
  CHECK(got[1] == std::make_pair(w.authority.public_key(), std::uint64_t{2}));
  CHECK(got[2] == std::make_pair(w.alice.public_key(), std::uint64_t{2}));
  CHECK(got[3] == std::make_pair(w.alice.public_key(), std::uint64_t{3}));
  // The reply lists only what we lack: bob, of whom we hold nothing.
  auto digests = w.net.digests_to(p);
  REQUIRE(digests.size() == 1);
  CHECK(digests[0]->reply);
  CHECK(digests[0]->entries == std::vector<DigestEntry>{{w.bob.public_key(), 0}});
  CHECK(g.stats().records_sent == 4);
  CHECK(g.stats().sent_to.at(p) == 4);

  // A reply digest is not answered with a digest, and its absent authors mean "nothing
  // wanted" (here: the authority's records are not sent).
  w.net.sent.clear();
  const PeerId q = w.peers[1];
  g.on_message(q, GossipMessage{digest_of({{w.alice.public_key(), 0}}, true)});
  CHECK(w.net.digests_to(q).empty());
  got = ids(w.net.batches_to(q));
  REQUIRE(got.size() == 3);
  CHECK(got[0].first == w.alice.public_key());

  // Nothing to send and nothing lacking: silence.
  w.net.sent.clear();
  g.on_message(w.peers[2], GossipMessage{digest_of({{w.alice.public_key(), 3}, {w.authority.public_key(), 2}})});
  CHECK(w.net.sent.empty());
}

TEST_CASE("gossip: answers are bounded, and records in flight are not sent again until the resend window") {
  World w;
  w.hold(w.alice, 20);
  GossipConfig c;
  c.batch_records = 3;
  c.batches_per_exchange = 2;
  c.resend_after_rounds = 2;
  Gossip g(c, w.store, w.net, 1);
  const PeerId p = w.peers[0];
  const GossipMessage empty_digest{digest_of({})};

  g.on_message(p, empty_digest);
  auto batches = w.net.batches_to(p);
  REQUIRE(batches.size() == 2);
  CHECK(batches[0]->records.size() == 3);
  auto got = ids(batches);
  REQUIRE(got.size() == 6);
  CHECK(got.back().second == 6);

  // The peer is still ingesting: its next digest shows nothing new, yet 1..6 are not
  // sent again — the exchange continues with 7..12.
  w.net.sent.clear();
  g.on_message(p, empty_digest);
  got = ids(w.net.batches_to(p));
  REQUIRE(got.size() == 6);
  CHECK(got.front().second == 7);
  CHECK(got.back().second == 12);

  // After the resend window, a peer that still shows nothing gets them again (lost).
  for (int i = 0; i < 3; ++i) g.round({});
  w.net.sent.clear();
  g.on_message(p, empty_digest);
  got = ids(w.net.batches_to(p));
  REQUIRE(got.size() == 6);
  CHECK(got.front().second == 1);

  // A new link starts clean.
  g.forget(p);
  w.net.sent.clear();
  g.on_message(p, GossipMessage{digest_of({{w.alice.public_key(), 2}})});
  got = ids(w.net.batches_to(p));
  REQUIRE_FALSE(got.empty());
  CHECK(got.front().second == 3);
}

TEST_CASE("gossip: refused records punish the sender once per batch, replays and gaps do not") {
  World w;
  w.hold(w.alice, 2);
  Gossip g({}, w.store, w.net, 1);
  const PeerId p = w.peers[0];

  RecordBatch fine;
  fine.records = {w.rec(w.alice, 1), w.rec(w.alice, 2), w.rec(w.alice, 3), w.rec(w.alice, 5)};
  g.on_message(p, GossipMessage{fine});
  CHECK(w.net.punished.empty());
  CHECK(g.stats().records_received == 4);
  CHECK(g.stats().records_duplicate == 2);
  CHECK(g.stats().records_stored == 1);
  CHECK(g.stats().records_parked == 1);
  CHECK(g.stats().refused.empty());

  RecordBatch hostile;
  hostile.records = {w.raw(w.bob, 1, kBad), w.raw(w.bob, 2, kBad), w.rec(w.alice, 4)};
  g.on_message(p, GossipMessage{hostile});
  REQUIRE(w.net.punished.size() == 1);
  CHECK(w.net.punished[0] == std::make_pair(p, std::string("bad_signature")));
  CHECK(g.stats().refused.at("bad_signature") == 2);
  CHECK(g.stats().punishments == 1);
  CHECK(g.stats().records_stored == 3);  // alice 4, which released the parked 5
  CHECK(w.store.version_vector().at(w.alice.public_key()) == 5);
}

TEST_CASE("gossip: a roster-dependent refusal is forgiven when the peer showed a newer authority log") {
  World w;
  w.hold(w.authority, 1);
  Gossip g({}, w.store, w.net, 1);
  const PeerId stale = w.peers[0], ahead = w.peers[1], unknown = w.peers[2];
  g.on_message(stale, GossipMessage{digest_of({{w.authority.public_key(), 1}})});
  g.on_message(ahead, GossipMessage{digest_of({{w.authority.public_key(), 2}})});
  RecordBatch b;
  b.records = {w.raw(w.bob, 1, kNotGranted)};

  g.on_message(ahead, GossipMessage{b});  // we may lack the roster that grants bob
  CHECK(w.net.punished.empty());
  g.on_message(stale, GossipMessage{b});
  CHECK(w.net.punished.size() == 1);
  g.on_message(unknown, GossipMessage{b});
  CHECK(w.net.punished.size() == 2);
  CHECK(g.stats().refused.at("publisher_not_granted") == 3);
}

TEST_CASE("gossip: push sends new records to fanout peers and relay_new forwards fresh ones") {
  World w;
  Gossip g({}, w.store, w.net, 3);
  g.push({}, w.peers);
  CHECK(w.net.sent.empty());
  w.hold(w.alice, 1);
  g.push({w.rec(w.alice, 1)}, w.peers);
  CHECK(w.net.sent.size() == 3);
  CHECK(g.stats().records_sent == 3);

  World w2;
  GossipConfig c;
  c.relay_new = true;
  Gossip relay(c, w2.store, w2.net, 3);
  relay.round(w2.peers);  // remembers the live peers
  w2.net.sent.clear();
  RecordBatch b;
  b.records = {w2.rec(w2.alice, 1)};
  relay.on_message(w2.peers[0], GossipMessage{b});
  REQUIRE(w2.net.sent.size() == 3);
  for (const auto& s : w2.net.sent) CHECK(s.to != w2.peers[0]);
  // Known records are not relayed again.
  w2.net.sent.clear();
  relay.on_message(w2.peers[1], GossipMessage{b});
  CHECK(w2.net.sent.empty());
}

TEST_CASE("gossip: a push to a peer known to lack a newer roster carries the roster first") {
  World w;
  w.hold(w.authority, 2);
  w.hold(w.alice, 1);
  Gossip g({}, w.store, w.net, 3);
  const PeerId behind = w.peers[0];
  g.on_message(behind, GossipMessage{digest_of({{w.authority.public_key(), 2}})});
  g.on_message(w.peers[1], GossipMessage{digest_of({{w.authority.public_key(), 1}, {w.alice.public_key(), 1}})});
  w.net.sent.clear();
  // peers[1] holds roster 1 of 2: a push to it starts with the authority's record 2.
  g.push({w.rec(w.alice, 2)}, {w.peers[1]});
  auto got = ids(w.net.batches_to(w.peers[1]));
  REQUIRE(got.size() == 2);
  CHECK(got[0] == std::make_pair(w.authority.public_key(), std::uint64_t{2}));
  CHECK(got[1] == std::make_pair(w.alice.public_key(), std::uint64_t{2}));
  // peers[0] is up to date: only the record.
  g.push({w.rec(w.alice, 2)}, {behind});
  CHECK(ids(w.net.batches_to(behind)).size() == 1);
  // And a digest answer always includes the authority records the digest lacks, even
  // if they were sent a moment ago.
  w.net.sent.clear();
  g.on_message(w.peers[1], GossipMessage{digest_of({{w.authority.public_key(), 1}, {w.alice.public_key(), 2}})});
  got = ids(w.net.batches_to(w.peers[1]));
  REQUIRE(got.size() == 1);
  CHECK(got[0] == std::make_pair(w.authority.public_key(), std::uint64_t{2}));
}

TEST_CASE("gossip: two nodes converge by push-pull over a direct link") {
  World a, b;
  b.store.authority_key = a.store.authority_key;
  a.hold(a.alice, 50);
  b.hold(a.bob, 30);
  GossipConfig c;
  c.batch_records = 8;
  c.batches_per_exchange = 2;
  Gossip ga(c, a.store, a.net, 1), gb(c, b.store, b.net, 2);
  const PeerId ka = a.peers[0], kb = b.peers[0];
  for (int round = 0; round < 20; ++round) {
    ga.round({kb});
    // Deliver until both queues are empty.
    while (!a.net.sent.empty() || !b.net.sent.empty()) {
      auto from_a = std::move(a.net.sent);
      auto from_b = std::move(b.net.sent);
      a.net.sent.clear();
      b.net.sent.clear();
      for (const auto& s : from_a) gb.on_message(ka, s.message);
      for (const auto& s : from_b) ga.on_message(kb, s.message);
    }
    if (a.store.version_vector() == b.store.version_vector()) break;
  }
  CHECK(a.store.version_vector() == b.store.version_vector());
  CHECK(a.store.version_vector().size() == 2);
  CHECK(a.net.punished.empty());
  CHECK(b.net.punished.empty());
}
