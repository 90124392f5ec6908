#include "gossip/Gossip.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace fedswarm {

namespace {

// Bytes an envelope adds to a batch: its body plus the fixed fields and Cap'n Proto
// framing (key 32, signature 64, seq, kind, pointers). An estimate, used only to cut
// batches, so it errs on the large side.
std::size_t envelope_bytes(const Envelope& e) { return e.body.size() + 160; }

// Refusals that depend on the roster (or on records) the receiver holds: a receiver
// with a stale roster refuses records an up-to-date relay rightly sends.
bool roster_dependent(std::string_view reason) {
  static constexpr std::array<std::string_view, 7> kReasons = {
      "publisher_not_granted", "author_not_member", "author_unknown", "not_tier1",
      "not_version_publisher", "no_roster",         "no_authority"};
  return std::find(kReasons.begin(), kReasons.end(), reason) != kReasons.end();
}

}  // namespace

Gossip::Gossip(GossipConfig config, GossipStore& store, GossipNet& net, std::uint64_t seed)
    : config_(config), store_(store), net_(net), rng_(seed) {
  config_.batch_records = std::clamp<std::size_t>(config_.batch_records, 1, limits::max_batch_records);
  config_.batch_bytes = std::max<std::size_t>(config_.batch_bytes, 1);
  config_.batches_per_exchange = std::max<std::size_t>(config_.batches_per_exchange, 1);
}

void Gossip::send(const PeerId& to, const GossipMessage& m) {
  // The net reports what it put on the wire: encoding a batch is the costly part of
  // sending, so it happens once, there.
  stats_.bytes_sent += net_.send(to, m);
}

std::vector<PeerId> Gossip::pick(const std::vector<PeerId>& live, std::size_t k, const PeerId* except) {
  // Index sampling without copying the list: k is small (the fanout), the list may hold
  // a thousand peers.
  std::vector<std::size_t> chosen;
  std::size_t candidates = live.size();
  if (except) candidates -= static_cast<std::size_t>(std::count(live.begin(), live.end(), *except));
  k = std::min(k, candidates);
  std::uniform_int_distribution<std::size_t> any(0, live.empty() ? 0 : live.size() - 1);
  while (chosen.size() < k) {
    std::size_t i = any(rng_);
    if (except && live[i] == *except) continue;
    if (std::find(chosen.begin(), chosen.end(), i) != chosen.end()) continue;
    chosen.push_back(i);
  }
  std::vector<PeerId> out;
  out.reserve(chosen.size());
  for (std::size_t i : chosen) out.push_back(live[i]);
  return out;
}

Digest Gossip::digest() {
  Digest d;
  VersionVector vv = store_.version_vector();
  const PublicKey authority = store_.authority();
  d.entries.reserve(vv.size());
  for (const auto& [author, seq] : vv) d.entries.push_back({author, seq});
  auto it = vv.find(authority);
  authority_seq_ = it == vv.end() ? 0 : it->second;
  return d;
}

void Gossip::mark(const PeerId& peer, const PublicKey& author, std::uint64_t upto) {
  Mark& m = marks_[peer].authors[author];
  if (m.round + config_.resend_after_rounds < round_) m.upto = 0;  // expired
  m.upto = std::max(m.upto, upto);
  m.round = round_;
}

void Gossip::forget(const PeerId& peer) { marks_.erase(peer); }

void Gossip::round(const std::vector<PeerId>& live) {
  ++stats_.rounds;
  ++round_;
  live_ = live;
  // Drop expired marks so the table holds only peers of the last few rounds.
  for (auto it = marks_.begin(); it != marks_.end();) {
    auto& authors = it->second.authors;
    std::erase_if(authors, [&](const auto& kv) { return kv.second.round + config_.resend_after_rounds < round_; });
    if (authors.empty() && !it->second.authority_known)
      it = marks_.erase(it);
    else
      ++it;
  }
  std::vector<PeerId> targets = pick(live, config_.fanout);
  if (targets.empty()) return;
  GossipMessage m{digest()};
  for (const auto& peer : targets) {
    send(peer, m);
    ++stats_.digests_sent;
  }
}

void Gossip::push(const std::vector<Envelope>& records, const std::vector<PeerId>& live) {
  if (records.empty()) return;
  for (const auto& peer : pick(live, config_.fanout)) send_with_roster(peer, records);
}

