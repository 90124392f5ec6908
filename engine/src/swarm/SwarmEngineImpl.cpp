#include "swarm/SwarmEngineImpl.hpp"

#include "fedswarm/protocol/DrsPath.hpp"

#include <libtorrent/alert_types.hpp>
#include <libtorrent/operations.hpp>
#include <libtorrent/torrent_flags.hpp>

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

namespace fedswarm {

namespace fs = std::filesystem;

namespace {

std::int64_t system_unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// What a disk error means for the operator.
std::string disk_error_message(const std::string& what, const lt::error_code& ec, const std::string& file) {
  std::string hint = "fix the cause, then resume the transfer";
  if (ec == boost::system::errc::no_space_on_device || ec == boost::system::errc::file_too_large)
    hint = "free space on the data root's file system (or give the node another data root), then resume the transfer";
  else if (ec == boost::system::errc::permission_denied || ec == boost::system::errc::operation_not_permitted ||
           ec == boost::system::errc::read_only_file_system)
    hint = "make the data root writable by the node, then resume the transfer";
  else if (ec == boost::system::errc::no_such_file_or_directory)
    hint = "a directory of the data root disappeared (unmounted?); restore it, then resume the transfer";
  return (file.empty() ? std::string() : file + ": ") + what + " failed: " + ec.message() + "; " + hint;
}

// "60 s", "1500 ms".
std::string duration_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

}  // namespace

std::string activity_of(const lt::torrent_status& st) {
  if (st.errc || (st.flags & lt::torrent_flags::paused)) return "paused";
  switch (st.state) {
    case lt::torrent_status::checking_files:
    case lt::torrent_status::checking_resume_data: return "checking";
    case lt::torrent_status::downloading_metadata:
    case lt::torrent_status::downloading: return "downloading";
    case lt::torrent_status::finished:
    case lt::torrent_status::seeding: return "seeding";
    default: return "checking";  // deprecated states (queued for checking, allocating)
  }
}

bool piece_layers_complete(const lt::torrent_handle& h, const lt::torrent_info& ti) {
  const lt::file_storage& fs = ti.files();
  std::vector<std::vector<lt::sha256_hash>> layers = h.piece_layers();
  for (lt::file_index_t f : fs.file_range()) {
    if (fs.pad_file_at(f) || fs.file_size(f) == 0) continue;
    const int pieces = fs.file_num_pieces(f);
    if (pieces <= 1) continue;  // its merkle root, from the info dict, is its piece hash
    const auto i = static_cast<std::size_t>(static_cast<int>(f));
    if (i >= layers.size() || layers[i].size() < static_cast<std::size_t>(pieces)) return false;
    // A partly known tree reports unknown nodes as zeros.
    for (const auto& hash : layers[i])
      if (hash.is_all_zeros()) return false;
  }
  return true;
}

SwarmEngine::Impl::~Impl() {
  if (worker) worker->shutdown();
  if (session) {
    session->set_alert_notify([] {});
    session.reset();
  }
}

std::int64_t SwarmEngine::Impl::now() const { return opt.clock ? opt.clock() : system_unix_now(); }

void SwarmEngine::Impl::notify() {
  std::lock_guard lock(wake_mu);
  if (wake) wake();
}

Status SwarmEngine::Impl::usable() const {
  if (stopped || stopping)
    return make_error(Errc::unavailable, "swarm_stopped", "the swarm engine has been stopped");
  return {};
}

Transfer* SwarmEngine::Impl::find(std::string_view id) {
  auto it = transfers.find(id);
  return it == transfers.end() ? nullptr : &it->second;
}
Transfer* SwarmEngine::Impl::find(const lt::torrent_handle& h) {
  auto it = by_handle.find(h);
  return it == by_handle.end() ? nullptr : find(it->second);
}

Result<fs::path> SwarmEngine::Impl::drs_dir(const Manifest& m) const {
  FEDSWARM_ASSIGN_OR_RETURN(std::string rel, drs_version_directory(*opt.projects, m.project, m.dataset_id, m.version));
  return opt.data_root / rel;
}

Status SwarmEngine::Impl::refuse_retracted(const std::string& id) const {
  auto v = opt.catalog->version(id);
  if (v && *v && (*v)->status == VersionStatus::retracted)
    return make_error(Errc::conflict, "retracted", id + " is retracted; it is neither fetched nor offered");
  return {};
}

void SwarmEngine::Impl::add_peers(Transfer& t, const std::vector<lt::tcp::endpoint>& eps) {
  for (const auto& ep : eps) {
    if (std::find(t.peers.begin(), t.peers.end(), ep) != t.peers.end() || t.peers.size() >= kMaxPeersPerVersion)
      continue;
    t.peers.push_back(ep);
    if (t.handle.is_valid()) t.handle.connect_peer(ep);
  }
}

Transfer& SwarmEngine::Impl::create(const Manifest& m, ManifestTorrent torrent, TransferKind kind) {
  Transfer& t = transfers[m.instance_id()];
  t.id = m.instance_id();
  t.kind = kind;
  t.manifest = m;
  t.torrent = std::move(torrent);
  by_hash[t.torrent.ti->info_hashes().v2] = t.id;
  if (auto it = pending_peers.find(t.id); it != pending_peers.end()) {
    add_peers(t, it->second);
    pending_peers.erase(it);
  }
  return t;
}

void SwarmEngine::Impl::forget(const std::string& id) {
  auto it = transfers.find(id);
  if (it == transfers.end()) return;
  by_hash.erase(it->second.torrent.ti->info_hashes().v2);
  transfers.erase(it);
}

// --- catalog -----------------------------------------------------------------------

// The LocalReplica row of a fetch. A failed write is shown on the transfer; the next
// state change writes the row again.
void SwarmEngine::Impl::record(Transfer& t) {
  if (t.kind != TransferKind::fetch) return;
  LocalReplica r;
  r.instance_id = t.id;
  r.state = t.state;
  r.path = t.state == LocalState::complete ? t.final_dir.string() : std::string();
  r.last_error = t.last_error;
  r.resume_data = t.resume;
  r.bytes_done = t.bytes_done;
  r.updated_at = now();
  if (auto st = opt.catalog->put_local(r); !st) t.last_error = "cannot record the transfer in the catalog: " + st.error().message;
}

// A seed's resume data (merkle trees after its first check) goes into its complete
// row, so the next start need not read the whole version again.
void SwarmEngine::Impl::store_seed_resume(Transfer& t) {
  auto local = opt.catalog->local(t.id);
  if (!local || !*local || (*local)->state != LocalState::complete || (*local)->path != t.seed_dir.string()) return;
  LocalReplica r = **local;
  r.resume_data = t.resume;
  r.updated_at = now();
  if (auto st = opt.catalog->put_local(r); !st) t.last_error = "cannot store resume data: " + st.error().message;
}

void SwarmEngine::Impl::request_resume(Transfer& t, lt::resume_data_flags_t flags) {
  if (!t.handle.is_valid()) return;
  t.handle.save_resume_data(flags);
  ++t.saves_requested;
}

// --- transitions -------------------------------------------------------------------

void SwarmEngine::Impl::pause_with(Transfer& t, std::string message, bool retryable) {
  if (t.handle.is_valid()) t.handle.pause();
  t.dial_hold = false;  // stays paused
  // Say when the engine tries again by itself (tick), so the operator knows that fixing
  // the cause is enough.
  if (t.kind == TransferKind::fetch && retryable && opt.retry_interval.count() > 0)
    message += " (paused transfers are retried every " + duration_text(opt.retry_interval) + ")";
  t.last_error = std::move(message);
  t.retryable = retryable;
  t.paused_at = SteadyClock::now();
  if (t.kind == TransferKind::fetch) {
    t.state = LocalState::paused;
    t.activity = "paused";
    record(t);
  }
  events.push_back({SwarmEvent::Type::paused, t.id, t.last_error, 0});
}

// Removing a torrent does not wait for its writes (torrent_removed_alert is posted
// before the storage is even asked to stop), and what follows a detach reads the staged
// files or adds them again: so the torrent is paused first and removed only once
// libtorrent confirms the pause, i.e. once its disk jobs are all complete.
void SwarmEngine::Impl::detach(Transfer& t, AfterRemove then) {
  if (!t.handle.is_valid()) return;
  t.removing = true;
  t.after_remove = then;
  // A torrent held paused since it was added has written nothing, and pausing it again
  // would not be confirmed (libtorrent posts no alert for a torrent already paused).
  if (t.paused_confirmed || t.dial_hold) return remove_now(t);
  if (t.detach_pending) return;
  t.detach_pending = true;
  t.detach_since = SteadyClock::now();
  t.handle.pause();
}

void SwarmEngine::Impl::remove_now(Transfer& t) {
  if (!t.handle.is_valid()) return;
  const bool fetch = t.kind == TransferKind::fetch;
  lt::torrent_status st = t.handle.status(fetch ? lt::torrent_handle::query_pieces : lt::status_flags_t{});
  t.downloaded_before += static_cast<std::uint64_t>(st.total_payload_download);
  t.uploaded_before += static_cast<std::uint64_t>(st.total_payload_upload);
  if (fetch) {
    t.bytes_done = std::min(t.manifest.total_size(), static_cast<std::uint64_t>(st.total_wanted_done) + t.linked);
    // Without the pause confirmed (it timed out), this handle's writes may not have
    // landed: its pieces count as untrusted, so their files are read again.
    if (!t.paused_confirmed) t.checked = false;
    note_removed(t, st.pieces);
  }
  by_handle.erase(t.handle);
  session->remove_torrent(t.handle);
  t.handle = {};
  t.detach_pending = false;
  t.removing = true;
}

Status SwarmEngine::Impl::add(Transfer& t, lt::add_torrent_params p) {
  p.peers.insert(p.peers.end(), t.peers.begin(), t.peers.end());
  lt::error_code ec;
  lt::torrent_handle h = session->add_torrent(std::move(p), ec);
  if (ec)
    return make_error(Errc::io, "swarm_add_failed", "libtorrent refused to add " + t.id + ": " + ec.message());
  t.handle = h;
  t.checked = false;
  t.loaded_at = SteadyClock::now();
  // Counted up at once (the gate reads it); counted down when the owner recounts.
  ++loaded_count;
  t.saves_requested = t.saves_answered = 0;
  t.paused_confirmed = false;
  t.detach_pending = false;
  t.dial_hold = false;
  t.settled = false;
  t.final_save = 0;
  by_handle[h] = t.id;
  return {};
}

Status SwarmEngine::Impl::add_seed(Transfer& t) {
  t.kind = TransferKind::seed;
  t.state = LocalState::complete;
  t.activity.clear();
  std::optional<lt::add_torrent_params> p;
  if (!t.resume.empty()) {
    if (auto rp = resume_params(t.resume, t.torrent, t.seed_dir.parent_path(), true);
        rp && seedable_without_check(*rp, *t.torrent.ti)) {
      p = std::move(*rp);
      // No read now; each piece is verified the first time a peer asks for it.
      p->flags |= lt::torrent_flags::seed_mode;
      t.seed_resume_saved = true;
    }
  }
  if (!p) {
    // Without stored trees: the files are hashed once on the worker (SHA-256 against
    // the manifest, piece layers for libtorrent), then added in seed mode.
    begin_seed_check(t);
    return {};
  }
  p->flags |= lt::torrent_flags::upload_mode;  // never write into a seeded directory
  return add(t, std::move(*p));
}

void SwarmEngine::Impl::begin_fetch(Transfer& t) {
  t.kind = TransferKind::fetch;
  t.state = LocalState::transferring;
  t.activity = "preparing";
  t.finishing = false;
  record(t);
  const std::uint64_t epoch = t.epoch = ++next_epoch;
  worker->submit([this, id = t.id, epoch, root = opt.data_root, staged = t.staging_root / t.manifest.version,
                  m = t.manifest, info = t.torrent.info, no_link = t.no_link]() -> SwarmWorker::Completion {
    auto linked = prepare_staging(root, staged, *opt.catalog, m, info, no_link);
    return [this, id, epoch, linked = std::move(linked)] { on_prepared(id, epoch, linked); };
  });
}

void SwarmEngine::Impl::on_prepared(const std::string& id, std::uint64_t epoch, const Result<LinkedFiles>& linked) {
  Transfer* t = find(id);
  if (!t || t->epoch != epoch || t->state != LocalState::transferring) return;
  if (!linked) return pause_with(*t, linked.error().message, true);
  t->linked = linked->bytes;
  t->links = linked->list;
  if (t->linked == t->manifest.total_size()) {
    // Nothing to download: every file is held by an earlier local version.
    t->finishing = true;
    return submit_placement(*t, false);
  }
  std::optional<lt::add_torrent_params> p;
  const fs::path& save_path = t->staging_root;
  if (!t->resume.empty())
    if (auto rp = resume_params(t->resume, t->torrent, save_path, t->resume_trusted)) p = std::move(*rp);
  if (!p) p = fresh_params(t->torrent, save_path);
  if (!t->links.empty()) {
    const lt::file_storage& files = p->ti->files();
    p->file_priorities.assign(static_cast<std::size_t>(files.num_files()), lt::default_priority);
    for (lt::file_index_t i : files.file_range()) {
      if (files.pad_file_at(i)) continue;
      const lt::sha256_hash root = files.root(i);
      for (const auto& l : t->links)
        if (l.size == static_cast<std::uint64_t>(files.file_size(i)) && std::memcmp(root.data(), l.pieces_root.data(), 32) == 0)
          p->file_priorities[static_cast<std::size_t>(static_cast<int>(i))] = lt::dont_download;
    }
  }
  p->download_limit = static_cast<int>(std::min<std::int64_t>(t->rate_limit, std::numeric_limits<int>::max()));
  // Peers known now are dialled as soon as the check is over, not at libtorrent's next
  // once-a-second connect tick (the first byte of a small version came up to 1 s late).
  const bool hold = !t->peers.empty();
  if (hold) hold_until_checked(*p);
  if (auto st = add(*t, std::move(*p)); !st) return pause_with(*t, st.error().message, true);
  t->dial_hold = hold;
  t->activity.clear();
  t->progress_at = SteadyClock::now();
  t->trees_stored = false;
  t->trees_save = 0;
  t->trees_check_at = t->progress_at;
}

void SwarmEngine::Impl::submit_placement(Transfer& t, bool adopt) {
  t.state = LocalState::verifying;
  t.activity = "verifying";
  record(t);
  // With resume data (the merkle trees) a mismatch is re-checked in place; without, the
  // staged bytes cannot be told apart and the version is fetched from nothing.
  const bool keep_staging = !t.resume.empty();
  PlacementJob job{t.manifest, t.staging_root, t.final_dir, adopt, t.resume, now(), t.links, keep_staging,
                   adopt ? std::set<std::string>{} : trusted_files(t)};
  const std::uint64_t epoch = t.epoch = ++next_epoch;
  worker->submit([this, id = t.id, epoch, job = std::move(job)]() -> SwarmWorker::Completion {
    PlacementOutcome out = place_version(job, *opt.catalog, *opt.key, worker->cancelled());
    return [this, id, epoch, out = std::move(out)] { on_placed(id, epoch, out); };
  });
}

void SwarmEngine::Impl::on_placed(const std::string& id, std::uint64_t epoch, const PlacementOutcome& out) {
  Transfer* t = find(id);
  if (!t || t->epoch != epoch) return;
  using Kind = PlacementOutcome::Kind;
  stats.bytes_rehashed += out.bytes_rehashed;
  stats.bytes_trusted += out.bytes_trusted;
  t->rehashed += out.bytes_rehashed;
  switch (out.kind) {
    case Kind::placed: {
      ++stats.placed;
      t->bytes_done = t->manifest.total_size();
      t->last_error = out.record_error.empty() ? std::string() : "replica record refused: " + out.record_error;
      t->seed_dir = t->final_dir;
      t->last_active = SteadyClock::now();
      events.push_back({SwarmEvent::Type::placed, t->id, t->final_dir.string(), out.record_seq});
      hold(t->id, t->manifest);
      if (auto st = add_seed(*t); !st) t->last_error = st.error().message;
      return;
    }
    case Kind::verify_failed: return on_verify_failed(*t, out);
    case Kind::error:
      return pause_with(*t, out.message, out.reason != "destination_mismatch" && out.reason != "destination_exists");
    case Kind::cancelled: return;
  }
}

namespace {

// Piece i was downloaded and checked block by block by this run (one hash pass).
bool verified_on_arrival(const Transfer& t, std::size_t i) {
  return i < t.fresh.size() && t.fresh[i] && !(i < t.untrusted.size() && t.untrusted[i]);
}

}  // namespace

// Every block libtorrent accepted matched the signed merkle roots, so a file whose
// SHA-256 then differs changed on this node (a write that did not land, a damaged
// disk, a linked copy of an earlier version that rotted), unless the publisher's
// SHA-256 contradicts its own merkle roots. The staged files are re-checked by
// libtorrent against those roots and only failing pieces are fetched again; if that
// re-check finds every piece intact and the SHA-256 still differs, it is the
// publisher's mismatch. A staged file that is unreadable or of the wrong size is never
// the publisher's: only a SHA-256 that differs can be.
void SwarmEngine::Impl::on_verify_failed(Transfer& t, const PlacementOutcome& out) {
  const bool publisher_fault = !out.linked && t.recheck_bad_pieces == 0 && out.reason == "sha256_mismatch";
  if (publisher_fault) {
    ++stats.verify_failures;
    ++t.verify_failures;
    events.push_back({SwarmEvent::Type::verify_failed, t.id, out.message, 0});
    t.fresh.clear();
    t.resume.clear();
    t.resume_trusted = false;
    t.bytes_done = 0;
    return pause_with(t,
                      "the copy failed its SHA-256 check after libtorrent re-checked every staged piece against the "
                      "signed merkle roots and found them intact (" + out.message +
                          "): the manifest's SHA-256 does not match the publisher's own merkle roots — report it to the "
                          "publisher; resume the transfer to try again",
                      false);
  }
  ++stats.local_faults;
  ++t.local_faults;
  // Placement reads a file again only when some of its pieces were not verified on
  // arrival by this run; saying how many tells a lost write from such a piece.
  std::size_t unverified = 0;
  for (std::size_t i = 0; i < t.fresh.size(); ++i) unverified += !verified_on_arrival(t, i);
  std::string what;
  if (out.linked)
    what = "a copy linked from an earlier local version differs (it is downloaded instead): " + out.message;
  else if (unverified > 0)
    what = out.message + " (" + std::to_string(unverified) + " of the version's " + std::to_string(t.fresh.size()) +
           " pieces had not been verified on arrival by this run, so the files holding them were read again)";
  else
    what = "after every block had passed its merkle check on arrival: " + out.message;
  events.push_back({SwarmEvent::Type::local_fault, t.id, what, 0});
  if (out.linked) t.no_link.insert(out.file);
  if (t.local_faults >= opt.max_verify_failures)
    return pause_with(t,
                      "the staged copy failed its SHA-256 check " + std::to_string(t.local_faults) +
                          " times after its blocks had passed their merkle checks (last: " + what +
                          "): data changed on this node's storage; check the data root's disk and file system "
                          "(dmesg, SMART), then resume the transfer",
                      false);
  t.resume_trusted = false;
  t.fresh.clear();  // whatever the re-check finds is read again at placement
  t.rechecking = !t.resume.empty();
  t.recheck_bad_pieces = -1;
  if (t.resume.empty()) t.bytes_done = 0;  // placement removed the staged files
  begin_fetch(t);
}

void SwarmEngine::Impl::restart(Transfer& t) {
  t.last_error.clear();
  if (t.kind == TransferKind::fetch) {
    t.verify_failures = 0;
    t.local_faults = 0;
    t.recheck_bad_pieces = -1;
  }
  AfterRemove then = t.kind == TransferKind::fetch ? AfterRemove::refetch : AfterRemove::reseed;
  if (t.handle.is_valid()) return detach(t, then);
  if (t.removing) {
    t.after_remove = then;
    return;
  }
  if (t.kind == TransferKind::seed) {
    if (auto st = add_seed(t); !st) t.last_error = st.error().message;
    return;
  }
  if (fs::exists(t.final_dir)) return submit_placement(t, true);
  begin_fetch(t);
}

// --- alerts ------------------------------------------------------------------------

void SwarmEngine::Impl::on_alert(lt::alert* a) {
  if (ends_hold(*a)) end_hold(static_cast<lt::torrent_alert*>(a)->handle);
  if (auto* fin = lt::alert_cast<lt::torrent_finished_alert>(a)) return on_finished(fin->handle);
  if (auto* sr = lt::alert_cast<lt::save_resume_data_alert>(a)) return on_resume_data(sr->handle, &sr->params);
  if (auto* sf = lt::alert_cast<lt::save_resume_data_failed_alert>(a)) return on_resume_data(sf->handle, nullptr);
  if (auto* rm = lt::alert_cast<lt::torrent_removed_alert>(a)) return on_removed(rm->info_hashes.v2);
  if (auto* pa = lt::alert_cast<lt::torrent_paused_alert>(a)) return on_paused(pa->handle);
  if (auto* ch = lt::alert_cast<lt::torrent_checked_alert>(a)) return on_checked(ch->handle);
  if (auto* pf = lt::alert_cast<lt::piece_finished_alert>(a)) return on_piece_passed(pf->handle, pf->piece_index);
  if (auto* fe = lt::alert_cast<lt::file_error_alert>(a))
    return on_disk_error(fe->handle, disk_error_message(lt::operation_name(fe->op),
                                                       fe->error, fe->filename()));
  if (auto* te = lt::alert_cast<lt::torrent_error_alert>(a))
    return on_disk_error(te->handle, disk_error_message("the transfer", te->error, te->filename()));
  if (auto* hf = lt::alert_cast<lt::hash_failed_alert>(a)) {
    ++stats.hash_failures;
    if (Transfer* t = find(hf->handle)) ++t->hash_failures;
    return;
  }
  if (auto* added = lt::alert_cast<lt::add_torrent_alert>(a)) {
    if (!added->error && added->handle.is_valid() && !by_hash.count(added->params.info_hashes.v2) &&
        added->params.info_hashes.has_v2())
      adopt(added->handle, added->params.info_hashes.v2);
    return;
  }
  if (auto* blocked = lt::alert_cast<lt::peer_blocked_alert>(a)) {
    if (blocked->reason != lt::peer_blocked_alert::ip_filter) return;
    ++stats.foreign_refused;
    return on_foreign(blocked->endpoint.address().to_string(), "refused (not a federation member)");
  }
  if (auto* gone = lt::alert_cast<lt::peer_disconnected_alert>(a)) {
    // libtorrent keeps a served peer's announced listen port and would dial it later:
    // foreign addresses are never dialled, so the torrent's peer list forgets them (the
    // members' entries come back at the next re-dial).
    if (members_applied && gone->handle.is_valid() && !gate->is_member(gone->endpoint.address())) gone->handle.clear_peers();
    return;
  }
  if (auto* ban = lt::alert_cast<lt::peer_ban_alert>(a)) {
    std::string addr = ban->endpoint.address().to_string();
    banned.insert(addr);
    Transfer* t = find(ban->handle);
    events.push_back({SwarmEvent::Type::peer_banned, t ? t->id : std::string(), addr, 0});
    return;
  }
}

void SwarmEngine::Impl::on_finished(const lt::torrent_handle& h) {
  Transfer* t = find(h);
  if (!t) return;
  if (t->kind == TransferKind::seed) {
    // After a full check: keep the merkle trees so the next start seeds without one.
    if (!t->seed_resume_saved) request_resume(*t, lt::torrent_handle::flush_disk_cache);
    t->seed_resume_saved = true;
    return;
  }
  if (t->finishing || t->removing || t->state != LocalState::transferring) return;
  t->finishing = true;
  t->settled = false;
  t->state = LocalState::verifying;
  t->activity = "verifying";
  // Placement reads the staged files: first every write must have landed (on_paused).
  // Still held (its state alert lost): it never ran, and a pause would not be confirmed.
  if (std::exchange(t->dial_hold, false)) t->paused_confirmed = true;
  if (t->paused_confirmed) return settle(*t);
  t->handle.pause();
}

// The final resume data (every piece, the merkle trees) is stored with the replica;
// placement starts when the answer to this request arrives.
void SwarmEngine::Impl::settle(Transfer& t) {
  t.settled = true;
  request_resume(t, {});
  t.final_save = t.saves_requested;
}

void SwarmEngine::Impl::end_hold(const lt::torrent_handle& h) {
  Transfer* t = find(h);
  if (!t || !t->dial_hold) return;
  t->dial_hold = false;
  // Resumed after its check: libtorrent dials the peer list at once (do_connect_boost).
  if (t->kind == TransferKind::fetch && t->state == LocalState::transferring && !t->finishing && !t->removing &&
      !t->detach_pending)
    t->handle.resume();
}

void SwarmEngine::Impl::on_paused(const lt::torrent_handle& h) {
  Transfer* t = find(h);
  if (!t) return;
  t->paused_confirmed = true;
  if (t->detach_pending) return remove_now(*t);
  if (t->kind == TransferKind::fetch && t->finishing && !t->settled) settle(*t);
}

void SwarmEngine::Impl::on_resume_data(const lt::torrent_handle& h, const lt::add_torrent_params* params) {
  Transfer* t = find(h);
  if (!t) return;
  ++t->saves_answered;
  if (t->trees_save != 0 && t->saves_answered >= t->trees_save) {
    // The answer to the request made once every piece layer was known (or a failure:
    // then the next check asks again).
    t->trees_stored = params != nullptr;
    t->trees_save = 0;
  }
  if (params) {
    t->resume = encode_resume(*params);
    t->resume_trusted = true;  // written by this run: its pieces are on disk
    ++stats.resume_saves;
    if (t->kind == TransferKind::seed) {
      t->seed_resume_saved = true;
      return store_seed_resume(*t);
    }
    lt::torrent_status st = h.status({});
    t->bytes_done = std::min(t->manifest.total_size(), static_cast<std::uint64_t>(st.total_wanted_done) + t->linked);
  }
  if (t->kind != TransferKind::fetch || (!params && !t->finishing)) return;
  record(*t);
  // Only the answer to the request made after the pause was confirmed: an earlier
  // periodic save may lack the last pieces. A failed final save still places (the
  // resume data from before goes with the replica; seeding then checks once).
  if (t->finishing && t->settled && t->saves_answered >= t->final_save && !stopping && !refetch_missing(*t, h, params))
    detach(*t, AfterRemove::place);
}

// libtorrent 2.0.8 can count a v2 piece as passed twice: a piece-layer answer that
// arrives while the piece's blocks are still being written passes it again (requests
// for hashes are repeated after 3 s, so two answers come on a slow uplink; fixed
// upstream in 2.0.12, commit dea98c7). Its count of passed pieces then reaches the total
// with a piece still missing, it reports the torrent finished, and placement would find
// a file's SHA-256 wrong: a local fault, a re-check of every staged piece and seconds
// lost. The status bitfield is exact (each piece's own state), so the pieces it lacks
// are what is missing; resume data claiming only the others (written by this run, the
// pause confirmed) lets the added-again torrent fetch just those.
bool SwarmEngine::Impl::refetch_missing(Transfer& t, const lt::torrent_handle& h, const lt::add_torrent_params* params) {
  const lt::torrent_status st = h.status(lt::torrent_handle::query_pieces);
  const lt::file_storage& fs = t.torrent.ti->files();
  if (st.pieces.size() != fs.num_pieces()) return false;
  const std::vector<lt::download_priority_t> priorities = h.get_file_priorities();
  int missing = 0;
  for (lt::file_index_t f : fs.file_range()) {
    const auto fi = static_cast<std::size_t>(static_cast<int>(f));
    if (fs.pad_file_at(f) || fs.file_size(f) == 0) continue;
    if (fi < priorities.size() && priorities[fi] == lt::dont_download) continue;  // linked from a local version
    const int first = static_cast<int>(fs.piece_index_at_file(f));
    for (int k = 0; k < fs.file_num_pieces(f); ++k) missing += !st.pieces[lt::piece_index_t(first + k)];
  }
  if (missing == 0) return false;
  ++stats.incomplete_finishes;
  events.push_back({SwarmEvent::Type::incomplete_finish, t.id,
                    "libtorrent reported the download finished with " + std::to_string(missing) + " of its " +
                        std::to_string(fs.num_pieces()) +
                        " pieces missing (libtorrent before 2.0.12 can count a piece as verified twice); fetching "
                        "them before placement",
                    0});
  if (params) {
    lt::add_torrent_params held = *params;
    held.have_pieces = st.pieces;
    t.resume = encode_resume(held);
    t.resume_trusted = true;
  } else {
    t.resume_trusted = false;  // the last periodic save, which the files are checked against
  }
  t.finishing = false;
  t.settled = false;
  detach(t, AfterRemove::refetch);
  return true;
}

void SwarmEngine::Impl::on_removed(const lt::sha256_hash& v2) {
  auto it = by_hash.find(v2);
  if (it == by_hash.end()) return;
  Transfer* t = find(it->second);
  if (!t || !t->removing || stopping) return;
  t->removing = false;
  AfterRemove then = std::exchange(t->after_remove, AfterRemove::nothing);
  switch (then) {
    case AfterRemove::place: return submit_placement(*t, false);
    case AfterRemove::refetch: return begin_fetch(*t);
    case AfterRemove::reseed:
      if (auto st = add_seed(*t); !st) t->last_error = st.error().message;
      return;
    case AfterRemove::nothing: return;
  }
}

void SwarmEngine::Impl::on_checked(const lt::torrent_handle& h) {
  Transfer* t = find(h);
  if (!t) return;
  if (t->kind == TransferKind::fetch) {
    lt::torrent_status st = h.status(lt::torrent_handle::query_pieces);
    note_checked(*t, st.pieces);
    if (!t->rechecking) return;
    // What the re-check after a local fault found: 0 means every staged piece matched.
    t->rechecking = false;
    const std::int64_t missing = std::max<std::int64_t>(0, st.total_wanted - st.total_wanted_done);
    const std::int64_t piece = std::max(1, t->torrent.ti->piece_length());
    t->recheck_bad_pieces = static_cast<int>((missing + piece - 1) / piece);
    return;
  }
  lt::torrent_status st = h.status({});
  // A seed-mode torrent claims every piece and verifies each when first served: its
  // "check" says nothing about the files (its trees are stored by unload_idle once it
  // seeds).
  if ((st.flags & lt::torrent_flags::seed_mode) || st.is_seeding || st.errc) return;
  const int total = t->torrent.ti->num_pieces();
  std::string msg = "the copy in " + t->seed_dir.string() + " does not match its manifest: " +
                    std::to_string(total - st.num_pieces) + " of " + std::to_string(total) +
                    " pieces are missing or differ; only the others are served. Run `fedswarm verify " + t->id + "`";
  t->last_error = msg;
  events.push_back({SwarmEvent::Type::seed_damaged, t->id, std::move(msg), 0});
}

// The alert is handled a little after the check ended: pieces downloaded in between
// are in `have` too; their piece_finished alerts, queued after this one, take them out
// of `untrusted` again (on_piece_passed).
void SwarmEngine::Impl::note_checked(Transfer& t, const lt::typed_bitfield<lt::piece_index_t>& have) {
  const auto n = static_cast<std::size_t>(t.torrent.ti->num_pieces());
  t.untrusted.resize(n, false);
  t.fresh.resize(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    const lt::piece_index_t p(static_cast<int>(i));
    if (p < have.end_index() && have[p] && !t.fresh[i]) t.untrusted[i] = true;
  }
  t.checked = true;
}

// Downloaded by the current handle and checked against the signed merkle roots.
void SwarmEngine::Impl::on_piece_passed(const lt::torrent_handle& h, lt::piece_index_t piece) {
  Transfer* t = find(h);
  if (!t || t->kind != TransferKind::fetch || !t->checked) return;
  const auto i = static_cast<std::size_t>(static_cast<int>(piece));
  if (i < t->untrusted.size()) t->untrusted[i] = false;
}

void SwarmEngine::Impl::note_removed(Transfer& t, const lt::typed_bitfield<lt::piece_index_t>& have) {
  const auto n = static_cast<std::size_t>(t.torrent.ti->num_pieces());
  t.untrusted.resize(n, false);
  t.fresh.resize(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    const lt::piece_index_t p(static_cast<int>(i));
    const bool held = p < have.end_index() && have[p];
    // Without the end of its check, what the handle held may have come from resume data.
    if (!t.checked && held && !t.fresh[i]) t.untrusted[i] = true;
    t.fresh[i] = held && !t.untrusted[i];
  }
  t.checked = false;
}

std::set<std::string> SwarmEngine::Impl::trusted_files(const Transfer& t) const {
  std::set<std::string> out;
  const lt::file_storage& fs = t.torrent.ti->files();
  const std::string prefix = t.torrent.info.name + "/";
  for (lt::file_index_t f : fs.file_range()) {
    if (fs.pad_file_at(f) || fs.file_size(f) == 0) continue;
    const auto first = static_cast<std::size_t>(static_cast<int>(fs.piece_index_at_file(f)));
    const auto count = static_cast<std::size_t>(fs.file_num_pieces(f));
    bool all = count > 0 && first + count <= t.fresh.size();
    for (std::size_t p = first; all && p < first + count; ++p) all = verified_on_arrival(t, p);
    if (!all) continue;
    std::string path = fs.file_path(f);
    if (path.compare(0, prefix.size(), prefix) == 0) out.insert(path.substr(prefix.size()));
  }
  return out;
}

void SwarmEngine::Impl::on_disk_error(const lt::torrent_handle& h, std::string message) {
  ++stats.file_errors;
  Transfer* t = find(h);
  if (!t || t->activity == "paused") return;
  if (t->kind == TransferKind::fetch && t->state == LocalState::paused) return;
  if (t->kind == TransferKind::seed) {
    t->activity = "paused";
    return pause_with(*t, "cannot serve " + t->seed_dir.string() + ": " + message, true);
  }
  pause_with(*t, std::move(message), true);
}

void SwarmEngine::Impl::handle_alerts() {
  std::vector<lt::alert*> alerts;
  session->pop_alerts(&alerts);
  for (lt::alert* a : alerts) on_alert(a);
}

// --- periodic work -----------------------------------------------------------------

void SwarmEngine::Impl::tick() {
  const auto t_now = SteadyClock::now();
  const bool save = t_now - last_resume_save >= opt.resume_save_interval;
  const bool dial = t_now - last_reconnect >= opt.reconnect_interval;
  if (save) last_resume_save = t_now;
  if (dial) last_reconnect = t_now;
  unload_idle(t_now);
  std::vector<std::string> retry, stalled, unconfirmed;
  for (auto& [id, t] : transfers) {
    if (t.detach_pending && t_now - t.detach_since >= kPauseConfirmTimeout) unconfirmed.push_back(id);
    const bool active = t.kind == TransferKind::fetch && t.state == LocalState::transferring && t.handle.is_valid();
    if (active && save) request_resume(t, lt::torrent_handle::flush_disk_cache | lt::torrent_handle::only_if_modified);
    // The merkle trees go to the catalog as soon as libtorrent has them, not at the next
    // periodic save: after a crash they let the re-check verify staged pieces by itself.
    // Without them it stores the block hashes of whatever is staged, and when a peer
    // sends the layers every staged piece that is not complete (zeros) fails as if a
    // peer had sent it corrupt.
    if (active && !t.trees_stored && t.trees_save == 0 && t_now >= t.trees_check_at) {
      t.trees_check_at = t_now + kTreesCheckInterval;
      if (piece_layers_complete(t.handle, *t.torrent.ti)) {
        request_resume(t, lt::torrent_handle::flush_disk_cache);
        t.trees_save = t.saves_requested;
      }
    }
    if (active && dial) {
      for (const auto& ep : t.peers) t.handle.connect_peer(ep);
      if (stalled_now(t, t_now)) stalled.push_back(id);
    }
    if (t.kind == TransferKind::fetch && t.state == LocalState::paused && t.retryable &&
        opt.retry_interval.count() > 0 && t_now - t.paused_at >= opt.retry_interval)
      retry.push_back(id);
  }
  for (const auto& id : unconfirmed)
    if (Transfer* t = find(id); t && t->detach_pending) {
      t->last_error = "libtorrent did not confirm the pause of the torrent within " +
                      std::to_string(kPauseConfirmTimeout.count()) + " s; removed it anyway";
      remove_now(*t);
    }
  for (const auto& id : retry)
    if (Transfer* t = find(id)) restart(*t);
  // libtorrent 2.0.8 can wedge a v2 torrent whose pieces are one block long: after a
  // piece fails it asks every peer for that block's hash, refuses the answer ("invalid
  // hashes") and disconnects, forever. Taking the torrent out and adding it again (with
  // its resume data) clears that state; it is cheap for any other kind of stall too.
  for (const auto& id : stalled)
    if (Transfer* t = find(id)) {
      ++stats.stall_restarts;
      detach(*t, AfterRemove::refetch);
    }
}

bool SwarmEngine::Impl::stalled_now(Transfer& t, SteadyClock::time_point t_now) {
  if (!t.dial_hold && opt.stall_timeout.count() <= 0) return false;
  lt::torrent_status st = t.handle.status({});
  // Held paused for its first dial and the alert that ends the check never came (a full
  // alert queue drops alerts): without this it would wait paused for ever.
  if (t.dial_hold && st.state != lt::torrent_status::checking_resume_data) {
    end_hold(t.handle);
    return false;
  }
  if (opt.stall_timeout.count() <= 0) return false;
  const auto done = static_cast<std::uint64_t>(st.total_wanted_done);
  if (done != t.progress_mark || st.state != lt::torrent_status::downloading || st.errc ||
      (st.flags & lt::torrent_flags::paused)) {
    t.progress_mark = done;
    t.progress_at = t_now;
    return false;
  }
  return t_now - t.progress_at >= opt.stall_timeout;
}

}  // namespace fedswarm
