#include "GossipSimulation.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "fedswarm/protocol/Retraction.hpp"

namespace fedswarm::test {

namespace {

SigningKey key_from(std::mt19937_64& rng) {
  SigningKey::Seed seed;
  for (auto& b : seed.bytes) b = static_cast<std::uint8_t>(rng());
  return SigningKey::from_seed(seed);
}

std::uint64_t pair_key(std::uint32_t a, std::uint32_t b) {
  if (a > b) std::swap(a, b);
  return std::uint64_t{a} << 32 | b;
}

[[noreturn]] void fail(const std::string& what, const Error& e) {
  throw std::runtime_error(what + ": " + e.reason + ": " + e.message);
}

}  // namespace

struct GossipSimulation::Node {
  explicit Node(SigningKey k) : key(std::move(k)) {}
  SigningKey key;
  std::filesystem::path dir;
  std::unique_ptr<Catalog> catalog;
  std::unique_ptr<CatalogGossipStore> store;
  std::unique_ptr<Links> links;
  std::unique_ptr<GossipNode> node;
  bool running = false;
  std::uint64_t incarnation = 0;
  std::int64_t phase_ms = 0;
  std::vector<std::pair<std::string, std::string>> published;  // (dataset id, version), oldest first
};

// The simulated network as one node's GossipLinks.
class GossipSimulation::Links final : public GossipLinks {
 public:
  Links(GossipSimulation& sim, std::uint32_t self) : sim_(sim), self_(self) {}
  std::size_t send(const PeerId& to, const GossipMessage& message) override {
    sim_.send(self_, sim_.index_of(to), message);
    return message.encode().size();
  }
  void dial(const PeerId& peer, const RosterMember&) override { sim_.dial(self_, sim_.index_of(peer)); }
  void close(const PeerId& peer, const Error& why, bool fault) override {
    if (fault) ++sim_.traffic_.punishments;
    sim_.close_link(self_, sim_.index_of(peer), why.reason);
  }
  void pause_reading(bool) override {}

 private:
  GossipSimulation& sim_;
  std::uint32_t self_;
};

GossipSimulation::GossipSimulation(SimOptions options)
    : options_(std::move(options)), rng_(options_.seed), factory_(options_.cv_dir) {
  if (!crypto_init()) throw std::runtime_error("libsodium failed to initialise");
  fed_.authority = key_from(rng_);
  for (std::size_t i = 0; i < options_.nodes; ++i) {
    nodes_.push_back(std::make_unique<Node>(key_from(rng_)));
    index_.emplace(nodes_.back()->key.public_key(), static_cast<std::uint32_t>(i));
    if (i < options_.publishers) granted_.insert(i);
  }
  Roster r = roster_now();
  r.serial = ++roster_serial_;
  Envelope first = fed_.roster(++authority_seq_, r);
  expect(first);
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    open_node(i);
    Catalog& c = *nodes_[i]->catalog;
    if (auto s = c.import_roster(first, unix_now()); !s) fail("import roster", s.error());
    // The roster also enters the log, as it would arriving by gossip: then every node
    // starts with the same version vector.
    auto in = c.ingest(first, unix_now());
    if (!in) fail("ingest roster", in.error());
    start_node(i);
  }
}

GossipSimulation::~GossipSimulation() = default;

Roster GossipSimulation::roster_now() const {
  std::vector<RosterMember> members;
  std::vector<PublisherGrant> grants;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    members.push_back(member(nodes_[i]->key, "node-" + std::to_string(i)));
    members.back().endpoints = {"sim:" + std::to_string(i)};
    if (granted_.count(i)) grants.push_back(grant(nodes_[i]->key));
  }
  return make_roster(roster_serial_, std::move(members), std::move(grants), options_.start_unix_s - 100,
                     options_.start_unix_s + 10 * 365 * 86400);
}

void GossipSimulation::open_node(std::size_t i) {
  Node& n = *nodes_[i];
  n.dir = options_.dir / ("node-" + std::to_string(i));
  n.node.reset();
  n.store.reset();
  n.catalog.reset();
  CatalogOptions o;
  o.dir = n.dir;
  o.durable = options_.durable;
  o.initial_map_bytes = 4u << 20;
  auto c = Catalog::open(o, ProjectRegistry::builtin());
  if (!c) fail("open catalog " + o.dir.string(), c.error());
  n.catalog = std::move(*c);
  if (auto s = n.catalog->pin_authority(fed_.authority.public_key()); !s) fail("pin authority", s.error());
}

