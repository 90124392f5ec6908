#include "swarm/SwarmGate.hpp"

#include <libtorrent/peer_connection_handle.hpp>

namespace fedswarm {

namespace {

// Closes a connection at its handshake (returning false from on_handshake makes
// libtorrent disconnect): used for connections to foreign addresses, which must not
// happen at all.
struct RefuseAtHandshake final : lt::peer_plugin {
  bool on_handshake(lt::span<char const>) override { return false; }
};

struct GateTorrent final : lt::torrent_plugin {
  explicit GateTorrent(SwarmGate* gate) : gate(gate) {}
  std::shared_ptr<lt::peer_plugin> new_connection(const lt::peer_connection_handle& pc) override {
    if (gate->admit(pc)) return nullptr;
    return std::make_shared<RefuseAtHandshake>();
  }
  SwarmGate* gate;
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
  return counters_;
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

std::shared_ptr<lt::torrent_plugin> SwarmGate::new_torrent(const lt::torrent_handle&, lt::client_data_t) {
  return std::make_shared<GateTorrent>(this);
}

bool SwarmGate::admit(const lt::peer_connection_handle& pc) {
  const lt::address a = pc.remote().address();
  std::lock_guard lock(mu_);
  if (!asking_.empty() && asking_.erase(pc.remote())) ++counters_.on_demand_attached;
  if (members_.count(a)) return true;
  if (pc.is_outgoing()) {
    ++counters_.foreign_dials_refused;
    note(a, "dial refused");
    return false;
  }
  // With peers = members the IP filter refused it already; an address that left the
  // roster after connecting is let finish.
  ++counters_.foreign_served;
  note(a, "served");
  return true;
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
