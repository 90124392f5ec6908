// SwarmGate (engine-private): the libtorrent session plugin that decides who may use
// the swarm port and loads held versions when a peer asks for them (DESIGN §5).
//
// What it does
// - Seeding on demand: a peer's BitTorrent handshake names the torrent it wants (the
//   first 20 bytes of the v2 info-hash). When that torrent is not in the session,
//   libtorrent asks the gate; if the engine holds that version complete, `loader`
//   builds its add_torrent_params (from the signed manifest and the stored merkle trees,
//   in seed mode: nothing is read or hashed) and libtorrent adds it and attaches the
//   peer to it at once. The engine adopts the torrent when the add_torrent_alert comes.
//   The handshake is the fetcher's announcement of interest: no separate message is
//   needed, and only an address the IP filter admits can make a node load anything.
// - Foreign peers (an address that is not a roster member's): with `peers = members`
//   the session's IP filter refuses them before the handshake (the engine counts the
//   peer_blocked_alert); with `peers = anyone` they are served, counted here and put in
//   a peer class with its own upload limit (the engine sets the class filter). A
//   connection this node would open to a foreign address (libtorrent remembers the
//   listen port a served peer announced) is closed at its handshake and counted:
//   foreign peers are never dialled; the engine also clears them from the torrent's
//   peer list when they disconnect.
// - One copy at a time: while a torrent seeds, each member connection gets a
//   PieceSpreader peer plugin, which hands each fetcher pieces no other has (see there).
//
// Threading: the lt::plugin callbacks run on libtorrent's network thread with the
// session's lock held; they must not call blocking session functions. `loader` runs
// there too (it reads the catalog: LMDB reads are lock-free). set_members, counters and
// take_notes are called from the engine's owner thread; a mutex guards the shared state.
// Never throws into libtorrent: a loader failure means "not held here".
#pragma once

#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/address.hpp>
#include <libtorrent/extensions.hpp>
#include <libtorrent/sha1_hash.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace fedswarm {

struct GateCounters {
  std::uint64_t on_demand_loads = 0;     // torrents added because a peer asked for them
  // ... whose asking connection libtorrent then attached to them (the others it closed,
  // e.g. torrent_not_ready: that peer had to dial again).
  std::uint64_t on_demand_attached = 0;
  std::uint64_t on_demand_misses = 0;    // handshakes for a torrent not held here
  std::uint64_t foreign_served = 0;      // incoming connections from non-members (peers = anyone)
  std::uint64_t foreign_dials_refused = 0;  // connections to non-members closed at their handshake
  std::uint64_t pieces_suggested = 0;  // PieceSpreader: pieces handed to member fetchers
};

// A foreign peer seen (for the owner's rate-limited log line).
struct ForeignNote {
  std::string address;
  std::string what;  // "served", "dial refused"
};

class SwarmGate final : public lt::plugin {
 public:
  // Given the 20-byte handshake hash: the params to add that torrent with, or nullopt if
  // this node does not hold it (or cannot seed it without a full check).
  // `from` is the address of the peer that asked.
  using Loader = std::function<std::optional<lt::add_torrent_params>(const lt::sha1_hash&, const lt::address& from)>;
  explicit SwarmGate(Loader loader);

  // Owner thread: the addresses of the roster's members (this node included); `anyone`
  // serves other addresses too.
  void set_members(std::set<lt::address> members, bool anyone);
  bool is_member(const lt::address& a) const;
  GateCounters counters() const;
  // Foreign peers seen since the last call (at most 1,000; the owner rate-limits its log).
  std::vector<ForeignNote> take_notes();

  // libtorrent (network thread).
  std::shared_ptr<lt::torrent_plugin> new_torrent(const lt::torrent_handle&, lt::client_data_t) override;
  bool on_unknown_torrent(const lt::info_hash_t& info_hash, const lt::peer_connection_handle& pc,
                          lt::add_torrent_params& p) override;

  // Called by the per-torrent plugin for each new connection.
  enum class Admission { member, foreign, refused };
  Admission admit(const lt::peer_connection_handle& pc);

 private:
  void note(const lt::address& a, const char* what);

  Loader loader_;
  mutable std::mutex mu_;
  std::set<lt::address> members_;
  bool anyone_ = false;
  GateCounters counters_;
  std::vector<ForeignNote> notes_;
  std::set<lt::tcp::endpoint> asking_;  // connections that caused a load, until attached
  std::shared_ptr<std::atomic<std::uint64_t>> suggested_ = std::make_shared<std::atomic<std::uint64_t>>(0);
};

}  // namespace fedswarm
