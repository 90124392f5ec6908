#include "swarm/SwarmEngine.hpp"

#include <libtorrent/alert_types.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/peer_class.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/torrent_flags.hpp>

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <utility>

#include "swarm/SwarmEngineImpl.hpp"
#include "swarm/SwarmSettings.hpp"
#include "fedswarm/storage/AtomicFile.hpp"

namespace fedswarm {

namespace fs = std::filesystem;

std::string_view to_string(TransferKind k) { return k == TransferKind::fetch ? "fetch" : "seed"; }

std::string_view to_string(SwarmEvent::Type t) {
  switch (t) {
    case SwarmEvent::Type::placed: return "placed";
    case SwarmEvent::Type::verify_failed: return "verify_failed";
    case SwarmEvent::Type::local_fault: return "local_fault";
    case SwarmEvent::Type::paused: return "paused";
    case SwarmEvent::Type::seed_damaged: return "seed_damaged";
    case SwarmEvent::Type::peer_banned: return "peer_banned";
    case SwarmEvent::Type::foreign_peer: return "foreign_peer";
    case SwarmEvent::Type::incomplete_finish: return "incomplete_finish";
  }
  return "?";
}

namespace {

// libtorrent 2.0.8 refuses every incoming connection while its session holds no torrent
// (before it asks plugins about unknown ones), and while none is unpaused unless
// incoming_starts_queued_torrents is set. A node that loads seeds on demand may hold
// none: this paused, private, never-announced torrent of one absent byte keeps the
// session open to handshakes. It is not a transfer and never touches the disk.
Status add_sentinel(lt::session& session, const fs::path& save_path) {
  try {
    lt::file_storage files;
    files.add_file("fedswarm-sentinel/never-downloaded", 1);
    lt::create_torrent ct(files, 16 * 1024, lt::create_torrent::v1_only);
    ct.set_hash(lt::piece_index_t(0), lt::hasher("fedswarm sentinel").final());
    ct.set_priv(true);
    std::vector<char> buf;
    lt::bencode(std::back_inserter(buf), ct.generate());
    lt::add_torrent_params p;
    p.ti = std::make_shared<lt::torrent_info>(buf, lt::from_span);
    p.save_path = save_path.string();
    p.flags = (p.flags & ~lt::torrent_flags::auto_managed) | lt::torrent_flags::paused | lt::torrent_flags::upload_mode;
    lt::error_code ec;
    session.add_torrent(std::move(p), ec);
    if (ec) return make_error(Errc::io, "swarm_session", "cannot add the session's sentinel torrent: " + ec.message());
  } catch (const std::exception& e) {
    return make_error(Errc::io, "swarm_session", std::string("cannot build the session's sentinel torrent: ") + e.what());
  }
  return {};
}

// "host:port" endpoints as socket endpoints; a host name is resolved (blocking) to
// each of its addresses. Names that do not resolve (or text that is no endpoint) are
// listed in `unresolved`.
std::vector<lt::tcp::endpoint> resolve_endpoints(const std::vector<std::string>& endpoints, std::string& unresolved) {
  std::vector<lt::tcp::endpoint> out;
  for (const auto& e : endpoints) {
    if (auto ep = parse_swarm_endpoint(e)) {
      out.push_back(*ep);
      continue;
    }
    // Not an IP literal: "name:port".
    const auto colon = e.rfind(':');
    const std::string host = e.substr(0, colon);
    std::uint16_t port = 0;
    if (colon != std::string::npos) {
      const char* first = e.data() + colon + 1;
      const char* last = e.data() + e.size();
      if (auto [end, err] = std::from_chars(first, last, port); err != std::errc() || end != last) port = 0;
    }
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (port == 0 || ::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res) {
      unresolved += (unresolved.empty() ? "" : ", ") + host;
      continue;
    }
    for (addrinfo* r = res; r; r = r->ai_next) {
      char text[NI_MAXHOST];
      lt::error_code ec;
      if (::getnameinfo(r->ai_addr, r->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) == 0)
        if (lt::address ra = lt::make_address(text, ec); !ec) out.emplace_back(ra, port);
    }
    ::freeaddrinfo(res);
  }
  return out;
}

}  // namespace

// --- public API --------------------------------------------------------------------

SwarmEngine::SwarmEngine() : impl_(std::make_unique<Impl>()) {}
SwarmEngine::~SwarmEngine() = default;

Result<std::unique_ptr<SwarmEngine>> SwarmEngine::start(SwarmEngineOptions options) {
  if (!options.catalog || !options.key || !options.projects)
    return make_error(Errc::invalid, "swarm_options", "the swarm engine needs a catalog, a signing key and the projects");
  FEDSWARM_ASSIGN_OR_RETURN(lt::address ip, parse_swarm_ip(options.listen_ip));
  std::unique_ptr<SwarmEngine> engine(new SwarmEngine());
  Impl& im = *engine->impl_;
  im.opt = std::move(options);
  im.ip = ip;

  // The marker says the previous run saved its resume data and stopped; without it,
  // no piece claimed by resume data is trusted before libtorrent re-checks it. If it
  // cannot be removed, this run could not tell its own crash from a clean stop: trust
  // nothing then either.
  std::error_code ec;
  im.clean = fs::exists(im.marker(), ec);
  if (im.clean) {
    fs::remove(im.marker(), ec);
    if (ec || !fsync_directory(im.marker().parent_path())) im.clean = false;
  }

  try {
    lt::session_params params(swarm_settings(
        {ip, im.opt.port, im.opt.upload_rate_limit, im.opt.download_rate_limit, im.opt.reconnect_interval}));
    if (im.opt.disk_io) params.disk_io_constructor = im.opt.disk_io;
    im.session = std::make_unique<lt::session>(std::move(params));
    for (const auto& plugin : im.opt.plugins) im.session->add_extension(plugin);
  } catch (const std::exception& e) {
    return make_error(Errc::io, "swarm_session", std::string("cannot start the libtorrent session: ") + e.what());
  }
  im.session->set_peer_class_filter(global_peer_class_filter());
  im.foreign_class = im.session->create_peer_class("foreign");
  {
    lt::peer_class_info info = im.session->get_peer_class(im.foreign_class);
    info.upload_limit = static_cast<int>(std::min<std::int64_t>(im.opt.foreign_upload_rate_limit, std::numeric_limits<int>::max()));
    info.ignore_unchoke_slots = true;
    im.session->set_peer_class(im.foreign_class, info);
  }
  Impl* gate_owner = &im;
  im.gate = std::make_shared<SwarmGate>(
      [gate_owner](const lt::sha1_hash& h, const lt::address& from) { return gate_owner->load_on_demand(h, from); });
  im.session->add_extension(im.gate);
  FEDSWARM_TRY(add_sentinel(*im.session, im.opt.data_root));

  const std::string where = endpoint_string(ip, im.opt.port);
  const auto deadline = SteadyClock::now() + im.opt.start_timeout;
  while (im.port == 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0)
      return make_error(Errc::io, "swarm_listen_failed",
                        "libtorrent did not report listening on " + where + " within " +
                            std::to_string(im.opt.start_timeout.count()) + " ms");
    if (!im.session->wait_for_alert(left)) continue;
    std::vector<lt::alert*> alerts;
    im.session->pop_alerts(&alerts);
    for (lt::alert* a : alerts) {
      if (auto* ok = lt::alert_cast<lt::listen_succeeded_alert>(a); ok && ok->socket_type == lt::socket_type_t::tcp)
        im.port = static_cast<std::uint16_t>(ok->port);
      if (auto* bad = lt::alert_cast<lt::listen_failed_alert>(a); bad && bad->socket_type == lt::socket_type_t::tcp)
        return make_error(Errc::io, "swarm_listen_failed",
                          "cannot listen for swarm peers on " + where + ": " + bad->error.message() +
                              "; another program (or another fedswarm node) may use that port — change [network] "
                              "swarm_port in config.toml or stop the other program");
    }
  }

