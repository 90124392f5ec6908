#include "swarm/SwarmGate.hpp"

#include <libtorrent/peer_connection_handle.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_info.hpp>

#include <exception>

#include "swarm/PieceSpreader.hpp"

namespace fedswarm {

namespace {

// Closes a connection at its handshake (returning false from on_handshake makes
// libtorrent disconnect): used for connections to foreign addresses, which must not
// happen at all.
struct RefuseAtHandshake final : lt::peer_plugin {
  bool on_handshake(lt::span<char const>) override { return false; }
};

struct GateTorrent final : lt::torrent_plugin {
  GateTorrent(SwarmGate* gate, std::shared_ptr<PieceSpreader> spreader) : gate(gate), spreader(std::move(spreader)) {}
  std::shared_ptr<lt::peer_plugin> new_connection(const lt::peer_connection_handle& pc) override {
    switch (gate->admit(pc)) {
      case SwarmGate::Admission::member: return spreader ? spreader->watch(pc) : nullptr;
      case SwarmGate::Admission::foreign: return nullptr;
      case SwarmGate::Admission::refused: break;
    }
    return std::make_shared<RefuseAtHandshake>();
  }
  void on_state(lt::torrent_status::state_t s) override {
    if (spreader) spreader->set_seeding(s == lt::torrent_status::seeding);
  }
  void tick() override {
    if (spreader) spreader->tick();
  }
  SwarmGate* gate;
  std::shared_ptr<PieceSpreader> spreader;
};

constexpr std::size_t kMaxNotes = 1000;

}  // namespace

SwarmGate::SwarmGate(Loader loader) : loader_(std::move(loader)) {}

void SwarmGate::set_members(std::set<lt::address> members, bool anyone) {
  std::lock_guard lock(mu_);
  members_ = std::move(members);
  anyone_ = anyone;
}

bool SwarmGate::is_member(const lt::address& a) const {
  std::lock_guard lock(mu_);
  return members_.count(a) > 0;
}

GateCounters SwarmGate::counters() const {
  std::lock_guard lock(mu_);
  GateCounters c = counters_;
  c.pieces_suggested = suggested_->load(std::memory_order_relaxed);
  return c;
}

std::vector<ForeignNote> SwarmGate::take_notes() {
  std::lock_guard lock(mu_);
  return std::exchange(notes_, {});
}

// The owner rate-limits what it logs (SwarmEngine::Impl::on_foreign); this only bounds
// the queue between two polls.
void SwarmGate::note(const lt::address& a, const char* what) {
  if (notes_.size() < kMaxNotes) notes_.push_back({a.to_string(), what});
}

std::shared_ptr<lt::torrent_plugin> SwarmGate::new_torrent(const lt::torrent_handle& h, lt::client_data_t) {
  // torrent_file() is a call into the session; here, on its network thread, it runs at
  // once. Every torrent the engine adds has its metadata (the signed info dict).
  std::shared_ptr<PieceSpreader> spreader;
  try {
    if (auto ti = h.torrent_file(); ti && ti->is_valid() && ti->num_pieces() > 0)
      spreader = std::make_shared<PieceSpreader>(ti->num_pieces(), ti->piece_length(), suggested_);
  } catch (const std::exception&) {
    // An invalid handle: the torrent is served without suggestions.
  }
  return std::make_shared<GateTorrent>(this, std::move(spreader));
}

SwarmGate::Admission SwarmGate::admit(const lt::peer_connection_handle& pc) {
  const lt::address a = pc.remote().address();
  std::lock_guard lock(mu_);
  if (!asking_.empty() && asking_.erase(pc.remote())) ++counters_.on_demand_attached;
  if (members_.count(a)) return Admission::member;
  if (pc.is_outgoing()) {
    ++counters_.foreign_dials_refused;
    note(a, "dial refused");
    return Admission::refused;
  }
  // With peers = members the IP filter refused it already; an address that left the
  // roster after connecting is let finish.
  ++counters_.foreign_served;
  note(a, "served");
  return Admission::foreign;
}

bool SwarmGate::on_unknown_torrent(const lt::info_hash_t& info_hash, const lt::peer_connection_handle& pc,
                                   lt::add_torrent_params& p) {
  // A v2-only torrent's handshake carries its truncated SHA-256 in the v1 slot.
  const lt::sha1_hash short_hash = info_hash.has_v1() ? info_hash.v1 : lt::sha1_hash(info_hash.v2.data());
  std::optional<lt::add_torrent_params> params;
  try {
    params = loader_(short_hash, pc.remote().address());
  } catch (...) {
    params.reset();
  }
  std::lock_guard lock(mu_);
  if (!params) {
    ++counters_.on_demand_misses;
    return false;
  }
  ++counters_.on_demand_loads;
  if (asking_.size() >= kMaxNotes) asking_.clear();  // connections closed before attaching
  asking_.insert(pc.remote());
  p = std::move(*params);
  return true;
}

}  // namespace fedswarm
