// SwarmEngine::Impl (engine-private): the state behind SwarmEngine — the session, the
// transfer table and the transitions of a transfer. Contract and threading as in
// SwarmEngine.hpp: everything here runs on the owner thread, except `notify` (any
// thread) and the worker jobs, which touch only what they captured and the catalog.
//
// A transfer's life (fetch):
//   begin_fetch → [worker: prepare_staging] → on_prepared → libtorrent downloads →
//   torrent_finished → pause → torrent_paused (every write of the torrent is on disk) →
//   final resume data → detach(place) → torrent_removed → submit_placement →
//   [worker: place_version] → on_placed → add_seed (seeding).
//   Errors on the way: pause_with (catalog `paused` + last_error); restart() retries.
//   A SHA-256 mismatch at placement is first taken for a local fault: the staged files
//   are re-checked by libtorrent (resume data kept, its pieces untrusted) and only the
//   pieces that fail are fetched again; a mismatch after a re-check that found every
//   piece intact is the publisher's (its SHA-256 disagrees with its merkle roots).
//
// Why the pause: libtorrent 2.0 counts a piece as passed while its blocks may still
// wait in the disk subsystem's store buffer (the hash is computed from that buffer), so
// torrent_finished, a save_resume_data answer (even with flush_disk_cache) and
// torrent_removed can all arrive before the last writes reached the staged files. The
// paused alert is posted from the completion of the storage's stop fence, which runs
// after every outstanding job of the torrent: the files are final then. Every removal
// of a torrent whose files the engine reads or re-adds (detach) goes through it.
#pragma once

#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/alert.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_status.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <atomic>
#include <deque>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "swarm/Placement.hpp"
#include "swarm/SwarmGate.hpp"
#include "swarm/StagingArea.hpp"
#include "swarm/SwarmWorker.hpp"
#include "swarm/TorrentParams.hpp"
#include "swarm/SwarmEngine.hpp"