  Impl* raw = &im;
  im.worker = std::make_unique<SwarmWorker>([raw] { raw->notify(); });
  im.session->set_alert_notify([raw] { raw->notify(); });
  return engine;
}

std::uint16_t SwarmEngine::listen_port() const { return impl_->port; }
std::string SwarmEngine::listen_endpoint() const { return endpoint_string(impl_->ip, impl_->port); }
bool SwarmEngine::clean_start() const { return impl_->clean; }

Status SwarmEngine::seed(const Manifest& manifest, const fs::path& version_dir) {
  Impl& im = *impl_;
  FEDSWARM_TRY(im.usable());
  const std::string id = manifest.instance_id();
  if (Transfer* t = im.find(id)) {
    if (t->kind == TransferKind::seed) return {};
    return make_error(Errc::conflict, "swarm_busy", id + " is being fetched; it is seeded once placed");
  }
  FEDSWARM_TRY(im.refuse_retracted(id));
  FEDSWARM_ASSIGN_OR_RETURN(ManifestTorrent torrent, torrent_of(manifest));
  std::error_code ec;
  if (!fs::is_directory(version_dir, ec))
    return make_error(Errc::not_found, "no_replica_directory",
                      "cannot seed " + id + ": " + version_dir.string() + " is not a directory");
  FEDSWARM_ASSIGN_OR_RETURN(std::optional<LocalReplica> local, im.opt.catalog->local(id));
  Transfer& t = im.create(manifest, std::move(torrent), TransferKind::seed);
  t.seed_dir = version_dir;
  t.last_active = SteadyClock::now();
  if (local && local->state == LocalState::complete && local->path == version_dir.string()) t.resume = local->resume_data;
  if (auto st = im.add_seed(t); !st) {
    im.forget(id);
    return st;
  }
  if (local && local->state == LocalState::complete && local->path == version_dir.string()) im.hold(id, manifest);
  return {};
}