void GossipSimulation::start_node(std::size_t i) {
  Node& n = *nodes_[i];
  CatalogGossipStoreOptions so;
  so.verify_threads = options_.verify_threads;
  so.now = [this] { return unix_now(); };
  n.store = std::make_unique<CatalogGossipStore>(*n.catalog, so);
  n.links = std::make_unique<Links>(*this, static_cast<std::uint32_t>(i));
  GossipNodeConfig gc;
  gc.gossip = options_.gossip;
  gc.membership = options_.membership;
  gc.seed = rng_();
  gc.now_ms = [this] { return now_ms_; };
  if (!options_.links) {
    // Linked to everyone for ever: no heartbeats, no timeouts.
    gc.heartbeats = false;
    gc.membership.suspect_after_ms = gc.membership.down_after_ms = UINT32_MAX / 2;
  }
  GossipNode::Callbacks cb;
  const std::uint32_t self = static_cast<std::uint32_t>(i);
  cb.heartbeat = [this, self] {
    Heartbeat hb;
    hb.software_version = "sim";
    hb.roster_serial = nodes_[self]->store->roster_serial();
    return hb;
  };
  n.node = std::make_unique<GossipNode>(gc, n.key.public_key(), *n.store, *n.links, cb);
  n.store->set_on_stored([this, self](const std::vector<std::string>&, bool roster) {
    if (roster) after_input(self);
  });
  if (auto r = n.catalog->roster(); r && *r) n.node->set_roster(**r);
  n.running = true;
  if (!options_.links)
    for (std::size_t j = 0; j < nodes_.size(); ++j) {
      if (j == i || !nodes_[j]->running || !nodes_[j]->node) continue;
      link(self, static_cast<std::uint32_t>(j));
      n.node->link_up(nodes_[j]->key.public_key());
      nodes_[j]->node->link_up(n.key.public_key());
    }
  ++n.incarnation;
  if (n.incarnation == 1 && !options_.same_phase)
    n.phase_ms = static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(options_.interval_ms));
  // The next tick of this node's own timer phase.
  std::int64_t first = now_ms_ - now_ms_ % options_.interval_ms + n.phase_ms;
  if (first <= now_ms_) first += options_.interval_ms;
  queue_.push(Event{first, order_++, self, self, n.incarnation, nullptr});
}

bool GossipSimulation::running(std::size_t i) const { return nodes_.at(i)->running; }
const SigningKey& GossipSimulation::key(std::size_t i) const { return nodes_.at(i)->key; }
Catalog& GossipSimulation::catalog(std::size_t i) { return *nodes_.at(i)->catalog; }
const GossipNode& GossipSimulation::node(std::size_t i) const { return *nodes_.at(i)->node; }
const Membership& GossipSimulation::membership(std::size_t i) const { return nodes_.at(i)->node->membership(); }

std::uint32_t GossipSimulation::index_of(const PeerId& key) const {
  auto it = index_.find(key);
  return it == index_.end() ? UINT32_MAX : it->second;
}

// --- time ------------------------------------------------------------------------------

void GossipSimulation::run_for(std::int64_t ms) {
  const std::int64_t end = now_ms_ + ms;
  while (!queue_.empty() && queue_.top().at <= end) {
    Event e = queue_.top();
    queue_.pop();
    now_ms_ = e.at;
    if (e.message) {
      deliver(e);
      continue;
    }
    Node& n = *nodes_[e.to];
    if (!n.running || n.incarnation != e.to_incarnation) continue;  // crashed: its timer died with it
    node_round(e.to);
    queue_.push(Event{now_ms_ + options_.interval_ms, order_++, e.to, e.to, e.to_incarnation, nullptr});
  }
  now_ms_ = end;
}

bool GossipSimulation::run_until(const std::function<bool()>& done, std::int64_t max_ms) {
  for (std::int64_t t = 0; t < max_ms; t += options_.interval_ms) {
    run_for(options_.interval_ms);
    if (done()) return true;
  }
  return done();
}

// --- network ---------------------------------------------------------------------------

bool GossipSimulation::reachable(std::uint32_t a, std::uint32_t b) const {
  return group_.empty() || group_[a] == group_[b];
}
bool GossipSimulation::linked(std::uint32_t a, std::uint32_t b) const { return links_.count(pair_key(a, b)) != 0; }
void GossipSimulation::link(std::uint32_t a, std::uint32_t b) { links_.insert(pair_key(a, b)); }
void GossipSimulation::unlink(std::uint32_t a, std::uint32_t b) { links_.erase(pair_key(a, b)); }

void GossipSimulation::partition(std::vector<int> group) {
  group.resize(nodes_.size(), 0);
  group_ = std::move(group);
}

void GossipSimulation::heal() { group_.clear(); }

