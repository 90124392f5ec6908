// GossipNode: one node's membership and gossip (DESIGN §4) over a GossipLinks — the
// daemon drives it over real links, the gossip simulation over its simulated network,
// so both run this same code.
//
// What it does
// - Membership from the roster (`set_roster`: links to keys the new roster dropped are
//   closed); liveness from link events and heartbeats; dials members whose backoff
//   expired; closes links silent past down_after_ms.
// - Every `round`: Membership::tick, stale links closed, a Gossip round with the live
//   peers, a heartbeat to every connected peer, dials.
// - Messages: every frame is news of its sender; heartbeats feed Membership; digests are
//   remembered as the peer's version vector (lag in `status`) and answered; batches go
//   to the store. A peer whose records break the rules is punished: its link is closed
//   as a fault and it is backed off.
// - Backpressure: `set_saturated(true)` (the catalog writer's queue is full) stops
//   reading from every link until `set_saturated(false)`. While reading is paused by
//   this node's own choice, its connected peers count as heard from each round: they
//   are not taken for dead for a silence this node caused.
// - Liveness changes (a member's state up/suspect/down, or its link) are reported to
//   `state_changed` after the event that caused them.
//
// Contract: single-threaded — every method, the store's completions and the links'
// callbacks on one thread (the daemon's io thread, or the simulation loop). Time comes
// from `config.now_ms` (steady milliseconds). The store and links must outlive it.
// No errors: link and store failures are the links' and store's to report.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gossip/Gossip.hpp"
#include "gossip/GossipLinks.hpp"
#include "gossip/Membership.hpp"

namespace fedswarm {

struct GossipNodeConfig {
  GossipConfig gossip;
  MembershipConfig membership;
  std::uint64_t seed = 1;
  std::function<std::int64_t()> now_ms;  // required
  // false: no heartbeats (a simulation that links every node to every other for ever
  // and sets the membership timeouts out of reach).
  bool heartbeats = true;
};

class GossipNode final : private GossipNet {
 public:
  struct Callbacks {
    // The ephemeral state sent to peers (empty: a bare heartbeat).
    std::function<Heartbeat()> heartbeat;
    // A member's state or link changed (after the event, with its new info).
    std::function<void(const PeerId&, const PeerInfo&)> state_changed;
  };

  GossipNode(GossipNodeConfig config, PeerId self, GossipStore& store, GossipLinks& links, Callbacks callbacks = {});
  GossipNode(const GossipNode&) = delete;
  GossipNode& operator=(const GossipNode&) = delete;

  void set_roster(const Roster& roster);
  bool admit(const PeerId& key) const { return membership_.admit(key); }

  // --- link events (from the links) ---
  void link_up(const PeerId& peer);
  void link_down(const PeerId& peer, const std::string& why, bool fault);
  void dial_failed(const PeerId& peer, const std::string& why);
  void on_message(const PeerId& peer, const GossipMessage& message, std::size_t wire_bytes);

  // --- timers and local events ---
  void round();
  // New records by this node (or appended here): pushed to a few live peers at once.
  void push(const std::vector<Envelope>& records);
  void set_saturated(bool saturated);
  bool saturated() const { return saturated_; }

  // --- views ---
  const Membership& membership() const { return membership_; }
  const GossipStats& stats() const { return gossip_.stats(); }
  // Each peer's version vector from its last (non-reply) digest.
  const std::map<PeerId, VersionVector>& peer_vectors() const { return peer_vectors_; }
  const PeerId& self() const { return self_; }
  std::int64_t now_ms() const { return config_.now_ms(); }

 private:
  // GossipNet
  std::size_t send(const PeerId& to, const GossipMessage& message) override;
  void punish(const PeerId& peer, const std::string& reason) override;

  void forget_pending();
  // Tells state_changed of what changed: one member, or all (after a tick).
  void report(const PeerId& key, const PeerInfo& info);
  void report_state(const PeerId& peer);
  void report_states();
  Heartbeat heartbeat() const;

  GossipNodeConfig config_;
  PeerId self_;
  GossipLinks& links_;
  Callbacks cb_;
  Membership membership_;
  Gossip gossip_;
  bool saturated_ = false;
  std::map<PeerId, VersionVector> peer_vectors_;
  // Links that ended during a Gossip call: its per-peer state is dropped afterwards.
  std::vector<PeerId> forget_;
  std::vector<PeerId> punished_;  // during the current message
  struct Reported {
    PeerState state = PeerState::down;
    bool connected = false;
  };
  std::map<PeerId, Reported> reported_;
};

}  // namespace fedswarm