Status SwarmEngine::fetch(const Manifest& manifest, const FetchOptions& options) {
  Impl& im = *impl_;
  FEDSWARM_TRY(im.usable());
  std::vector<lt::tcp::endpoint> peers;
  for (const auto& p : options.peers) {
    FEDSWARM_ASSIGN_OR_RETURN(lt::tcp::endpoint ep, parse_swarm_endpoint(p));
    if (ep != lt::tcp::endpoint(im.ip, im.port)) peers.push_back(ep);
  }
  const std::string id = manifest.instance_id();
  if (Transfer* t = im.find(id)) {
    im.add_peers(*t, peers);
    if (t->kind == TransferKind::fetch && options.download_rate_limit != t->rate_limit) {
      t->rate_limit = options.download_rate_limit;
      if (t->handle.is_valid())
        t->handle.set_download_limit(static_cast<int>(std::min<std::int64_t>(t->rate_limit, std::numeric_limits<int>::max())));
    }
    return {};
  }
  FEDSWARM_TRY(im.refuse_retracted(id));
  FEDSWARM_ASSIGN_OR_RETURN(ManifestTorrent torrent, torrent_of(manifest));
  FEDSWARM_ASSIGN_OR_RETURN(fs::path final_dir, im.drs_dir(manifest));
  FEDSWARM_ASSIGN_OR_RETURN(std::optional<LocalReplica> local, im.opt.catalog->local(id));
  std::error_code ec;
  if (local && local->state == LocalState::complete && !local->path.empty() && fs::is_directory(local->path, ec)) {
    im.pending_peers[id].insert(im.pending_peers[id].end(), peers.begin(), peers.end());
    return seed(manifest, local->path);
  }

  Transfer& t = im.create(manifest, std::move(torrent), TransferKind::fetch);
  im.add_peers(t, peers);
  t.staging_root = im.opt.data_root / ".staging" / id;
  t.final_dir = std::move(final_dir);
  t.rate_limit = options.download_rate_limit;
  if (local) {
    t.resume = local->resume_data;
    t.bytes_done = local->bytes_done;
  }
  t.resume_trusted = im.clean;
  // A crash between the rename into the DRS tree and the catalog commit leaves the
  // version there: verify it where it is instead of fetching it again.
  if (fs::exists(fs::symlink_status(t.final_dir, ec))) {
    im.submit_placement(t, true);
    return {};
  }
  im.begin_fetch(t);
  return {};
}