void GossipSimulation::crash(std::size_t i) {
  Node& n = *nodes_.at(i);
  n.running = false;
  // Its links die silently: peers find out by the missing heartbeats.
  std::erase_if(links_, [&](std::uint64_t k) { return (k >> 32) == i || (k & 0xffffffffu) == i; });
}

void GossipSimulation::restart(std::size_t i) {
  Node& n = *nodes_.at(i);
  if (n.running) return;
  // A new process over the same catalog folder.
  open_node(i);
  start_node(i);
}

void GossipSimulation::send(std::uint32_t from, std::uint32_t to, const GossipMessage& m) {
  ++traffic_.messages;
  if (to >= nodes_.size()) {
    ++traffic_.dropped;
    return;
  }
  if (options_.loss > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < options_.loss) {
    ++traffic_.lost;
    return;
  }
  std::int64_t at =
      now_ms_ + std::uniform_int_distribution<std::int64_t>(options_.min_delay_ms, options_.max_delay_ms)(rng_);
  // A link is a byte stream: later messages never overtake earlier ones.
  std::int64_t& last = last_delivery_[std::uint64_t{from} << 32 | to];
  at = std::max(at, last);
  last = at;
  queue_.push(Event{at, order_++, from, to, nodes_[to]->incarnation, std::make_shared<const GossipMessage>(m)});
}

void GossipSimulation::deliver(const Event& e) {
  Node& t = *nodes_[e.to];
  Node& f = *nodes_[e.from];
  if (!t.running || t.incarnation != e.to_incarnation || !f.running || !reachable(e.from, e.to) ||
      !linked(e.from, e.to)) {
    ++traffic_.dropped;
    return;
  }
  t.node->on_message(f.key.public_key(), *e.message, 0);
}

void GossipSimulation::close_link(std::uint32_t by, std::uint32_t other, const std::string& reason) {
  if (other >= nodes_.size()) return;
  const bool was = linked(by, other);
  unlink(by, other);
  Node& a = *nodes_[by];
  Node& b = *nodes_[other];
  // The other side sees the close only if the path works (else: by its own timeout).
  if (was && b.running && reachable(by, other)) {
    const PeerInfo* p = b.node->membership().peer(a.key.public_key());
    if (p && p->connected) b.node->link_down(a.key.public_key(), "closed by peer (" + reason + ")", false);
  }
}

void GossipSimulation::dial(std::uint32_t from, std::uint32_t to) {
  if (to >= nodes_.size()) return;
  ++traffic_.dials;
  Node& n = *nodes_[from];
  Node& t = *nodes_[to];
  if (t.running && reachable(from, to) && t.node->admit(n.key.public_key())) {
    // The handshake replaces any link the other side still believes in.
    link(from, to);
    t.node->link_up(n.key.public_key());
    n.node->link_up(t.key.public_key());
  } else {
    ++traffic_.dial_failures;
    n.node->dial_failed(t.key.public_key(), t.running && reachable(from, to) ? "refused" : "unreachable");
  }
}

void GossipSimulation::node_round(std::size_t i) { nodes_[i]->node->round(); }

void GossipSimulation::after_input(std::size_t i) {
  Node& n = *nodes_[i];
  if (auto r = n.store->take_roster()) n.node->set_roster(*r);
}

// --- records ---------------------------------------------------------------------------

void GossipSimulation::expect(const Envelope& e) {
  std::uint64_t& s = expected_[e.author];
  s = std::max(s, e.seq);
}

Envelope GossipSimulation::publish(std::size_t i) {
  Node& n = *nodes_.at(i);
  if (!n.running) throw std::runtime_error("publish at a crashed node");
  DatasetSpec spec = factory_.random_dataset(rng_);
  Manifest m = factory_.make(spec, version_string(version_day_++), 1 + rng_() % 3, rng_);
  m.published_at = unix_now();
  auto env = n.catalog->append_local(n.key, RecordKind::manifest, m.encode(), unix_now());
  if (!env) fail("publish at node " + std::to_string(i), env.error());
  n.published.emplace_back(m.dataset_id, m.version);
  expect(*env);
  n.node->push({*env});
  return *env;
}

std::optional<Envelope> GossipSimulation::retract(std::size_t i) {
  Node& n = *nodes_.at(i);
  if (!n.running) throw std::runtime_error("retract at a crashed node");
  if (n.published.empty()) return std::nullopt;
  Retraction r;
  std::tie(r.dataset_id, r.version) = n.published.back();
  n.published.pop_back();
  r.reason = "simulated errata";
  r.retracted_at = unix_now();
  auto env = n.catalog->append_local(n.key, RecordKind::retraction, r.encode(), unix_now());
  if (!env) fail("retract at node " + std::to_string(i), env.error());
  expect(*env);
  n.node->push({*env});
  return *env;
}

