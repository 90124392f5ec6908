// GossipSimulation: a seeded, in-process federation of N nodes running the real gossip
// code — each node has the daemon's own `GossipNode` (Membership, Gossip, heartbeats,
// dialling, dropping silent links, punishing peers), a `CatalogGossipStore` (inline
// mode) and an LMDB `Catalog` (in its own folder) — over a simulated network and clock
// that implements GossipLinks. Shared by tests/engine/gossip_simulation_test.cpp and
// bench/gossip_bench.cpp.
//
// The network
// - Messages are delivered after a random delay in [min_delay_ms, max_delay_ms], in
//   order per direction (links are TCP-like), and lost with probability `loss`.
// - `partition` splits the nodes into groups that cannot reach each other; `heal` joins
//   them. Messages in flight across a new partition are dropped.
// - `crash` stops a node: it sends and receives nothing and its links die silently
//   (like a power cut: peers notice by the missing heartbeats). `restart` starts it
//   again with a fresh Gossip and Membership (a new process) over the same catalog.
// - With `links` (the default) a dial succeeds at once when the target runs, is
//   reachable and admits the dialler (a handshake), and fails otherwise; everything
//   else — heartbeats, silence, backoff, punishment — is GossipNode's. Without `links`
//   every node is linked to every other running node for ever (the benchmark's
//   setting: the spread of a record alone).
//
// The federation: one authority key, roster 1 listing every node as a Tier-2 member
// (site "node-<i>"), the first `publishers` nodes granted CMIP6. Every node starts
// with the authority pinned and roster 1 imported and in its log.
//
// Contract: setup errors throw std::runtime_error (test code). Single-threaded.
// Deterministic for a given seed (keys, manifests, delays, losses, choices), except the
// verification pool's scheduling, which changes no outcome.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "ManifestFactory.hpp"
#include "gossip/CatalogGossipStore.hpp"
#include "gossip/Gossip.hpp"
#include "gossip/GossipNode.hpp"
#include "gossip/Membership.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm::test {

struct SimOptions {
  std::size_t nodes = 100;
  std::size_t publishers = 8;          // nodes 0..publishers-1 may publish CMIP6
  std::uint64_t seed = 1;
  std::filesystem::path dir;           // catalogs go in dir/node-<i> (must exist)
  std::filesystem::path cv_dir;        // CMIP6 CVs for the manifest factory
  GossipConfig gossip;
  MembershipConfig membership;
  bool links = true;
  std::int64_t interval_ms = 500;      // gossip interval
  // false: every node's timer has its own random phase (real daemons); true: all nodes
  // tick at the same instant (lockstep rounds; with a fixed delay a record then moves
  // one hop per round by anti-entropy).
  bool same_phase = false;
  std::int64_t min_delay_ms = 1;
  std::int64_t max_delay_ms = 40;
  double loss = 0.0;
  unsigned verify_threads = 1;         // per node's store (1: no pool)
  bool durable = false;                // catalogs fsync their commits
  std::int64_t start_unix_s = 1'700'000'100;
};

struct SimTraffic {
  std::uint64_t messages = 0, lost = 0, dropped = 0;  // dropped: no link, crashed, partitioned
  std::uint64_t dials = 0, dial_failures = 0, punishments = 0;
};

class GossipSimulation {
 public:
  explicit GossipSimulation(SimOptions options);
  ~GossipSimulation();
  GossipSimulation(const GossipSimulation&) = delete;
  GossipSimulation& operator=(const GossipSimulation&) = delete;

  std::size_t size() const { return nodes_.size(); }
  std::int64_t now_ms() const { return now_ms_; }
  std::mt19937_64& rng() { return rng_; }

  // --- time ------------------------------------------------------------------------
  // Runs every event up to now + ms.
  void run_for(std::int64_t ms);
  // Runs interval by interval until `done` holds (checked after each interval) or
  // `max_ms` passes; returns whether it held.
  bool run_until(const std::function<bool()>& done, std::int64_t max_ms);

