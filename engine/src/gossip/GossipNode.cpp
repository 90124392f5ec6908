#include "gossip/GossipNode.hpp"

#include <algorithm>

namespace fedswarm {

GossipNode::GossipNode(GossipNodeConfig config, PeerId self, GossipStore& store, GossipLinks& links, Callbacks callbacks)
    : config_(std::move(config)),
      self_(self),
      links_(links),
      cb_(std::move(callbacks)),
      membership_(config_.membership, self),
      gossip_(config_.gossip, store, *this, config_.seed) {}

void GossipNode::set_roster(const Roster& roster) {
  membership_.set_roster(roster);
  // Links to keys the new roster dropped end now.
  std::vector<PeerId> gone;
  for (const auto& [key, info] : reported_)
    if (info.connected && !membership_.admit(key)) gone.push_back(key);
  for (const auto& key : gone) {
    links_.close(key, make_error(Errc::unauthorized, "removed_from_roster", "peer is not in the new roster"), false);
    reported_.erase(key);
    peer_vectors_.erase(key);
    forget_.push_back(key);
  }
  forget_pending();
  report_states();
}

void GossipNode::link_up(const PeerId& peer) {
  membership_.connected(peer, now_ms());
  // A new link starts clean: nothing is known to have been sent over it.
  gossip_.forget(peer);
  if (config_.heartbeats) links_.send(peer, GossipMessage{heartbeat()});
  report_state(peer);
}

void GossipNode::link_down(const PeerId& peer, const std::string& why, bool fault) {
  membership_.disconnected(peer, now_ms(), why, fault);
  forget_.push_back(peer);
  report_state(peer);
}

void GossipNode::dial_failed(const PeerId& peer, const std::string& why) {
  membership_.disconnected(peer, now_ms(), why, true);
  report_state(peer);
}

void GossipNode::on_message(const PeerId& peer, const GossipMessage& message, std::size_t wire_bytes) {
  const std::int64_t now = now_ms();
  membership_.heard_from(peer, now);
  if (const auto* hb = std::get_if<Heartbeat>(&message.body)) {
    membership_.on_heartbeat(peer, *hb, now);
  } else {
    if (const auto* d = std::get_if<Digest>(&message.body); d && !d->reply) {
      VersionVector vv;
      for (const auto& e : d->entries) vv[e.author] = e.seq;
      peer_vectors_[peer] = std::move(vv);
    }
    gossip_.on_message(peer, message, wire_bytes);
  }
  forget_pending();
  report_state(peer);
  // A punishment inside the call may have ended another link.
  for (const auto& p : punished_) report_state(p);
  punished_.clear();
}

void GossipNode::round() {
  const std::int64_t now = now_ms();
  forget_pending();
  if (saturated_) {
    // Not reading is this node's choice: the peers' silence is not theirs.
    for (const auto& [key, info] : membership_.peers())
      if (info.connected) membership_.heard_from(key, now);
  }
  membership_.tick(now);
  for (const auto& key : membership_.stale_links()) {
    links_.close(key,
                 make_error(Errc::unavailable, "peer_down",
                            "nothing heard for " + std::to_string(config_.membership.down_after_ms) + " ms"),
                 false);
    membership_.disconnected(key, now, "nothing heard for " + std::to_string(config_.membership.down_after_ms) + " ms",
                             false);
    forget_.push_back(key);
  }
  forget_pending();
  gossip_.round(membership_.live());
  if (config_.heartbeats) {
    const GossipMessage hb{heartbeat()};
    for (const auto& [key, info] : membership_.peers())
      if (info.connected) links_.send(key, hb);
  }
  for (const auto& peer : membership_.due_for_dial(now)) {
    const PeerInfo* info = membership_.peer(peer);
    if (!info || info->connected) continue;
    membership_.dialing(peer, now);
    links_.dial(peer, info->member);
  }
  report_states();
}

void GossipNode::push(const std::vector<Envelope>& records) { gossip_.push(records, membership_.live()); }

void GossipNode::set_saturated(bool saturated) {
  if (saturated == saturated_) return;
  saturated_ = saturated;
  links_.pause_reading(saturated);
}

std::size_t GossipNode::send(const PeerId& to, const GossipMessage& message) { return links_.send(to, message); }

void GossipNode::punish(const PeerId& peer, const std::string& reason) {
  // Called from inside Gossip: its per-peer state is dropped after the call returns.
  links_.close(peer, make_error(Errc::unauthorized, reason, "refused records: " + reason), true);
  membership_.disconnected(peer, now_ms(), "refused records: " + reason, true);
  forget_.push_back(peer);
  punished_.push_back(peer);
}

void GossipNode::forget_pending() {
  for (const auto& peer : forget_) {
    const PeerInfo* info = membership_.peer(peer);
    if (!info || !info->connected) gossip_.forget(peer);
  }
  forget_.clear();
}

void GossipNode::report(const PeerId& key, const PeerInfo& info) {
  auto [it, fresh] = reported_.emplace(key, Reported{info.state, info.connected});
  if (!fresh && it->second.state == info.state && it->second.connected == info.connected) return;
  it->second = {info.state, info.connected};
  if (cb_.state_changed) cb_.state_changed(key, info);
}

void GossipNode::report_state(const PeerId& peer) {
  if (const PeerInfo* info = membership_.peer(peer)) report(peer, *info);
}

void GossipNode::report_states() {
  for (const auto& [key, info] : membership_.peers()) report(key, info);
}

Heartbeat GossipNode::heartbeat() const {
  if (cb_.heartbeat) return cb_.heartbeat();
  return Heartbeat{};
}

}  // namespace fedswarm