void Gossip::send_with_roster(const PeerId& peer, std::vector<Envelope> records) {
  // A peer known to lack some of the authority's records (a newer roster) would refuse
  // records that roster permits: send those first, as an answer to a digest would.
  auto it = marks_.find(peer);
  const PublicKey authority = store_.authority();
  if (it == marks_.end() || !it->second.authority_known || it->second.authority_seq >= authority_seq_ ||
      std::any_of(records.begin(), records.end(), [&](const Envelope& e) { return e.author == authority; }))
    return send_records(peer, records);
  std::vector<GossipStore::Range> ranges{{authority, it->second.authority_seq, authority_seq_}};
  store_.read(std::move(ranges), config_.batch_records, config_.batch_bytes,
              [this, alive = std::weak_ptr<int>(alive_), peer, records = std::move(records)](std::vector<Envelope> out) {
                if (alive.expired()) return;
                out.insert(out.end(), records.begin(), records.end());
                send_records(peer, out);
              });
}

void Gossip::send_records(const PeerId& to, const std::vector<Envelope>& records) {
  RecordBatch batch;
  std::size_t bytes = 0;
  auto flush = [&] {
    if (batch.records.empty()) return;
    for (const auto& e : batch.records) mark(to, e.author, e.seq);
    stats_.records_sent += batch.records.size();
    stats_.sent_to[to] += batch.records.size();
    send(to, GossipMessage{std::move(batch)});
    batch = RecordBatch{};
    bytes = 0;
  };
  for (const auto& e : records) {
    if (!batch.records.empty() &&
        (batch.records.size() >= config_.batch_records || bytes + envelope_bytes(e) > config_.batch_bytes))
      flush();
    batch.records.push_back(e);
    bytes += envelope_bytes(e);
  }
  flush();
}

void Gossip::on_message(const PeerId& from, const GossipMessage& message, std::size_t wire_bytes) {
  stats_.bytes_received += wire_bytes != 0 ? wire_bytes : message.encode().size();  // 0: a net without frames
  if (const auto* d = std::get_if<Digest>(&message.body)) {
    ++stats_.digests_received;
    answer_digest(from, *d);
  } else if (const auto* b = std::get_if<RecordBatch>(&message.body)) {
    ingest_batch(from, *b);
  }
  // Heartbeats are the daemon's (Membership); nothing to do here.
}

void Gossip::answer_digest(const PeerId& from, const Digest& d) {
  const VersionVector vv = store_.version_vector();
  const PublicKey authority = store_.authority();
  {
    auto it = vv.find(authority);
    authority_seq_ = it == vv.end() ? 0 : it->second;
  }
  // The peer's claims, deduplicated (a hostile digest may repeat an author).
  std::map<PublicKey, std::uint64_t> theirs;
  for (const auto& e : d.entries) {
    auto [it, fresh] = theirs.emplace(e.author, e.seq);
    if (!fresh) it->second = std::max(it->second, e.seq);
  }
  PeerMarks& pm = marks_[from];
  if (auto it = theirs.find(authority); it != theirs.end()) {
    pm.authority_seq = it->second;
    pm.authority_known = true;
  } else if (!d.reply) {
    pm.authority_seq = 0;
    pm.authority_known = true;
  } else if (pm.authority_seq < authority_seq_) {
    // A reply omits authors its sender is not behind on: it holds at least ours.
    pm.authority_seq = authority_seq_;
    pm.authority_known = true;
  }

  // What we hold that the peer lacks: (author, start after, our highest).
  struct Want {
    PublicKey author;
    std::uint64_t after;
    std::uint64_t ours;
  };
  std::vector<Want> wants;
  for (const auto& [author, ours] : vv) {
    std::uint64_t have = 0;
    if (auto it = theirs.find(author); it != theirs.end())
      have = it->second;
    else if (d.reply)
      continue;
    if (ours <= have) continue;
    std::uint64_t after = have;
    // Sent lately: still on its way or being ingested. Not for the authority's few
    // records: a peer lacking a roster refuses what it permits, so never wait on those.
    if (auto m = pm.authors.find(author);
        author != authority && m != pm.authors.end() && m->second.round + config_.resend_after_rounds >= round_)
      after = std::max(after, m->second.upto);
    if (after >= ours) continue;
    wants.push_back({author, after, ours});
  }
  // Authority first, so a newer roster lands before the records it permits; the other
  // authors in a random order, so a large backlog of one cannot starve the rest when
  // the exchange's budget runs out.
  auto auth = std::find_if(wants.begin(), wants.end(), [&](const Want& w) { return w.author == authority; });
  if (auth != wants.end()) std::iter_swap(wants.begin(), auth);
  if (wants.size() > 2) std::shuffle(wants.begin() + (auth != wants.end() ? 1 : 0), wants.end(), rng_);

  if (!wants.empty() && !pm.reading) {
    const std::size_t budget_records = config_.batch_records * config_.batches_per_exchange;
    const std::size_t budget_bytes = config_.batch_bytes * config_.batches_per_exchange;
    std::vector<GossipStore::Range> ranges;
    ranges.reserve(wants.size());
    for (const auto& w : wants) ranges.push_back({w.author, w.after, w.ours});
    pm.reading = true;
    store_.read(std::move(ranges), budget_records, budget_bytes,
                [this, alive = std::weak_ptr<int>(alive_), from](std::vector<Envelope> out) {
                  if (alive.expired()) return;
                  if (auto it = marks_.find(from); it != marks_.end()) it->second.reading = false;
                  send_records(from, out);
                });
  }

  if (!d.reply) {
    Digest r;
    r.reply = true;
    for (const auto& [author, seq] : theirs) {
      auto it = vv.find(author);
      std::uint64_t ours = it == vv.end() ? 0 : it->second;
      if (seq > ours) r.entries.push_back({author, ours});
    }
    if (!r.entries.empty()) {
      send(from, GossipMessage{std::move(r)});
      ++stats_.digests_sent;
    }
  }
}