std::size_t GossipSimulation::add_node() {
  const std::size_t i = nodes_.size();
  nodes_.push_back(std::make_unique<Node>(key_from(rng_)));
  index_.emplace(nodes_.back()->key.public_key(), static_cast<std::uint32_t>(i));
  if (!group_.empty()) group_.push_back(0);
  open_node(i);
  return i;
}

Envelope GossipSimulation::publish_roster(std::size_t via, const std::vector<std::size_t>& extra_publishers) {
  Node& v = *nodes_.at(via);
  if (!v.running) throw std::runtime_error("roster handed to a crashed node");
  granted_.insert(extra_publishers.begin(), extra_publishers.end());
  ++roster_serial_;
  Envelope env = fed_.roster(++authority_seq_, roster_now());
  expect(env);
  std::vector<IngestResult> results;
  v.store->ingest({env}, [&](std::vector<Envelope>, std::vector<IngestResult> r) { results = std::move(r); });
  if (results.size() != 1 || results[0].outcome != IngestOutcome::stored)
    throw std::runtime_error("node " + std::to_string(via) + " did not store roster " + std::to_string(roster_serial_) +
                             (results.size() == 1 && results[0].error ? ": " + results[0].error->reason : ""));
  after_input(via);
  v.node->push({env});
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = *nodes_[i];
    if (n.running || n.store) continue;  // started before, or crashed (it restarts itself)
    if (auto s = n.catalog->import_roster(env, unix_now()); !s) fail("import roster at new node", s.error());
    start_node(i);
  }
  return env;
}

// --- inspection -------------------------------------------------------------------------

VersionVector GossipSimulation::version_vector(std::size_t i) const {
  auto vv = nodes_.at(i)->catalog->version_vector();
  if (!vv) fail("version vector", vv.error());
  return *vv;
}

bool GossipSimulation::converged() const {
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i]->running && version_vector(i) != expected_) return false;
  return true;
}

std::size_t GossipSimulation::holders(const PublicKey& author, std::uint64_t seq) const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i]->running) continue;
    VersionVector vv = version_vector(i);
    auto it = vv.find(author);
    if (it != vv.end() && it->second >= seq) ++n;
  }
  return n;
}

std::uint64_t GossipSimulation::roster_serial(std::size_t i) const {
  auto r = nodes_.at(i)->catalog->roster();
  if (!r) fail("roster", r.error());
  return *r ? (*r)->serial : 0;
}

std::string GossipSimulation::catalog_fingerprint(std::size_t i) const {
  const Catalog& c = *nodes_.at(i)->catalog;
  std::ostringstream out;
  out << "roster " << roster_serial(i) << "\n";
  for (const auto& [author, seq] : version_vector(i)) {
    auto records = c.records_after(author, 0, seq + 1, SIZE_MAX);
    if (!records) fail("records", records.error());
    for (const auto& e : *records) out << to_hex(author) << " " << e.seq << " " << to_hex(e.digest()) << "\n";
  }
  SearchQuery q;
  q.all_versions = true;
  q.include_retracted = true;
  q.limit = SIZE_MAX / 2;
  q.facet_fields = {"*"};
  auto result = c.search(q);
  if (!result) fail("search", result.error());
  std::vector<std::string> docs;
  for (const auto& d : result->docs)
    docs.push_back(d.instance_id() + (d.latest ? " latest" : "") + (d.retracted ? " retracted" : "") +
                   (d.superseded ? " superseded" : "") + " " + d.data_node);
  // Catalog order is arrival order, which differs between nodes; the set must not.
  std::sort(docs.begin(), docs.end());
  out << result->num_found << " versions\n";
  for (const auto& d : docs) out << d << "\n";
  for (const auto& fc : result->facet_counts) {
    out << fc.facet << ":";
    for (const auto& v : fc.counts) out << " " << v.value << "=" << v.count;
    out << "\n";
  }
  return out.str();
}

GossipStats GossipSimulation::total_stats() const {
  GossipStats t;
  for (const auto& n : nodes_) {
    if (!n->node) continue;
    const GossipStats& s = n->node->stats();
    t.rounds += s.rounds;
    t.digests_sent += s.digests_sent;
    t.digests_received += s.digests_received;
    t.records_sent += s.records_sent;
    t.records_received += s.records_received;
    t.records_stored += s.records_stored;
    t.records_duplicate += s.records_duplicate;
    t.records_parked += s.records_parked;
    t.bytes_sent += s.bytes_sent;
    t.bytes_received += s.bytes_received;
    t.punishments += s.punishments;
    for (const auto& [reason, count] : s.refused) t.refused[reason] += count;
  }
  return t;
}

}  // namespace fedswarm::test
