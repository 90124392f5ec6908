#include "gossip/Membership.hpp"

#include <algorithm>

namespace fedswarm {

std::string_view to_string(PeerState s) {
  switch (s) {
    case PeerState::up: return "up";
    case PeerState::suspect: return "suspect";
    case PeerState::down: return "down";
  }
  return "unknown";
}

Membership::Membership(MembershipConfig config, PeerId self) : config_(config), self_(self) {
  // A zero initial backoff would make a failing peer redial in a hot loop.
  config_.backoff_initial_ms = std::max<std::uint32_t>(config_.backoff_initial_ms, 1);
  config_.backoff_max_ms = std::max(config_.backoff_max_ms, config_.backoff_initial_ms);
  config_.down_after_ms = std::max(config_.down_after_ms, config_.suspect_after_ms);
}

void Membership::set_roster(const Roster& roster) {
  std::map<PeerId, PeerInfo> next;
  for (const auto& m : roster.members) {
    if (m.key == self_) continue;
    auto it = peers_.find(m.key);
    PeerInfo info = it != peers_.end() ? std::move(it->second) : PeerInfo{};
    // The roster may have changed the member's site, tier or endpoints.
    info.member = m;
    next.insert_or_assign(m.key, std::move(info));
  }
  peers_ = std::move(next);
}

bool Membership::admit(const PeerId& key) const { return key != self_ && peers_.count(key) != 0; }

void Membership::connected(const PeerId& peer, std::int64_t now_ms) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  PeerInfo& p = it->second;
  p.connected = true;
  p.dialing = false;
  p.connected_ms = now_ms;
  p.last_seen_ms = now_ms;
  if (p.state == PeerState::down) p.up_since_ms = now_ms;
  p.state = PeerState::up;
}

void Membership::disconnected(const PeerId& peer, std::int64_t now_ms, const std::string& reason, bool fault) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  PeerInfo& p = it->second;
  p.connected = false;
  p.dialing = false;
  p.last_error = reason;
  if (fault) {
    ++p.failures;
    p.backoff_ms = p.backoff_ms == 0 ? config_.backoff_initial_ms
                                     : static_cast<std::uint32_t>(std::min<std::uint64_t>(
                                           std::uint64_t{p.backoff_ms} * 2, config_.backoff_max_ms));
  }
  // A clean close (the peer restarted) is redialled after the current backoff, at least
  // the initial one, so a peer that keeps closing links cannot make us spin.
  p.next_dial_ms = now_ms + std::max(p.backoff_ms, config_.backoff_initial_ms);
}

void Membership::heard_from(const PeerId& peer, std::int64_t now_ms) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  PeerInfo& p = it->second;
  p.last_seen_ms = std::max(p.last_seen_ms, now_ms);
  if (p.state == PeerState::down) p.up_since_ms = now_ms;
  p.state = PeerState::up;
  // A link is healthy once it has carried frames for a while without being ended for a
  // fault: only then is the backoff forgotten. Resetting on connect alone would let a
  // peer that breaks a rule right after every handshake reconnect at the initial pace.
  if (p.connected && p.failures != 0 && now_ms - p.connected_ms >= config_.suspect_after_ms) {
    p.failures = 0;
    p.backoff_ms = 0;
  }
}

void Membership::on_heartbeat(const PeerId& peer, const Heartbeat& hb, std::int64_t now_ms) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  it->second.heartbeat = hb;
  heard_from(peer, now_ms);
}

void Membership::tick(std::int64_t now_ms) {
  for (auto& [key, p] : peers_) {
    if (p.last_seen_ms == 0) {
      p.state = PeerState::down;
      continue;
    }
    const std::int64_t silent = now_ms - p.last_seen_ms;
    if (silent >= config_.down_after_ms)
      p.state = PeerState::down;
    else if (silent >= config_.suspect_after_ms)
      p.state = PeerState::suspect;
    else
      p.state = PeerState::up;
  }
}

std::vector<PeerId> Membership::live() const {
  std::vector<PeerId> out;
  for (const auto& [key, p] : peers_)
    if (p.connected && p.state != PeerState::down) out.push_back(key);
  return out;
}

std::vector<PeerId> Membership::stale_links() const {
  std::vector<PeerId> out;
  for (const auto& [key, p] : peers_)
    if (p.connected && p.state == PeerState::down) out.push_back(key);
  return out;
}

std::vector<PeerId> Membership::due_for_dial(std::int64_t now_ms) const {
  std::vector<PeerId> out;
  for (const auto& [key, p] : peers_)
    if (!p.connected && !p.dialing && p.next_dial_ms <= now_ms && !p.member.endpoints.empty()) out.push_back(key);
  return out;
}

void Membership::dialing(const PeerId& peer, std::int64_t now_ms) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  it->second.dialing = true;
  it->second.next_dial_ms = now_ms;
}

const PeerInfo* Membership::peer(const PeerId& key) const {
  auto it = peers_.find(key);
  return it == peers_.end() ? nullptr : &it->second;
}

}  // namespace fedswarm
