// Membership: who is in the federation (the roster) and who is alive (link heartbeats),
// with exponential reconnect backoff (DESIGN §4). Pure logic driven with explicit
// millisecond times, shared by the daemon and the gossip simulation.
//
// States: a member is `up` while frames arrive within `suspect_after_ms`, `suspect`
// until `down_after_ms`, then `down`. A member without a link is dialled when its backoff
// has expired; each failed dial or punishment doubles its backoff (from
// `backoff_initial_ms` up to `backoff_max_ms`), a healthy link resets it: one that has
// carried frames for `suspect_after_ms` since it was made (resetting at connect would
// let a peer that breaks a rule right after each handshake reconnect at full pace).
// A clean close is redialled after the current backoff (at least the initial one).
//
// The daemon's duties: call `tick` every interval, close the links `stale_links` names
// (connected but silent past `down_after_ms`) with `disconnected(..., fault=false)`,
// dial `due_for_dial` after `dialing`, and report every dial's outcome (`connected`, or
// `disconnected(..., fault=true)`), else the member stays marked as dialling.
//
// Contract: single-threaded (the owner's thread). Unknown peers (not in the roster) are
// ignored by every method except `admit`, which says no.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gossip/Gossip.hpp"
#include "fedswarm/protocol/GossipMessage.hpp"
#include "fedswarm/protocol/Roster.hpp"

namespace fedswarm {

enum class PeerState : std::uint8_t { up, suspect, down };
std::string_view to_string(PeerState s);

struct MembershipConfig {
  std::uint32_t suspect_after_ms = 3000;
  std::uint32_t down_after_ms = 10000;
  std::uint32_t backoff_initial_ms = 500;
  std::uint32_t backoff_max_ms = 60000;
};

struct PeerInfo {
  RosterMember member;
  PeerState state = PeerState::down;
  bool connected = false;
  std::int64_t last_seen_ms = 0;       // last frame received; 0 = never
  std::int64_t next_dial_ms = 0;       // earliest time to dial again
  std::uint32_t backoff_ms = 0;        // current backoff
  std::uint32_t failures = 0;          // consecutive failed dials / punishments
  bool dialing = false;                // a dial is under way (`dialing` .. outcome)
  std::int64_t connected_ms = 0;       // when the current link was made
  std::int64_t up_since_ms = 0;        // when it last became live (up) after being down; 0 = never
  std::string last_error;              // why the last link ended
  std::optional<Heartbeat> heartbeat;  // last ephemeral state received
};

class Membership {
 public:
  Membership(MembershipConfig config, PeerId self);

  // Replaces the member list (a newer roster); keeps the state of members that remain.
  void set_roster(const Roster& roster);
  // May this key connect? Roster members other than self.
  bool admit(const PeerId& key) const;

  void connected(const PeerId& peer, std::int64_t now_ms);
  // A link ended. `fault` = the peer broke a rule or the dial failed: back off.
  void disconnected(const PeerId& peer, std::int64_t now_ms, const std::string& reason, bool fault);
  void heard_from(const PeerId& peer, std::int64_t now_ms);
  void on_heartbeat(const PeerId& peer, const Heartbeat& hb, std::int64_t now_ms);
  // Advances up → suspect → down by time.
  void tick(std::int64_t now_ms);

  // Connected peers that are up or suspect: the ones gossip talks to.
  std::vector<PeerId> live() const;
  // Connected peers that `tick` found down (silent past `down_after_ms`): close them.
  std::vector<PeerId> stale_links() const;
  // Members without a link (and no dial under way) whose backoff has expired and that
  // list an endpoint.
  std::vector<PeerId> due_for_dial(std::int64_t now_ms) const;
  // Marks a dial as started (so it is not started twice).
  void dialing(const PeerId& peer, std::int64_t now_ms);

  const std::map<PeerId, PeerInfo>& peers() const { return peers_; }
  const PeerInfo* peer(const PeerId& key) const;

 private:
  MembershipConfig config_;
  PeerId self_;
  std::map<PeerId, PeerInfo> peers_;
};

}  // namespace fedswarm
