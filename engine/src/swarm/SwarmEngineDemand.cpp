// SwarmEngine::Impl, continued: seeding on demand and who may connect (SwarmEngine.hpp,
// SwarmGate.hpp).
#include "swarm/SwarmEngineImpl.hpp"

#include "fedswarm/storage/FileHasher.hpp"

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

// Any thread: the catalog is thread-safe and nothing else is touched.
std::optional<DemandLoad> SwarmEngine::Impl::read_held(const std::string& id) const {
  auto local = opt.catalog->local(id);
  if (!local || !*local || (*local)->state != LocalState::complete || (*local)->path.empty()) return std::nullopt;
  auto m = opt.catalog->manifest(id);
  if (!m) return std::nullopt;
  auto torrent = torrent_of(*m);
  if (!torrent) return std::nullopt;
  return DemandLoad{id, std::move(*m), std::move(*torrent), (*local)->path, std::move((*local)->resume_data), {}};
}

// On libtorrent's network thread (SwarmGate): only the catalog (thread-safe, reads do
// not block on writers) and the two mutex-guarded tables are touched.
std::optional<lt::add_torrent_params> SwarmEngine::Impl::load_on_demand(const lt::sha1_hash& h, const lt::address& from) {
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
  std::optional<DemandLoad> held_copy = read_held(id);
  if (!held_copy) return std::nullopt;
  DemandLoad& d = *held_copy;
  std::optional<lt::add_torrent_params> p;
  if (!d.resume.empty())
    if (auto rp = resume_params(d.resume, d.torrent, d.dir.parent_path(), true); rp && seedable_without_check(*rp, *d.torrent.ti))
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
  // no_verify_files: libtorrent 2.0.8 attaches the asking peer right after this returns
  // and drops it (torrent_not_ready) if the torrent is still checking its resume data,
  // which is a disk job finishing only after the peer is gone: the peer had to dial
  // again, each dial a second tick or a reconnect interval later. Without the check the
  // torrent is seeding when the peer attaches and the handshake that asked is served.
  // Nothing is lost: the resume data claims every piece with its trees (checked above),
  // and in seed mode each piece is hashed against them before it is first sent; a
  // missing or short file fails that read (file_error_alert: the seed is paused).
  p->flags |= lt::torrent_flags::seed_mode | lt::torrent_flags::upload_mode | lt::torrent_flags::no_verify_files;
  {
    std::lock_guard lock(demand_mu);
    d.requester = from;
    demanded[h] = std::move(d);
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
      // Counted loaded before it stops counting as pending: the gate (network thread)
      // reads both, and a gap between the two let one load too many through the cap.
      // A load refused below stays counted until the owner's next recount.
      ++loaded_count;
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
  by_handle[h] = t.id;
  ++stats.on_demand_loads;
  for (const auto& ep : t.peers) h.connect_peer(ep);
  // The connection that caused the load is attached to it (load_on_demand: no resume
  // check to wait for). Should it have closed meanwhile, the member that asked would
  // dial again only after its reconnect interval: dial it (a no-op while it is
  // connected). A foreign peer is never dialled: it dials again.
  if (auto it = member_swarm.find(d->requester); it != member_swarm.end()) h.connect_peer(it->second);
}

// A seed without stored merkle trees: every file is read once on the worker thread —
// its size and SHA-256 must be the manifest's, and its piece layer is computed in the
// same pass — then the torrent is added in seed mode with those layers and its resume
// data (the trees) is stored, so later loads read nothing.
void SwarmEngine::Impl::begin_seed_check(Transfer& t) {
  ++stats.full_checks;
  t.seed_checking = true;
  t.seed_resume_saved = false;
  t.activity = "checking";
  const std::uint64_t epoch = t.epoch = ++next_epoch;
  worker->submit([this, id = t.id, epoch, m = t.manifest, info = t.torrent.info, dir = t.seed_dir,
                  torrent = t.torrent]() -> SwarmWorker::Completion {
    Result<lt::add_torrent_params> out = [&]() -> Result<lt::add_torrent_params> {
      std::map<std::string, const ManifestFile*> by_path;
      for (const auto& f : m.files) by_path[f.path] = &f;
      std::map<Sha256, std::vector<Sha256>> layers;
      FileHasher hasher;
      for (const auto& f : info.files) {
        if (worker->cancelled()) return make_error(Errc::unavailable, "swarm_stopped", "the swarm engine is stopping");
        auto it = by_path.find(f.path);
        if (it == by_path.end())
          return make_error(Errc::invalid, "info_dict_files", "the info dict lists " + f.path + ", which the manifest does not");
        auto digest = hasher.hash(dir / f.path, static_cast<std::uint64_t>(info.piece_length));
        if (!digest) return std::move(digest).error();
        if (digest->size != it->second->size || digest->sha256 != it->second->sha256)
          return make_error(Errc::corrupt, "seed_mismatch",
                            (dir / f.path).string() + " does not match its manifest (" +
                                (digest->size != it->second->size ? "size" : "SHA-256") + "); it is not served. Run `fedswarm verify " +
                                m.instance_id() + "`");
        if (!f.pieces_root.is_zero()) layers[f.pieces_root] = std::move(digest->piece_roots);
      }
      return layered_seed_params(m, torrent, layers, dir.parent_path());
    }();
    return [this, id, epoch, out = std::move(out)]() mutable { on_seed_checked(id, epoch, std::move(out)); };
  });
}

void SwarmEngine::Impl::on_seed_checked(const std::string& id, std::uint64_t epoch, Result<lt::add_torrent_params> p) {
  Transfer* t = find(id);
  if (!t || t->epoch != epoch || t->kind != TransferKind::seed) return;
  t->seed_checking = false;
  t->activity.clear();
  if (!p) {
    t->last_error = p.error().message;
    t->activity = "paused";
    events.push_back({SwarmEvent::Type::seed_damaged, t->id, t->last_error, 0});
    return;
  }
  if (auto st = add(*t, std::move(*p)); !st) {
    t->last_error = st.error().message;
    return;
  }
  t->last_active = SteadyClock::now();
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
    if (t.seed_checking) ++loaded;  // will be loaded: counts against the limit already
    if (!t.handle.is_valid()) continue;
    ++loaded;
    if (t.kind != TransferKind::seed || t.removing) continue;
    auto it = status.find(t.handle);
    if (it == status.end()) continue;
    const lt::torrent_status& st = it->second;
    // A seed added after begin_seed_check stores its trees once libtorrent seeds it
    // (a save requested before would carry no pieces).
    if (!t.seed_resume_saved && t.saves_requested == t.saves_answered && st.is_seeding &&
        (st.flags & lt::torrent_flags::seed_mode))
      request_resume(t, {});
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
  // Loads the gate let through since the count above are pending: they count too.
  while (true) {
    std::string id;
    {
      std::lock_guard lock(demand_mu);
      if (opt.max_active_torrents > 0 && loaded + demanded.size() >= opt.max_active_torrents) break;
      if (needs_check.empty()) break;
      id = std::move(needs_check.front());
      needs_check.pop_front();
    }
    if (find(id)) continue;
    std::optional<DemandLoad> d = read_held(id);
    if (!d) continue;
    Transfer& t = create(d->manifest, std::move(d->torrent), TransferKind::seed);
    t.seed_dir = d->dir;
    t.resume = std::move(d->resume);
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
