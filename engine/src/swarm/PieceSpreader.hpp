// PieceSpreader (engine-private): the libtorrent plugin state with which a node that
// holds a version complete hands each member fetching it pieces that no other connected
// member has or was handed, so that its uplink carries each piece once.
//
// Why: a first replication is bounded by the origin's uplink, and every byte of it that
// carries a piece a second time is lost. Each fetcher picks the rarest pieces — those
// only the origin has — in its own random order and keeps about a second of requests
// queued at the origin, which the other fetchers cannot see: two sites asked for the
// same piece within that second, and the origin's uplink carried 1.11-1.26 copies of
// the version (swarm_bench, K = 8). Refusing the second request (tried: the fast
// extension's REJECT_REQUEST) only made the fetcher ask again.
//
// How: BEP 6's SUGGEST_PIECE. A libtorrent fetcher picks the pieces a peer suggested
// before its rarest-first order, from that peer only. SpreadLedger decides which pieces
// to suggest to whom (a couple of seconds of each fetcher's rate, pieces no connected
// peer has and none was handed); this writes the messages. When nothing is left to hand
// out a fetcher falls back to libtorrent's own order; nothing here refuses or delays a
// request, so a wrong guess costs at most a duplicate, never a stall.
//
// Scope: only while this node seeds the torrent (all pieces held), only to member
// connections that support the fast extension and do not encrypt (the message is
// written into the connection's send buffer; members never encrypt, SwarmSettings.cpp).
// Foreign peers (peers = anyone) are served as libtorrent would.
//
// Threading: everything runs on libtorrent's network thread (its plugin callbacks); no
// locking. Shared by the torrent plugin and its peers' plugins (a connection may outlive
// its torrent). `suggested` is a counter the owner reads from any thread.
#pragma once

#include <libtorrent/extensions.hpp>
#include <libtorrent/peer_connection_handle.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "swarm/SpreadLedger.hpp"

namespace fedswarm {

class PieceSpreader : public std::enable_shared_from_this<PieceSpreader> {
 public:
  PieceSpreader(int num_pieces, int piece_length, std::shared_ptr<std::atomic<std::uint64_t>> suggested);

  // The peer plugin for one member connection.
  std::shared_ptr<lt::peer_plugin> watch(const lt::peer_connection_handle& pc);
  // torrent_plugin::on_state: true while the torrent is seeding.
  void set_seeding(bool on);
  // torrent_plugin::tick (once a second): rates, stale suggestions, top-ups.
  void tick();

  class Peer;  // the peer plugin (PieceSpreader.cpp)
  SpreadLedger& ledger() { return ledger_; }
  void joined(Peer& p);
  void gone(Peer& p);
  void top_up(Peer& p);

 private:
  SpreadLedger ledger_;
  std::vector<Peer*> peers_;  // joined, not gone (they unregister themselves)
  std::shared_ptr<std::atomic<std::uint64_t>> suggested_;
};

}  // namespace fedswarm