namespace fedswarm {

using SteadyClock = std::chrono::steady_clock;

// What to do once libtorrent reports a torrent removed from the session.
enum class AfterRemove : std::uint8_t { nothing, place, refetch, reseed };

struct Transfer {
  std::string id;
  TransferKind kind = TransferKind::fetch;
  Manifest manifest;
  ManifestTorrent torrent;
  lt::torrent_handle handle;  // invalid while not in the session
  LocalState state = LocalState::transferring;
  std::string activity;       // while not in the session: preparing, verifying, paused
  std::filesystem::path staging_root;  // fetch: <data_root>/.staging/<instance_id>
  std::filesystem::path final_dir;     // fetch: <data_root>/<DRS path>/<version>
  std::filesystem::path seed_dir;      // seed: the version directory served
  std::string last_error;
  std::vector<lt::tcp::endpoint> peers;
  std::int64_t rate_limit = 0;
  Bytes resume;                 // newest resume data
  bool resume_trusted = false;  // its pieces may be trusted (clean start, or saved by this run)
  bool seed_resume_saved = false;
  bool finishing = false;       // every piece passed: paused, then final resume data requested
  bool settled = false;         // finishing, and libtorrent confirmed the pause: writes are done
  std::uint64_t final_save = 0; // the resume-data request whose answer goes with placement
  // libtorrent confirmed a pause of the current handle (torrent_paused_alert): all its
  // disk jobs are complete. Reset when a handle is added.
  bool paused_confirmed = false;
  bool detach_pending = false;  // detach asked for the pause; remove when it is confirmed
  // Fetch: added paused so that it dials its peers at once when resumed after its check
  // (hold_until_checked, TorrentParams.hpp); it has not run: nothing was written.
  bool dial_hold = false;
  SteadyClock::time_point detach_since;
  bool removing = false;
  AfterRemove after_remove = AfterRemove::nothing;
  bool retryable = true;
  SteadyClock::time_point paused_at;
  std::uint32_t verify_failures = 0;  // true mismatches: a re-check found the staged copy intact
  std::uint32_t local_faults = 0;     // mismatches of blocks that had passed: the staged copy changed here
  bool rechecking = false;            // re-added after a local fault: the next check says what it found
  int recheck_bad_pieces = -1;        // pieces that re-check found missing or damaged (-1: no re-check yet)
  std::set<std::string> no_link;      // files not to link from earlier versions (a linked copy differed)
  std::uint32_t hash_failures = 0;
  std::uint64_t linked = 0;
  std::vector<LinkedFile> links;  // not downloaded: linked in at placement
  std::uint64_t bytes_done = 0;
  std::uint64_t downloaded_before = 0;  // payload of earlier torrents of this transfer (this run)
  std::uint64_t uploaded_before = 0;
  std::uint64_t epoch = 0;  // of the newest worker job; older completions are ignored
  std::uint64_t progress_mark = 0;    // verified bytes at progress_at (stall watchdog)
  SteadyClock::time_point progress_at;
  // Resume-data requests made for the current handle, and alerts received for them
  // (libtorrent answers each request with one alert, in order).
  std::uint64_t saves_requested = 0;
  std::uint64_t saves_answered = 0;
  // Fetch: whether resume data holding every file's piece layer has been stored since
  // the torrent was added; trees_save: the number of the request that will carry them
  // (0 = none outstanding); trees_check_at: when to look again whether libtorrent has
  // the layers.
  bool trees_stored = false;
  std::uint64_t trees_save = 0;
  SteadyClock::time_point trees_check_at;
  // One hash pass (SwarmEngine.hpp). Per piece of the torrent: `untrusted`, pieces a
  // handle already held when its check ended (torrent_checked_alert) that this run had
  // not verified itself — claimed by resume data or found in the staged files, so
  // verified (if at all) in an earlier run or not by a download — unless a
  // piece_finished_alert of that handle (a download that passed its merkle check; they
  // follow the checked alert) says it was downloaded again since; `fresh`, pieces held
  // when the last handle left the session (after its pause was confirmed) and not
  // untrusted: downloaded and checked block by block by this run. A handle removed
  // before its check was reported (or without a confirmed pause) makes all its new
  // pieces untrusted; lost alerts only make more pieces untrusted. A local fault clears
  // `fresh`: every file is read again after the re-check.
  std::vector<bool> untrusted;
  std::vector<bool> fresh;
  bool checked = false;  // the current handle reported the end of its check
  std::uint64_t rehashed = 0;  // bytes read again for their SHA-256 at placement (this run)
  // Seed: last time it had a peer or uploaded (idle unloading, eviction order).
  SteadyClock::time_point last_active;
  SteadyClock::time_point loaded_at;  // when its current handle was added
  bool seed_checking = false;         // its files are being hashed (begin_seed_check)
  std::int64_t last_uploaded = -1;
};

// A held version as its catalog row and manifest describe it; also a load by the session
// plugin waiting for its add_torrent_alert.
struct DemandLoad {
  std::string id;
  Manifest manifest;
  ManifestTorrent torrent;
  std::filesystem::path dir;
  Bytes resume;
  lt::address requester;  // the peer whose handshake caused the load
};

// "checking", "downloading", "seeding" or "paused", from libtorrent's status.
std::string activity_of(const lt::torrent_status& st);

// True if libtorrent holds the piece layer (the merkle hashes of whole pieces) of every
// file of `h` longer than one piece: with them in resume data, staged pieces can be
// verified after a crash without asking a peer. Blocking (syncs with libtorrent's
// network thread); copies the layers — call it sparingly.
bool piece_layers_complete(const lt::torrent_handle& h, const lt::torrent_info& ti);

struct SwarmEngine::Impl {
  static constexpr std::size_t kMaxPeersPerVersion = 128;
  static constexpr std::size_t kMaxPendingVersions = 10000;
  // How often an active fetch is asked whether it has all its piece layers yet.
  static constexpr std::chrono::milliseconds kTreesCheckInterval{500};
  // A detach waits this long for libtorrent to confirm the pause before removing the
  // torrent anyway (a confirmation that never comes must not wedge the transfer; the
  // pieces of that handle count as untrusted, so the SHA-256 check at placement still
  // catches a write that did not land).
  static constexpr std::chrono::seconds kPauseConfirmTimeout{120};

  SwarmEngineOptions opt;
  lt::address ip;
  std::uint16_t port = 0;
  bool clean = false;
  bool stopping = false;
  bool stopped = false;
  std::unique_ptr<lt::session> session;
  std::unique_ptr<SwarmWorker> worker;

  std::mutex wake_mu;
  std::function<void()> wake;

  std::map<std::string, Transfer, std::less<>> transfers;
  std::map<lt::torrent_handle, std::string> by_handle;
  std::map<lt::sha256_hash, std::string> by_hash;
  std::map<std::string, std::vector<lt::tcp::endpoint>, std::less<>> pending_peers;
  std::vector<SwarmEvent> events;
  SwarmCounters stats;
  std::set<std::string> banned;
  SteadyClock::time_point last_resume_save = SteadyClock::now();
  SteadyClock::time_point last_reconnect = SteadyClock::now();
  std::uint64_t next_epoch = 0;

  // Seeding on demand. `held` maps the 20-byte handshake hash (truncated v2 info-hash)
  // of every complete local version to its id; read by the gate on libtorrent's
  // thread, hence the mutex. `demanded`: loads made there, adopted on the owner thread.
  std::shared_ptr<SwarmGate> gate;
  mutable std::mutex held_mu;
  std::unordered_map<lt::sha1_hash, std::string> held;
  std::unordered_map<std::string, lt::sha1_hash> held_ids;
  std::mutex demand_mu;
  std::map<lt::sha1_hash, DemandLoad> demanded;
  std::deque<std::string> needs_check;  // guarded by demand_mu: held versions without trees
  // The catalog's local-change sequence up to which restore/restore_changed have read.
  std::uint64_t local_cursor = 0;
  // Torrents in the session (owner-maintained) and whether a load was refused for want
  // of room: the gate never loads past max_active_torrents; the owner makes room.
  std::atomic<std::size_t> loaded_count{0};
  std::atomic<bool> room_wanted{false};
  std::set<lt::address> members;       // as last applied by set_members
  std::map<lt::address, lt::tcp::endpoint> member_swarm;  // a member's swarm endpoint by address
  bool members_applied = false;
  lt::peer_class_t foreign_class{0};
  SteadyClock::time_point last_idle_check = SteadyClock::now();
  std::map<std::string, SteadyClock::time_point> refused_noted;  // rate limit of foreign_peer events

