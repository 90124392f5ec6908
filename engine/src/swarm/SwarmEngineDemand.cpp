// SwarmEngine::Impl, continued: seeding on demand and who may connect (SwarmEngine.hpp,
// SwarmGate.hpp).
#include "swarm/SwarmEngineImpl.hpp"

#include <libtorrent/alert_types.hpp>
#include <libtorrent/peer_class.hpp>
#include <libtorrent/session_handle.hpp>
#include <libtorrent/torrent_flags.hpp>

#include <algorithm>
#include <limits>
#include <tuple>

namespace fedswarm {

namespace fs = std::filesystem;

namespace {

lt::sha1_hash short_hash_of(const lt::sha256_hash& v2) { return lt::sha1_hash(v2.data()); }

constexpr std::chrono::seconds kIdleCheckInterval{1};
constexpr std::chrono::seconds kForeignNoteEvery{60};
constexpr std::chrono::seconds kMinServeTime{5};

}  // namespace

void SwarmEngine::Impl::hold(const std::string& id, const Manifest& m) {
  const Sha256 ih = m.info_hash();
  lt::sha256_hash v2;
  std::copy(ih.bytes.begin(), ih.bytes.end(), v2.begin());
  const lt::sha1_hash h = short_hash_of(v2);
  std::lock_guard lock(held_mu);
  held[h] = id;
  held_ids[id] = h;
}

void SwarmEngine::Impl::unhold(const std::string& id) {
  std::lock_guard lock(held_mu);
  auto it = held_ids.find(id);
  if (it == held_ids.end()) return;
  held.erase(it->second);
  held_ids.erase(it);
}

// On libtorrent's network thread (SwarmGate): only the catalog (thread-safe, reads do
// not block on writers) and the two mutex-guarded tables are touched.
std::optional<lt::add_torrent_params> SwarmEngine::Impl::load_on_demand(const lt::sha1_hash& h) {
  std::string id;
  {
    std::lock_guard lock(held_mu);
    auto it = held.find(h);
    if (it == held.end()) return std::nullopt;
    id = it->second;
  }
  if (opt.max_active_torrents > 0) {
    std::size_t pending = 0;
    {
      std::lock_guard lock(demand_mu);
      pending = demanded.size();
    }
    if (loaded_count.load() + pending >= opt.max_active_torrents) {
      // Full: the owner unloads the least recently active seed; the peer's next dial
      // (every reconnect interval) finds room.
      room_wanted = true;
      notify();
      return std::nullopt;
    }
  }
  auto local = opt.catalog->local(id);
  if (!local || !*local || (*local)->state != LocalState::complete || (*local)->path.empty()) return std::nullopt;
  auto m = opt.catalog->manifest(id);
  if (!m) return std::nullopt;
  auto torrent = torrent_of(*m);
  if (!torrent) return std::nullopt;
  const fs::path dir = (*local)->path;
  std::optional<lt::add_torrent_params> p;
  if (!(*local)->resume_data.empty())
    if (auto rp = resume_params((*local)->resume_data, *torrent, dir.parent_path(), true);
        rp && seedable_without_check(*rp, *torrent->ti))
      p = std::move(*rp);
  if (!p) {
    // Without stored trees it cannot answer hash requests: the owner checks it in full
    // (once) and the peer's next dial finds it loaded.
    {
      std::lock_guard lock(demand_mu);
      needs_check.push_back(id);
    }
    notify();
    return std::nullopt;
  }
  p->flags |= lt::torrent_flags::seed_mode | lt::torrent_flags::upload_mode;
  {
    std::lock_guard lock(demand_mu);
    demanded[h] = DemandLoad{id, std::move(*m), std::move(*torrent), dir, std::move((*local)->resume_data)};
  }
  notify();
  return p;
}

// The add_torrent_alert of a torrent the engine did not add itself: a load on demand.
void SwarmEngine::Impl::adopt(const lt::torrent_handle& h, const lt::sha256_hash& v2) {
  std::optional<DemandLoad> d;
  {
    std::lock_guard lock(demand_mu);
    auto it = demanded.find(short_hash_of(v2));
    if (it != demanded.end()) {
      d = std::move(it->second);
      demanded.erase(it);
    }
  }
  bool still_held = false;
  if (d) {
    std::lock_guard lock(held_mu);
    still_held = held_ids.count(d->id) > 0;
  }
  if (!d || !still_held || find(d->id) || stopping) {
    // Unknown, or the engine took the version in hand meanwhile (a remove, a fetch).
    session->remove_torrent(h);
    return;
  }
  Transfer& t = create(d->manifest, std::move(d->torrent), TransferKind::seed);
  t.state = LocalState::complete;
  t.seed_dir = d->dir;
  t.resume = std::move(d->resume);
  t.seed_resume_saved = true;
  t.handle = h;
  t.paused_confirmed = false;
  t.last_active = t.loaded_at = SteadyClock::now();
  ++loaded_count;
  by_handle[h] = t.id;
  ++stats.on_demand_loads;
  for (const auto& ep : t.peers) h.connect_peer(ep);
}

void SwarmEngine::Impl::unload(Transfer& t) {
  if (t.handle.is_valid()) {
    by_handle.erase(t.handle);
    session->remove_torrent(t.handle);
  }
  forget(t.id);
}

// Every kIdleCheckInterval: seeds idle for seed_idle leave; beyond max_active_torrents
// the least recently active seeds leave; held versions without trees are checked while
// there is room. Costs one status query of the loaded torrents, not of the held ones.
void SwarmEngine::Impl::unload_idle(SteadyClock::time_point t_now) {
  if (t_now - last_idle_check < kIdleCheckInterval) return;
  last_idle_check = t_now;
  std::map<lt::torrent_handle, lt::torrent_status> status;
  for (auto& s : session->get_torrent_status([](const lt::torrent_status&) { return true; }, {}))
    status.emplace(s.handle, std::move(s));
  // Unloadable seeds, those without a peer first, then least recently active first.
  std::vector<std::tuple<bool, SteadyClock::time_point, std::string>> seeds;
  std::vector<std::string> idle;
  std::size_t loaded = 0;
  for (auto& [id, t] : transfers) {
    if (!t.handle.is_valid()) continue;
    ++loaded;
    if (t.kind != TransferKind::seed || t.removing) continue;
    auto it = status.find(t.handle);
    if (it == status.end()) continue;
    const lt::torrent_status& st = it->second;
    if (t.last_uploaded < 0 || st.num_peers > 0 || st.total_payload_upload != t.last_uploaded) t.last_active = t_now;
    t.last_uploaded = st.total_payload_upload;
    // A seed being checked (to get its trees) stays until they are stored.
    // Nor one whose resume data (its trees) is still to be stored.
    if (!t.seed_resume_saved || t.saves_requested > t.saves_answered || st.state == lt::torrent_status::checking_files ||
        st.state == lt::torrent_status::checking_resume_data)
      continue;
    if (opt.seed_idle.count() > 0 && t_now - t.last_active >= opt.seed_idle && st.num_peers == 0)
      idle.push_back(id);
    else
      seeds.emplace_back(st.num_peers > 0, t.last_active, id);
  }
  for (const auto& id : idle)
    if (Transfer* t = find(id)) {
      unload(*t);
      ++stats.idle_unloads;
      --loaded;
    }
  // A refused load asks for one free slot: the peer that wanted it dials again.
  const bool want_room = room_wanted.exchange(false);
  const std::size_t target =
      want_room && opt.max_active_torrents > 0 ? opt.max_active_torrents - 1 : opt.max_active_torrents;
  if (opt.max_active_torrents > 0 && loaded > target) {
    std::sort(seeds.begin(), seeds.end());
    for (const auto& [busy, when, id] : seeds) {
      if (loaded <= target) break;
      // A seed serving a peer is not cut off in its first seconds (it would thrash).
      Transfer* t = find(id);
      if (t && busy && t_now - t->loaded_at < kMinServeTime) continue;
      if (t) {
        unload(*t);
        ++stats.evictions;
        --loaded;
      }
    }
  }
  // Held versions a peer asked for but that have no stored trees: one full check each.
  while (opt.max_active_torrents == 0 || loaded < opt.max_active_torrents) {
    std::string id;
    {
      std::lock_guard lock(demand_mu);
      if (needs_check.empty()) break;
      id = std::move(needs_check.front());
      needs_check.pop_front();
    }
    if (find(id)) continue;
    auto local = opt.catalog->local(id);
    if (!local || !*local || (*local)->state != LocalState::complete || (*local)->path.empty()) continue;
    auto m = opt.catalog->manifest(id);
    if (!m) continue;
    auto torrent = torrent_of(*m);
    if (!torrent) continue;
    Transfer& t = create(*m, std::move(*torrent), TransferKind::seed);
    t.seed_dir = (*local)->path;
    t.resume = (*local)->resume_data;
    t.last_active = t_now;
    if (auto st = add_seed(t); !st) {
      forget(id);
      continue;
    }
    ++loaded;
  }
  loaded_count = loaded;
}

void SwarmEngine::Impl::apply_members() {
  if (opt.peers_anyone) {
    // Everyone may connect; non-members go to the foreign class (its upload limit) and
    // also stay in the global class (the session's limits).
    const std::uint32_t global = 1u << static_cast<std::uint32_t>(lt::session_handle::global_peer_class_id);
    const std::uint32_t foreign = global | (1u << static_cast<std::uint32_t>(static_cast<int>(foreign_class)));
    lt::ip_filter f;
    f.add_rule(lt::make_address("0.0.0.0"), lt::make_address("255.255.255.255"), foreign);
    f.add_rule(lt::make_address("::"), lt::make_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), foreign);
    for (const auto& a : members) f.add_rule(a, a, global);
    session->set_peer_class_filter(f);
    session->set_ip_filter(lt::ip_filter{});
  } else {
    lt::ip_filter f;
    f.add_rule(lt::make_address("0.0.0.0"), lt::make_address("255.255.255.255"), lt::ip_filter::blocked);
    f.add_rule(lt::make_address("::"), lt::make_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), lt::ip_filter::blocked);
    for (const auto& a : members) f.add_rule(a, a, 0);
    session->set_ip_filter(f);
  }
  gate->set_members(members, opt.peers_anyone);
}

void SwarmEngine::Impl::on_foreign(const std::string& address, const std::string& what) {
  const auto t_now = SteadyClock::now();
  auto it = refused_noted.find(address);
  if (it != refused_noted.end() && t_now - it->second < kForeignNoteEvery) return;
  if (refused_noted.size() >= 1000) refused_noted.clear();
  refused_noted[address] = t_now;
  events.push_back({SwarmEvent::Type::foreign_peer, std::string(), address + " " + what, 0});
}

}  // namespace fedswarm