void SwarmEngine::restore_row(const LocalReplica& l, RestoreReport& report) {
  Impl& im = *impl_;
  if (im.find(l.instance_id)) return;
  const bool want_seed = l.state == LocalState::complete && !l.path.empty();
  const bool want_fetch = l.state == LocalState::wanted || l.state == LocalState::transferring ||
                          l.state == LocalState::verifying || l.state == LocalState::paused;
  if (!want_seed && !want_fetch) return;
  auto v = im.opt.catalog->version(l.instance_id);
  if (v && *v && (*v)->status == VersionStatus::retracted) return;
  auto m = im.opt.catalog->manifest(l.instance_id);
  if (!m) {
    report.errors.push_back(m.error().with_context(l.instance_id));
    return;
  }
  if (want_seed) {
    // A crash after placement's catalog commit leaves its staging root behind.
    std::error_code ec;
    fs::remove_all(im.opt.data_root / ".staging" / l.instance_id, ec);
    {
      std::lock_guard lock(im.held_mu);
      if (im.held_ids.count(l.instance_id)) return;
    }
    // Held, not loaded: a peer's handshake loads it (and reads its resume data then).
    // Without stored trees it is checked once in the background, so that it can be
    // served.
    im.hold(l.instance_id, *m);
    if (l.resume_size == 0) {
      std::lock_guard lock(im.demand_mu);
      im.needs_check.push_back(l.instance_id);
    }
    ++report.seeding;
    return;
  }
  // fetch() reads the row again, with its resume data.
  Status st = fetch(*m);
  if (!st) report.errors.push_back(st.error().with_context(l.instance_id));
  else ++report.fetching;
}

Result<RestoreReport> SwarmEngine::restore() {
  Impl& im = *impl_;
  FEDSWARM_TRY(im.usable());
  // Taken before the scan: a row written during it is read again by the next
  // restore_changed, which is harmless (restoring a row twice changes nothing).
  FEDSWARM_ASSIGN_OR_RETURN(const std::uint64_t seq, im.opt.catalog->local_change_seq());
  RestoreReport report;
  FEDSWARM_TRY(for_each_local(*im.opt.catalog, [&](const LocalReplica& l) -> Status {
    ++report.rows_read;
    restore_row(l, report);
    return {};
  }));
  im.local_cursor = seq;
  return report;
}

Result<RestoreReport> SwarmEngine::restore_changed() {
  Impl& im = *impl_;
  FEDSWARM_TRY(im.usable());
  RestoreReport report;
  for (;;) {
    FEDSWARM_ASSIGN_OR_RETURN(LocalChanges changes, im.opt.catalog->local_changes_after(im.local_cursor, kRestorePage));
    for (const auto& id : changes.instance_ids) {
      // In the engine already (a fetch saving its resume data, a loaded seed): nothing to read.
      if (im.find(id)) continue;
      FEDSWARM_ASSIGN_OR_RETURN(std::optional<LocalReplica> l, im.opt.catalog->local(id));
      ++report.rows_read;
      if (!l) continue;
      l->resume_data.clear();  // not kept: read again on a load
      restore_row(*l, report);
    }
    im.local_cursor = changes.last;
    if (changes.instance_ids.size() < kRestorePage) break;
  }
  return report;
}

Status SwarmEngine::add_peer(std::string_view instance_id, std::string_view endpoint) {
  Impl& im = *impl_;
  FEDSWARM_TRY(im.usable());
  FEDSWARM_ASSIGN_OR_RETURN(lt::tcp::endpoint ep, parse_swarm_endpoint(endpoint));
  if (ep == lt::tcp::endpoint(im.ip, im.port)) return {};
  if (Transfer* t = im.find(instance_id)) {
    im.add_peers(*t, {ep});
    return {};
  }
  auto it = im.pending_peers.find(instance_id);
  if (it == im.pending_peers.end()) {
    if (im.pending_peers.size() >= Impl::kMaxPendingVersions) return {};
    it = im.pending_peers.emplace(std::string(instance_id), std::vector<lt::tcp::endpoint>{}).first;
  }
  if (it->second.size() < Impl::kMaxPeersPerVersion && std::find(it->second.begin(), it->second.end(), ep) == it->second.end())
    it->second.push_back(ep);
  return {};
}

Status SwarmEngine::remove(std::string_view instance_id) {
  Impl& im = *impl_;
  FEDSWARM_TRY(im.usable());
  im.pending_peers.erase(std::string(instance_id));
  im.unhold(std::string(instance_id));
  Transfer* t = im.find(instance_id);
  if (!t) return {};
  if (t->handle.is_valid()) {
    im.by_handle.erase(t->handle);
    im.session->remove_torrent(t->handle);
  }
  // Its worker job, if any, finishes; the completion finds no transfer and does nothing.
  im.forget(t->id);
  return {};
}