  // --- network -------------------------------------------------------------------------
  void set_loss(double loss) { options_.loss = loss; }
  // group[i] = the side of node i; nodes on different sides cannot reach each other.
  void partition(std::vector<int> group);
  void heal();
  void crash(std::size_t i);
  void restart(std::size_t i);
  bool running(std::size_t i) const;

  // --- records -------------------------------------------------------------------------
  // Node `i` (a publisher) publishes a new manifest of a random dataset and pushes it;
  // returns its envelope.
  Envelope publish(std::size_t i);
  // Node `i` retracts a version it published (the newest not yet retracted, if any).
  std::optional<Envelope> retract(std::size_t i);
  // Adds a node outside the current roster (not running, not admitted anywhere); its
  // catalog has the authority pinned but no roster. Returns its index.
  std::size_t add_node();
  // The authority signs the next roster — every node so far, publishers granted as
  // before plus `extra_publishers` — and hands it to running node `via`, which ingests
  // and pushes it. Nodes added by `add_node` import it out of band (as `federation
  // import` would) and start. Returns the roster's envelope.
  Envelope publish_roster(std::size_t via, const std::vector<std::size_t>& extra_publishers = {});

  // --- inspection ---------------------------------------------------------------------
  VersionVector version_vector(std::size_t i) const;
  // Every record published or signed in the simulation: author → highest seq.
  const VersionVector& expected() const { return expected_; }
  // True when every running node's version vector equals `expected()`.
  bool converged() const;
  // How many running nodes hold `author`'s record `seq`.
  std::size_t holders(const PublicKey& author, std::uint64_t seq) const;
  // A canonical text of node i's catalog: every record's digest in the log, every
  // version's status, the roster serial. Equal texts = identical catalogs.
  std::string catalog_fingerprint(std::size_t i) const;
  std::uint64_t roster_serial(std::size_t i) const;
  const SigningKey& key(std::size_t i) const;
  Catalog& catalog(std::size_t i);
  const GossipNode& node(std::size_t i) const;
  const Membership& membership(std::size_t i) const;
  const SimTraffic& traffic() const { return traffic_; }
  // Sum over nodes of the gossip counters (refusals merged by reason).
  GossipStats total_stats() const;

 private:
  struct Node;
  class Links;
  struct Event {
    std::int64_t at = 0;
    std::uint64_t order = 0;  // FIFO among equal times
    std::uint32_t from = 0, to = 0;
    std::uint64_t to_incarnation = 0;
    std::shared_ptr<const GossipMessage> message;  // null: `to`'s round timer
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : order > o.order; }
  };

  void open_node(std::size_t i);
  void start_node(std::size_t i);
  void node_round(std::size_t i);
  void deliver(const Event& e);
  void send(std::uint32_t from, std::uint32_t to, const GossipMessage& m);
  void dial(std::uint32_t from, std::uint32_t to);
  bool reachable(std::uint32_t a, std::uint32_t b) const;
  bool linked(std::uint32_t a, std::uint32_t b) const;
  void link(std::uint32_t a, std::uint32_t b);
  void unlink(std::uint32_t a, std::uint32_t b);
  // `by` ends its link to `other`; `other` hears of it if the path works.
  void close_link(std::uint32_t by, std::uint32_t other, const std::string& reason);
  void after_input(std::size_t i);
  std::uint32_t index_of(const PeerId& key) const;
  std::int64_t unix_now() const { return options_.start_unix_s + now_ms_ / 1000; }
  Roster roster_now() const;
  void expect(const Envelope& e);

  SimOptions options_;
  std::mt19937_64 rng_;
  ManifestFactory factory_;
  FederationKeys fed_;
  std::uint64_t authority_seq_ = 0;
  std::uint64_t roster_serial_ = 0;
  std::set<std::size_t> granted_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::map<PublicKey, std::uint32_t> index_;
  std::set<std::uint64_t> links_;
  std::vector<int> group_;
  std::map<std::uint64_t, std::int64_t> last_delivery_;  // per direction, for FIFO order
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> queue_;
  std::uint64_t order_ = 0;
  std::int64_t now_ms_ = 0;
  int version_day_ = 0;
  VersionVector expected_;
  SimTraffic traffic_;
};

}  // namespace fedswarm::test