bool Gossip::peer_at_fault(const PeerId& from, const Error& e) {
  if (e.code == Errc::io || e.code == Errc::conflict) return false;
  if (roster_dependent(e.reason)) {
    auto it = marks_.find(from);
    if (it != marks_.end() && it->second.authority_known && it->second.authority_seq > authority_seq_) return false;
  }
  return true;
}

void Gossip::ingest_batch(const PeerId& from, const RecordBatch& batch) {
  if (batch.records.empty()) return;
  stats_.records_received += batch.records.size();
  stats_.received_from[from] += batch.records.size();
  store_.ingest(batch.records, [this, alive = std::weak_ptr<int>(alive_), from](std::vector<Envelope> records,
                                                                             std::vector<IngestResult> results) {
    if (alive.expired()) return;
    on_ingested(from, records, results);
  });
}

void Gossip::on_ingested(const PeerId& from, const std::vector<Envelope>& records,
                         const std::vector<IngestResult>& results) {
  const std::optional<Error> fault_missing =
      results.size() == records.size()
          ? std::nullopt
          : std::optional<Error>(make_error(Errc::io, "store_failed", "the store returned no result for a batch"));
  std::optional<std::string> fault;
  std::vector<Envelope> fresh;
  for (std::size_t i = 0; i < results.size() && i < records.size(); ++i) {
    const Envelope& e = records[i];
    const IngestResult& r = results[i];
    switch (r.outcome) {
      case IngestOutcome::stored:
        stats_.records_stored += 1 + r.released;
        if (config_.relay_new) fresh.push_back(e);
        mark(from, e.author, e.seq);
        break;
      case IngestOutcome::duplicate:
        ++stats_.records_duplicate;
        mark(from, e.author, e.seq);
        break;
      case IngestOutcome::parked:
        ++stats_.records_parked;
        break;
      case IngestOutcome::refused: {
        const std::string reason = r.error ? r.error->reason : std::string("refused");
        ++stats_.refused[reason];
        if (!fault && r.error && peer_at_fault(from, *r.error)) fault = reason;
        break;
      }
    }
  }
  if (fault_missing) ++stats_.refused[fault_missing->reason];
  if (fault) {
    ++stats_.punishments;
    net_.punish(from, *fault);
    return;  // nothing from a misbehaving peer is relayed
  }
  if (!fresh.empty())
    for (const auto& peer : pick(live_, config_.fanout, &from)) send_with_roster(peer, fresh);
}

}  // namespace fedswarm