Status SwarmEngine::cancel(std::string_view instance_id, std::string_view why) {
  Impl& im = *impl_;
  FEDSWARM_TRY(im.usable());
  if (Transfer* t = im.find(instance_id)) {
    if (t->kind == TransferKind::seed) return {};
    // The worker may be renaming into the DRS tree and committing the replica record:
    // deleting its input or overwriting its row now could lose a placed copy's record.
    if (t->state == LocalState::verifying)
      return make_error(Errc::conflict, "swarm_placing",
                        std::string(instance_id) + " is being verified and placed; cancel it later");
  }
  FEDSWARM_TRY(remove(instance_id));
  FEDSWARM_ASSIGN_OR_RETURN(std::optional<LocalReplica> local, im.opt.catalog->local(instance_id));
  if (local && (local->state == LocalState::complete || local->state == LocalState::quarantined)) return {};
  if (local && local->state != LocalState::dropped) {
    local->state = LocalState::dropped;
    local->last_error = std::string(why);
    local->resume_data.clear();
    local->bytes_done = 0;
    local->updated_at = im.now();
    FEDSWARM_TRY(im.opt.catalog->put_local(*local));
  }
  // Staged files are allocated in full: give the room back. libtorrent may still hold
  // them open after remove(); unlinking open files is safe.
  std::error_code ec;
  fs::remove_all(im.opt.data_root / ".staging" / std::string(instance_id), ec);
  return {};
}

Status SwarmEngine::resume_paused(std::string_view instance_id) {
  Impl& im = *impl_;
  FEDSWARM_TRY(im.usable());
  std::vector<std::string> ids;
  for (auto& [id, t] : im.transfers) {
    if (!instance_id.empty() && id != instance_id) continue;
    const bool paused = t.kind == TransferKind::fetch ? t.state == LocalState::paused : t.activity == "paused";
    if (paused) ids.push_back(id);
  }
  for (const auto& id : ids)
    if (Transfer* t = im.find(id)) im.restart(*t);
  return {};
}

std::vector<SwarmEvent> SwarmEngine::poll() {
  Impl& im = *impl_;
  if (im.stopped || im.stopping) return {};
  im.handle_alerts();
  for (auto& done : im.worker->take_completions()) done();
  im.tick();
  for (auto& n : im.gate->take_notes()) im.on_foreign(n.address, n.what);
  return std::exchange(im.events, {});
}

std::vector<TransferInfo> SwarmEngine::transfers() const {
  Impl& im = *impl_;
  std::map<lt::torrent_handle, lt::torrent_status> status;
  if (im.session && !im.stopped) {
    std::vector<lt::torrent_status> all = im.session->get_torrent_status([](const lt::torrent_status&) { return true; }, {});
    for (auto& s : all) status.emplace(s.handle, std::move(s));
  }
  std::vector<TransferInfo> out;
  for (const auto& [id, t] : im.transfers) {
    TransferInfo r;
    r.instance_id = id;
    r.kind = t.kind;
    r.state = t.state;
    r.bytes_total = t.manifest.total_size();
    const bool complete = t.state == LocalState::complete;
    // Progress counts each byte once: linked files are not in the torrent's wanted
    // pieces of a fetch, and a seed (whose torrent wants every piece) is simply done.
    r.bytes_linked = std::min(t.linked, r.bytes_total);
    r.bytes_done = complete ? r.bytes_total : std::min(t.bytes_done, r.bytes_total);
    r.bytes_verified = complete ? r.bytes_total : 0;
    r.bytes_downloaded = t.downloaded_before;
    r.bytes_uploaded = t.uploaded_before;
    r.verify_failures = t.verify_failures;
    r.local_faults = t.local_faults;
    r.hash_failures = t.hash_failures;
    r.last_error = t.last_error;
    r.path = (t.kind == TransferKind::seed ? t.seed_dir : t.staging_root / t.manifest.version).string();
    r.activity = t.activity;
    if (auto it = status.find(t.handle); t.handle.is_valid() && it != status.end()) {
      const lt::torrent_status& st = it->second;
      if (!complete) r.bytes_done = std::min(r.bytes_total, static_cast<std::uint64_t>(st.total_wanted_done) + r.bytes_linked);
      r.bytes_downloaded += static_cast<std::uint64_t>(st.total_payload_download);
      r.bytes_uploaded += static_cast<std::uint64_t>(st.total_payload_upload);
      r.download_rate = st.download_payload_rate;
      r.upload_rate = st.upload_payload_rate;
      r.peers = st.num_peers;
      if (r.activity.empty() || r.activity == "paused") r.activity = activity_of(st);
      if (st.download_payload_rate > 0 && r.bytes_total > r.bytes_done)
        r.eta_seconds = static_cast<std::int64_t>((r.bytes_total - r.bytes_done) / static_cast<std::uint64_t>(st.download_payload_rate));
    }
    r.bytes_received = complete ? r.bytes_total - r.bytes_linked : r.bytes_done - std::min(r.bytes_done, r.bytes_linked);
    if (r.activity.empty()) r.activity = t.state == LocalState::complete ? "seeding" : "preparing";
    out.push_back(std::move(r));
  }
  return out;
}

