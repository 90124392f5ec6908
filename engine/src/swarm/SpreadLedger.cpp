#include "swarm/SpreadLedger.hpp"

#include <algorithm>

namespace fedswarm {

SpreadLedger::SpreadLedger(int num_pieces, int piece_length)
    : num_pieces_(std::max(num_pieces, 0)),
      piece_length_(std::max(piece_length, 1)),
      holders_(static_cast<std::size_t>(num_pieces_), 0),
      handed_(static_cast<std::size_t>(num_pieces_), 0) {}

SpreadLedger::Peer* SpreadLedger::find(PeerId peer) {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : &it->second;
}

const SpreadLedger::Peer* SpreadLedger::find(PeerId peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : &it->second;
}

void SpreadLedger::join(PeerId peer) {
  Peer& p = peers_[peer];
  p.has.assign(static_cast<std::size_t>(num_pieces_), false);
}

void SpreadLedger::leave(PeerId peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  if (!it->second.seed) forget(it->second);
  peers_.erase(it);
}

void SpreadLedger::announce_bitfield(PeerId peer, const std::vector<bool>& bits) {
  Peer* p = find(peer);
  if (!p || p->seed) return;
  const int n = std::min(static_cast<int>(bits.size()), num_pieces_);
  if (n == num_pieces_ && std::all_of(bits.begin(), bits.begin() + n, [](bool b) { return b; })) {
    announce_all(peer);
    return;
  }
  p->announced = true;
  for (int i = 0; i < n; ++i)
    if (bits[static_cast<std::size_t>(i)]) hold(*p, i);
}

void SpreadLedger::announce_none(PeerId peer) {
  if (Peer* p = find(peer)) p->announced = true;
}

void SpreadLedger::announce_all(PeerId peer) {
  Peer* p = find(peer);
  if (!p || p->seed) return;
  forget(*p);
  p->has.assign(static_cast<std::size_t>(num_pieces_), true);
  p->announced = true;
  p->seed = true;
}

void SpreadLedger::have(PeerId peer, int piece) {
  Peer* p = find(peer);
  if (!p || p->seed || piece < 0 || piece >= num_pieces_) return;
  hold(*p, piece);
}

void SpreadLedger::hold(Peer& p, int piece) {
  if (p.has[static_cast<std::size_t>(piece)]) return;
  p.has[static_cast<std::size_t>(piece)] = true;
  ++holders_[static_cast<std::size_t>(piece)];
  auto it = std::find_if(p.handed.begin(), p.handed.end(), [&](const Handed& h) { return h.piece == piece; });
  if (it != p.handed.end()) {
    p.handed.erase(it);
    release(piece);
  }
}

void SpreadLedger::dont_have(PeerId peer, int piece) {
  Peer* p = find(peer);
  if (!p || p->seed || piece < 0 || piece >= num_pieces_ || !p->has[static_cast<std::size_t>(piece)]) return;
  p->has[static_cast<std::size_t>(piece)] = false;
  unhold(piece);
}

void SpreadLedger::unhold(int piece) {
  if (--holders_[static_cast<std::size_t>(piece)] == 0) cursor_ = std::min(cursor_, piece);
}

void SpreadLedger::forget(Peer& p) {
  for (int i = 0; i < num_pieces_; ++i)
    if (p.has[static_cast<std::size_t>(i)]) unhold(i);
  for (const Handed& h : p.handed) release(h.piece);
  p.handed.clear();
}

void SpreadLedger::release(int piece) {
  auto& n = handed_[static_cast<std::size_t>(piece)];
  if (n > 0) --n;
  if (n == 0) cursor_ = std::min(cursor_, piece);
}

void SpreadLedger::sent(PeerId peer, std::uint64_t bytes) {
  if (Peer* p = find(peer)) p->sent += bytes;
}

std::vector<int> SpreadLedger::top_up(PeerId peer, Clock::time_point now) {
  std::vector<int> out;
  Peer* p = find(peer);
  if (!seeding_ || !p || p->seed || !p->announced) return out;
  const double supply = p->rate * kSupplySeconds / piece_length_;
  const auto target = static_cast<std::size_t>(std::clamp(static_cast<int>(supply) + 2, kMinSupply, kMaxSupply));
  while (cursor_ < num_pieces_ && !free_piece(cursor_)) ++cursor_;
  for (int i = cursor_; i < num_pieces_ && p->handed.size() < target; ++i) {
    if (!free_piece(i) || p->has[static_cast<std::size_t>(i)]) continue;
    p->handed.push_back({i, now});
    ++handed_[static_cast<std::size_t>(i)];
    out.push_back(i);
  }
  return out;
}

void SpreadLedger::tick(Clock::time_point now) {
  for (auto& [id, p] : peers_) {
    p.rate = (p.rate + static_cast<double>(p.sent)) / 2;
    p.sent = 0;
    auto stale = std::remove_if(p.handed.begin(), p.handed.end(), [&](const Handed& h) {
      if (now - h.at < kStale) return false;
      release(h.piece);
      return true;
    });
    p.handed.erase(stale, p.handed.end());
  }
}

std::size_t SpreadLedger::outstanding(PeerId peer) const {
  const Peer* p = find(peer);
  return p ? p->handed.size() : 0;
}

bool SpreadLedger::is_seed(PeerId peer) const {
  const Peer* p = find(peer);
  return p && p->seed;
}

}  // namespace fedswarm