  ~Impl();

  std::int64_t now() const;
  std::filesystem::path marker() const { return opt.data_root / ".staging" / ".clean"; }
  void notify();  // any thread
  Status usable() const;
  Transfer* find(std::string_view id);
  Transfer* find(const lt::torrent_handle& h);
  Result<std::filesystem::path> drs_dir(const Manifest& m) const;
  Status refuse_retracted(const std::string& id) const;
  void add_peers(Transfer& t, const std::vector<lt::tcp::endpoint>& eps);
  Transfer& create(const Manifest& m, ManifestTorrent torrent, TransferKind kind);
  void forget(const std::string& id);

  // Catalog rows.
  void record(Transfer& t);
  void store_seed_resume(Transfer& t);

  // Asks libtorrent for the resume data of t's torrent (answered in on_resume_data).
  void request_resume(Transfer& t, lt::resume_data_flags_t flags);

  // Transitions.
  void pause_with(Transfer& t, std::string message, bool retryable);
  // Takes the torrent out of the session once libtorrent confirmed that all its disk
  // I/O is complete (pausing it first if need be); `then` runs when it is removed.
  void detach(Transfer& t, AfterRemove then);
  void remove_now(Transfer& t);
  void on_verify_failed(Transfer& t, const PlacementOutcome& out);
  Status add(Transfer& t, lt::add_torrent_params p);
  Status add_seed(Transfer& t);
  void begin_fetch(Transfer& t);
  void on_prepared(const std::string& id, std::uint64_t epoch, const Result<LinkedFiles>& linked);
  void submit_placement(Transfer& t, bool adopt);
  void on_placed(const std::string& id, std::uint64_t epoch, const PlacementOutcome& out);
  void restart(Transfer& t);

  // Alerts.
  void on_alert(lt::alert* a);
  void on_finished(const lt::torrent_handle& h);
  void on_resume_data(const lt::torrent_handle& h, const lt::add_torrent_params* params);
  // At the final save of a fetch libtorrent called finished: false if every wanted piece
  // passed; else the transfer is taken out and added again from resume data claiming
  // only the pieces held (`params`: the final save, null if it failed), and true.
  bool refetch_missing(Transfer& t, const lt::torrent_handle& h, const lt::add_torrent_params* params);
  void on_removed(const lt::sha256_hash& v2);
  void on_paused(const lt::torrent_handle& h);
  void end_hold(const lt::torrent_handle& h);
  void settle(Transfer& t);
  void on_checked(const lt::torrent_handle& h);
  // One hash pass bookkeeping: the pieces `have` of t's handle at the end of its check,
  // and when it leaves the session.
  void note_checked(Transfer& t, const lt::typed_bitfield<lt::piece_index_t>& have);
  void on_piece_passed(const lt::torrent_handle& h, lt::piece_index_t piece);
  void note_removed(Transfer& t, const lt::typed_bitfield<lt::piece_index_t>& have);
  // Manifest paths of the files of t (not linked) whose every piece is fresh.
  std::set<std::string> trusted_files(const Transfer& t) const;
  void on_disk_error(const lt::torrent_handle& h, std::string message);
  void handle_alerts();

  // Seeding on demand.
  void hold(const std::string& id, const Manifest& m);
  void unhold(const std::string& id);
  // A complete local copy with its manifest and torrent (nullopt: not complete here).
  std::optional<DemandLoad> read_held(const std::string& id) const;
  std::optional<lt::add_torrent_params> load_on_demand(const lt::sha1_hash& h, const lt::address& from);  // libtorrent's thread
  void adopt(const lt::torrent_handle& h, const lt::sha256_hash& v2);
  void unload(Transfer& t);
  void begin_seed_check(Transfer& t);
  void on_seed_checked(const std::string& id, std::uint64_t epoch, Result<lt::add_torrent_params> p);
  void unload_idle(SteadyClock::time_point t_now);
  void apply_members();
  void on_foreign(const std::string& address, const std::string& what);

  // Resume-data saves, re-dials, retries and stall restarts when due.
  void tick();
  // True if an active fetch made no progress for opt.stall_timeout (checked on re-dials).
  bool stalled_now(Transfer& t, SteadyClock::time_point t_now);
};

}  // namespace fedswarm