SwarmCounters SwarmEngine::counters() const {
  const Impl& im = *impl_;
  SwarmCounters c = im.stats;
  c.banned_peers.assign(im.banned.begin(), im.banned.end());
  {
    std::lock_guard lock(im.held_mu);
    c.held = im.held.size();
  }
  for (const auto& [id, t] : im.transfers)
    if (t.handle.is_valid()) ++c.loaded;
  const GateCounters g = im.gate->counters();
  c.on_demand_misses = g.on_demand_misses;
  // libtorrent posts no alert for a connection closed before it was attached.
  c.peers_dropped_not_ready = g.on_demand_loads - std::min(g.on_demand_loads, g.on_demand_attached);
  c.foreign_served = g.foreign_served;
  c.foreign_dials_refused = g.foreign_dials_refused;
  c.pieces_suggested = g.pieces_suggested;
  return c;
}

std::string SwarmEngine::set_members(const std::vector<std::string>& endpoints) {
  Impl& im = *impl_;
  if (!im.usable()) return {};
  std::string unresolved;
  std::set<lt::address> members;
  im.member_swarm.clear();
  for (const auto& ep : resolve_endpoints(endpoints, unresolved)) {
    members.insert(ep.address());
    if (ep != lt::tcp::endpoint(im.ip, im.port)) im.member_swarm[ep.address()] = ep;
  }
  if (!im.ip.is_unspecified()) members.insert(im.ip);
  if (im.members_applied && members == im.members) return unresolved;
  im.members = std::move(members);
  im.members_applied = true;
  im.apply_members();
  return unresolved;
}

void SwarmEngine::set_wakeup(std::function<void()> wake) {
  std::lock_guard lock(impl_->wake_mu);
  impl_->wake = std::move(wake);
}

Status SwarmEngine::stop() {
  Impl& im = *impl_;
  if (im.stopped) return {};
  im.stopping = true;
  // Fresh resume data for every torrent that changed; placements that have not started
  // are left to the next start (their state stays `verifying`).
  std::size_t outstanding = 0;
  for (auto& [id, t] : im.transfers) {
    if (!t.handle.is_valid()) continue;
    im.request_resume(t, lt::torrent_handle::flush_disk_cache | lt::torrent_handle::only_if_modified);
    ++outstanding;
  }
  const auto deadline = SteadyClock::now() + im.opt.stop_timeout;
  while (outstanding > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) break;
    if (!im.session->wait_for_alert(left)) continue;
    std::vector<lt::alert*> alerts;
    im.session->pop_alerts(&alerts);
    for (lt::alert* a : alerts) {
      if (lt::alert_cast<lt::save_resume_data_alert>(a) || lt::alert_cast<lt::save_resume_data_failed_alert>(a))
        outstanding = outstanding > 0 ? outstanding - 1 : 0;
      im.on_alert(a);
    }
  }
  const bool saved_all = outstanding == 0;
  im.worker->shutdown();
  im.session->set_alert_notify([] {});
  im.session.reset();  // waits for libtorrent's disk threads
  im.stopped = true;
  if (!saved_all)
    return make_error(Errc::io, "swarm_stop_incomplete",
                      "resume data of some transfers was not saved within " + std::to_string(im.opt.stop_timeout.count()) +
                          " ms; the next start re-checks their files");
  std::error_code ec;
  if (!fs::is_directory(im.opt.data_root, ec)) return {};  // nothing staged anywhere
  fs::create_directories(im.marker().parent_path(), ec);
  auto st = write_file_atomic(im.marker(), std::string_view("fedswarm swarm engine stopped cleanly\n"));
  if (!st)
    return make_error(Errc::io, "swarm_marker",
                      "cannot write the clean-stop marker (" + st.error().message + "); the next start re-checks staged files");
  return {};
}

}  // namespace fedswarm
