// SpreadLedger (engine-private): which pieces of one torrent a seeding node has handed
// to which member fetcher, and which to hand out next — the bookkeeping of
// PieceSpreader (see there for why), kept apart from libtorrent's connections so that it
// can be tested on its own.
//
// Contract
// - A peer is joined, announces what it has (a bitfield, "none" or "all"), announces
//   pieces as it gets them (have / dont_have) and leaves. A peer that announced "all"
//   is a seed: it is never handed anything and does not count as holding pieces (a
//   second seed must not stop this one from handing out pieces).
// - top_up(peer) returns the pieces to suggest to that peer now: while the ledger is
//   seeding, until the peer has `target` outstanding ones, each a piece that no joined
//   peer has announced and that is not outstanding at another peer, lowest index first.
//   The target follows the peer's rate from this node (sent(), sampled by tick()):
//   kSupplySeconds of it in pieces plus two, between kMinSupply and kMaxSupply.
// - A piece stops being outstanding at a peer when that peer announces it, when the
//   peer leaves, or kStale after it was handed out (tick()).
// - Unknown peers and out-of-range pieces are ignored (network input).
//
// Threading: none; PieceSpreader calls it on libtorrent's network thread. Memory:
// O(pieces) for the torrent plus O(pieces) bits per joined peer. Cost: top_up scans from
// the lowest free piece, which only moves back when a piece is released.
#pragma once

#include <chrono>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace fedswarm {

class SpreadLedger {
 public:
  using Clock = std::chrono::steady_clock;
  using PeerId = const void*;

  static constexpr Clock::duration kStale = std::chrono::seconds(20);
  static constexpr int kSupplySeconds = 2;
  static constexpr int kMinSupply = 4;
  static constexpr int kMaxSupply = 48;

  SpreadLedger(int num_pieces, int piece_length);

  void set_seeding(bool on) { seeding_ = on; }
  bool seeding() const { return seeding_; }

  void join(PeerId peer);
  void leave(PeerId peer);
  void announce_bitfield(PeerId peer, const std::vector<bool>& bits);
  void announce_none(PeerId peer);
  void announce_all(PeerId peer);
  void have(PeerId peer, int piece);
  void dont_have(PeerId peer, int piece);
  void sent(PeerId peer, std::uint64_t bytes);

  // Pieces to suggest to `peer` now (recorded as outstanding at `now`).
  std::vector<int> top_up(PeerId peer, Clock::time_point now);
  // Once a second: samples each peer's rate and releases stale suggestions.
  void tick(Clock::time_point now);

  std::size_t outstanding(PeerId peer) const;
  bool is_seed(PeerId peer) const;

 private:
  struct Handed {
    int piece;
    Clock::time_point at;
  };
  struct Peer {
    std::vector<bool> has;
    std::vector<Handed> handed;
    std::uint64_t sent = 0;  // bytes since the last tick
    double rate = 0;         // bytes per second, smoothed
    bool announced = false;
    bool seed = false;
  };

  bool free_piece(int i) const {
    return holders_[static_cast<std::size_t>(i)] == 0 && handed_[static_cast<std::size_t>(i)] == 0;
  }
  void hold(Peer& p, int piece);
  void unhold(int piece);
  void release(int piece);
  // Takes back what a non-seed peer holds and was handed (it leaves or turns seed).
  void forget(Peer& p);
  Peer* find(PeerId peer);
  const Peer* find(PeerId peer) const;

  int num_pieces_;
  int piece_length_;
  bool seeding_ = false;
  std::vector<std::uint16_t> holders_;  // joined non-seed peers that announced the piece
  std::vector<std::uint16_t> handed_;   // outstanding suggestions of the piece
  int cursor_ = 0;                      // no free piece below this index
  std::unordered_map<PeerId, Peer> peers_;
};

}  // namespace fedswarm
