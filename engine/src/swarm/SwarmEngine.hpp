// SwarmEngine: this node's libtorrent session (DESIGN §5) — seeds every complete local
// replica, fetches the dataset versions it is asked for into a staging area, verifies
// them against their signed manifests, places them atomically in the DRS tree, records
// them in the catalog with a signed replica record, and keeps seeding them.
//
// What it does
// - One lt::session, TCP only (no uTP), no DHT/LSD/UPnP/NAT-PMP, no trackers, listening
//   on exactly `listen_ip:port` (no fallback port; `start` fails if it cannot bind).
//   Outgoing connections leave from `listen_ip`, since peers are told apart (and banned)
//   by address. Peers come only from `add_peer` / FetchOptions::peers — replica records
//   and roster endpoints, chosen by the daemon. Every peer is in libtorrent's global
//   peer class (local addresses included), so the rate limits below apply to all;
//   unchoke slots are unlimited: a federation is a few dozen trusted sites.
// - The torrent of a version is built from the bencoded v2 info dict in its signed
//   manifest (never a magnet link or peer-supplied metadata); libtorrent checks every
//   16 KiB block against the signed per-file merkle roots and bans (by address) a peer
//   whose blocks fail. Files are allocated in full when first opened, so a full disk is
//   an error on that file rather than a fault in the middle of a memory-mapped write.
// - fetch: downloads into `<data_root>/.staging/<instance_id>/<version>/`. Files whose
//   v2 merkle root and size equal a file of an earlier complete local version of the
//   dataset are not downloaded (priority 0) and are hard-linked (copied across file
//   systems) into the staged directory at placement (see StagingArea.hpp for why not
//   earlier). When every wanted piece has passed, the torrent leaves the session and a
//   worker thread checks each file's size, and the SHA-256 of every file not verified
//   in this run (below), against the manifest, fsyncs the files and directories,
//   renames the version directory to
//   `<data_root>/<DRS path>/<version>` (one rename: nothing unverified ever appears in
//   the DRS tree), fsyncs both parents, and in one catalog transaction records the
//   LocalReplica `complete` and appends a signed ReplicaRecord (complete). Then the
//   version is seeded from there. Placement starts only once libtorrent confirmed a
//   pause of the finished torrent: libtorrent 2.0 passes pieces from its store buffer
//   before their blocks are written, and only the pause waits for those writes.
//   One hash pass: a file all of whose pieces libtorrent verified against the signed
//   merkle roots in this run of the process (downloaded, each block checked on
//   arrival) is not read again; its size is checked and it is fsynced. Read again
//   (SHA-256, counted in SwarmCounters::bytes_rehashed) are the linked files, files
//   with pieces libtorrent held when its check of the staged files ended (claimed by
//   resume data, even a clean stop's, or found by a re-check after a crash or a local
//   fault: verified in an earlier run, or not by a download), all files after a local
//   fault, and an adopted DRS directory. The manifest's SHA-256 stays the user-facing
//   checksum (`fedswarm verify --full`, the file server's ETag): a publisher whose
//   SHA-256 contradicts its own merkle roots is found only by such a re-read.
//   A file whose SHA-256 then differs changed on this node although its blocks passed
//   their merkle checks (a local fault, counted apart): the staged files are re-checked
//   by libtorrent against the signed merkle roots and only the failing pieces are
//   fetched again (a linked file that differs is downloaded instead). If the re-check
//   finds every piece intact, the manifest's SHA-256 contradicts the publisher's merkle
//   roots: the transfer is paused and names the publisher. After
//   `max_verify_failures` local faults in a row it is paused too (check the disk).
//   If the DRS directory already exists when a fetch starts (a crash between the rename
//   and the catalog commit), it is verified in place and recorded, or the transfer is
//   paused with an error if it does not match.
//   Catalog states: wanted → transferring → verifying → complete; or paused (with
//   last_error) on an error.
// - Seeding on demand: a complete local replica is *held* (indexed by its info-hash),
//   not loaded: `restore` loads none but the fetches. A peer's BitTorrent handshake for
//   a held version makes the session plugin (SwarmGate.hpp) add it at once, from the
//   signed manifest and the merkle trees stored in its catalog row (resume data), in
//   seed mode: nothing is read or hashed then; libtorrent verifies each piece the first
//   time a peer asks for it. A loaded seed leaves the session after `seed_idle` without
//   a peer or an upload; beyond `max_active_torrents` loaded torrents, the least
//   recently active seeds leave first. Fetches are never unloaded.
//   A held version without stored trees (a publisher's version the first time) is
//   hash-checked once in full — libtorrent needs the trees to answer peers — and the
//   resulting resume data is stored; such checks run while fewer than
//   max_active_torrents torrents are loaded. `seed` loads a version at once (a publish,
//   a placement). Seeds are added in upload mode: libtorrent never writes into a seeded
//   directory. A seed whose files do not match (found by a check) keeps serving its
//   good pieces and is reported (SwarmEvent::seed_damaged); `fedswarm verify` decides.
// - Who may connect (`set_members`): roster members only (an IP filter: other
//   addresses are refused before the handshake and counted), or anyone (non-members
//   counted, in a peer class with `foreign_upload_rate_limit`). Foreign addresses are
//   never dialled: they are cleared from a torrent's peer list when they disconnect,
//   and a connection to one is closed at its handshake.
// - Resume data: saved to LocalReplica.resume_data every `resume_save_interval` for
//   active fetches, as soon as a fetch's torrent holds the piece layers (merkle hashes
//   of whole pieces) of all its files (libtorrent gets them from peers; the manifest
//   has only the roots), when a fetch finishes, and by `stop`. `stop` writes the
//   clean-stop marker `<data_root>/.staging/.clean`; `start` reads and removes it.
//   After a start without the marker (a crash, a kill, or destruction without `stop`),
//   resume data written by the previous run is used only for its merkle trees and
//   peers: its have-pieces are dropped, so libtorrent re-checks the staged files before
//   trusting any piece. With the piece layers stored, the re-check verifies staged
//   pieces by itself; without them (a crash before they were stored) it can verify
//   nothing until a peer sends them again, and then each staged piece that is not
//   complete counts as a hash failure (no peer is blamed for it).
// - Stalls: an active fetch whose verified bytes do not grow for `stall_timeout` is
//   taken out of the session and added again from its resume data. (libtorrent 2.0.8
//   can wedge a v2 torrent with one-block pieces after a corrupt piece: it keeps asking
//   peers for that block's hash and refusing the answers.)
// - Errors on disk (full disk, permissions, a missing data root, a file in the way):
//   the transfer is paused, its catalog row gets state `paused` and last_error (what
//   failed, what to do, and when it is retried by itself); nothing is placed.
//   `resume_paused` retries at once; paused transfers are also retried every
//   `retry_interval` (except after repeated verification failures or a mismatching DRS
//   directory, which need an operator).
//
// Threading
// - Every member function must be called from one thread, the owner (the daemon's io
//   thread): start, seed, fetch, restore, restore_changed, add_peer, remove,
//   resume_paused, poll, transfers, counters, stop and the destructor. None blocks for
//   long except `start` (waits for the listen result, at most start_timeout), `stop`
//   (waits for resume data, at most stop_timeout) and both `stop` and the destructor,
//   which wait for the worker to finish the file it is hashing.
// - libtorrent runs its own threads; alerts are handled only in `poll`, on the owner
//   thread. Call it periodically (e.g. every 100–500 ms); `set_wakeup` registers a
//   callback (called from libtorrent's or the worker's thread; it must only post, e.g.
//   asio::post(io, [&]{ engine.poll(); })) so `poll` can run as soon as there is work.
// - Preparing staging (links, copies) and verification/placement (SHA-256 of whole
//   versions, fsync, rename, the catalog commit) run in order on one worker thread owned
//   by the engine; `poll` collects the results. The catalog is used from both threads
//   (Catalog is thread-safe).
//
// Wiring (the daemon): start with the IP of [network] listen and [network] swarm_port,
// then `restore()` (and `restore_changed()` whenever a CLI command changed the catalog);
// `seed()` each version this node publishes; `fetch()` what policy wants; `add_peer()`
// for each replica record / roster member (its endpoint host and swarm_port); `remove()`
// on a retraction or a withdrawal; `poll()` on a timer and from the wakeup; `stop()` on
// shutdown.
//
// Errors (Result/Status): `invalid` (manifest whose info dict does not describe its
// files, bad endpoint, bad options), `conflict` (a retracted version; seeding a version
// that is being fetched), `not_found` (no directory to seed; a catalog row without its
// manifest, in restore), `io` (listen failure, catalog failure, marker), `unavailable`
// (after stop). Failures of a transfer itself are not errors of
// these calls: they are reported in `transfers`, the catalog and poll's events.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <libtorrent/fwd.hpp>
#include <libtorrent/io_context.hpp>

#include "fedswarm/protocol/Manifest.hpp"
#include "fedswarm/protocol/ProjectTemplate.hpp"
#include "fedswarm/protocol/SigningKey.hpp"
#include "fedswarm/storage/Catalog.hpp"
#include "fedswarm/storage/ForEachLocal.hpp"

namespace fedswarm {

struct SwarmEngineOptions {
  // IP literal to listen on and to connect from ("0.0.0.0" or "::": every interface,
  // outgoing connections from the system's choice). The node config's swarm host.
  std::string listen_ip;
  std::uint16_t port = 0;  // [network] swarm_port; 0 = a free port (tests), see listen_port()
  std::filesystem::path data_root;  // must exist when a fetch starts (else it is paused)
  Catalog* catalog = nullptr;                 // required; must outlive the engine
  const SigningKey* key = nullptr;            // required; signs replica records
  const ProjectRegistry* projects = nullptr;  // required; DRS paths of dataset ids
  std::function<std::int64_t()> clock;        // unix seconds for records; empty = system clock
  std::chrono::milliseconds resume_save_interval{30'000};
  std::chrono::milliseconds retry_interval{60'000};     // paused transfers; 0 = only resume_paused()
  // Known peers of active fetches are named to libtorrent again this often; a peer
  // whose connection failed k times is dialled again after (k+1) x this (k <= 31), for
  // ever: a seeder down when a fetch began is found when it comes back.
  std::chrono::milliseconds reconnect_interval{5'000};
  // An active fetch whose verified bytes have not grown this long is taken out of the
  // session and added again (0 = never); checked every reconnect_interval.
  std::chrono::milliseconds stall_timeout{120'000};
  std::chrono::milliseconds start_timeout{10'000};
  std::chrono::milliseconds stop_timeout{10'000};
  std::int64_t upload_rate_limit = 0;    // bytes/s over all peers; 0 = unlimited
  std::int64_t download_rate_limit = 0;  // bytes/s over all peers; 0 = unlimited
  std::uint32_t max_verify_failures = 3;  // local faults in a row before a transfer is paused
  // Seeding on demand: a loaded seed with no peer and no upload for this long leaves
  // the session (0 = never); at most max_active_torrents torrents are loaded (fetches
  // and seeds; idle seeds leave first, least recently active first; 0 = no limit).
  std::chrono::milliseconds seed_idle{300'000};
  std::size_t max_active_torrents = 500;
  // Who may connect: false = roster members only (an IP filter from set_members);
  // true = anyone, non-members in their own peer class with this upload limit
  // (bytes/s, 0 = only the session's limit).
  bool peers_anyone = false;
  std::int64_t foreign_upload_rate_limit = 0;
  // Tests only: replaces libtorrent's disk subsystem (e.g. one that holds writes back).
  // Empty = libtorrent's default.
  std::function<std::unique_ptr<libtorrent::disk_interface>(libtorrent::io_context&, const libtorrent::settings_interface&,
                                                          libtorrent::counters&)>
      disk_io;
  // Tests only: libtorrent plugins added to the session (e.g. one that makes a torrent
  // finish with a piece missing, as libtorrent 2.0.8's double-passed piece does).
  std::vector<std::shared_ptr<libtorrent::plugin>> plugins;
};

struct FetchOptions {
  std::vector<std::string> peers;        // "ip:port" ("[v6]:port") to connect to at once
  std::int64_t download_rate_limit = 0;  // bytes/s for this transfer; 0 = unlimited
};

enum class TransferKind : std::uint8_t { fetch, seed };
std::string_view to_string(TransferKind k);

// One row of `fedswarm transfers`.
struct TransferInfo {
  std::string instance_id;
  TransferKind kind = TransferKind::fetch;
  LocalState state = LocalState::transferring;  // transferring, verifying, complete (seeding), paused
  // What it is doing now: "checking", "downloading", "verifying", "seeding", "paused".
  std::string activity;
  // Progress: bytes_received + bytes_linked, never above bytes_total (complete: bytes_total).
  std::uint64_t bytes_done = 0;
  std::uint64_t bytes_total = 0;
  // Of the files to download: bytes of pieces that passed their merkle check (received,
  // or found staged by a check). A seed: bytes_total - bytes_linked.
  std::uint64_t bytes_received = 0;
  // Files not downloaded: hard-linked or copied from an earlier local version.
  std::uint64_t bytes_linked = 0;
  // Whole files checked for placement (size, and SHA-256 unless verified in this run):
  // bytes_total once placed (and for every seed), 0 before.
  std::uint64_t bytes_verified = 0;
  std::uint64_t bytes_downloaded = 0;  // payload received from peers since start() (with duplicates, refetches)
  std::uint64_t bytes_uploaded = 0;    // payload sent to peers since start()
  std::int64_t download_rate = 0;      // payload bytes/s
  std::int64_t upload_rate = 0;
  int peers = 0;
  std::int64_t eta_seconds = -1;       // -1 = unknown
  // SHA-256 mismatches that a re-check showed to be the publisher's: libtorrent found
  // every staged piece matching the signed merkle roots, yet a file's SHA-256 differs.
  std::uint32_t verify_failures = 0;
  // SHA-256 mismatches of data whose blocks had passed their merkle checks: the staged
  // copy changed on this node (a lost write, a damaged disk, a rotten linked copy). Each
  // is followed by a re-check of the staged files and a fetch of the failing pieces.
  std::uint32_t local_faults = 0;
  // Pieces that failed their merkle check: corrupt data from peers (the peer is banned),
  // or, after a crash before the piece layers were stored, incomplete staged pieces.
  std::uint32_t hash_failures = 0;
  std::string path;                    // version directory: staging while fetching, then final
  std::string last_error;
};

struct SwarmEvent {
  enum class Type : std::uint8_t {
    placed,         // detail = final path; record_seq = the replica record (0 if refused: see message)
    verify_failed,  // detail = what did not match; the publisher's manifest contradicts itself (paused)
    local_fault,    // detail = what did not match; re-checked and the failing pieces fetched again
    paused,         // detail = last_error
    seed_damaged,   // detail = what the check found
    peer_banned,    // detail = peer address (instance_id of the torrent it was banned in)
    foreign_peer,   // detail = "<address> refused|served|dial refused" (at most one a minute per address)
    // detail = how many pieces libtorrent called finished were missing; they are fetched
    // again (libtorrent 2.0.8 can count one piece as verified twice)
    incomplete_finish,
  };
  Type type = Type::placed;
  std::string instance_id;
  std::string detail;
  std::uint64_t record_seq = 0;
};
std::string_view to_string(SwarmEvent::Type t);

struct SwarmCounters {
  std::uint64_t placed = 0;
  std::uint64_t verify_failures = 0;  // the publisher's mismatches (see TransferInfo)
  std::uint64_t local_faults = 0;     // mismatches after every block had passed (see TransferInfo)
  std::uint64_t hash_failures = 0;
  std::uint64_t file_errors = 0;
  std::uint64_t resume_saves = 0;
  std::uint64_t stall_restarts = 0;
  // Downloads libtorrent reported finished with pieces still missing, which were then
  // fetched (see SwarmEvent::Type::incomplete_finish).
  std::uint64_t incomplete_finishes = 0;
  // Placement: bytes read again for their SHA-256 (linked, resumed, re-checked or
  // adopted files), and bytes placed without a re-read (every piece verified by
  // libtorrent against the signed merkle roots in this run).
  std::uint64_t bytes_rehashed = 0;
  std::uint64_t bytes_trusted = 0;
  std::vector<std::string> banned_peers;  // addresses, sorted
  // Seeding on demand.
  std::uint64_t held = 0;              // complete local versions that can be served
  std::uint64_t loaded = 0;            // torrents in the session now (fetches and seeds)
  std::uint64_t on_demand_loads = 0;   // seeds loaded because a peer asked for them
  std::uint64_t on_demand_misses = 0;  // peers asking for a torrent not held here
  std::uint64_t idle_unloads = 0;      // seeds unloaded after seed_idle without a peer
  std::uint64_t evictions = 0;         // seeds unloaded to stay within max_active_torrents
  std::uint64_t full_checks = 0;       // seeds added without stored trees: every piece read and hashed
  // Loads on demand whose asking connection libtorrent closed instead of attaching it
  // (e.g. torrent_not_ready while the new torrent checked its resume data): that peer
  // had to dial again. Must stay 0.
  std::uint64_t peers_dropped_not_ready = 0;
  // Foreign peers (not roster members).
  std::uint64_t foreign_refused = 0;        // connections refused by the members-only filter
  std::uint64_t foreign_served = 0;         // connections served (peers = anyone)
  std::uint64_t foreign_dials_refused = 0;  // connections to foreign addresses closed (never dialled)
  // Pieces this node, seeding, suggested to member fetchers so that none is sent twice
  // (PieceSpreader).
  std::uint64_t pieces_suggested = 0;
};

// What `restore` / `restore_changed` re-added.
struct RestoreReport {
  std::size_t seeding = 0;   // versions newly held
  std::size_t fetching = 0;
  std::vector<Error> errors;  // one per version that could not be added (with its id)
  std::size_t rows_read = 0;  // local replica rows read from the catalog (what the call cost)
};

class SwarmEngine {
 public:
  // Opens the session and waits until it listens (or fails to). Reads and removes the
  // clean-stop marker. Errors: invalid (options), io (reason swarm_listen_failed).
  static Result<std::unique_ptr<SwarmEngine>> start(SwarmEngineOptions options);
  // Without a prior `stop`, behaves like a crash: no resume data is saved and no
  // clean-stop marker is written (the worker finishes the verification in progress).
  ~SwarmEngine();
  SwarmEngine(const SwarmEngine&) = delete;
  SwarmEngine& operator=(const SwarmEngine&) = delete;

  std::uint16_t listen_port() const;
  std::string listen_endpoint() const;  // "ip:port", for add_peer at other nodes
  // Whether the previous run stopped cleanly (the marker was present at start).
  bool clean_start() const;

  // Seeds a complete local copy of `manifest` held in `version_dir` (its name is the
  // version). Idempotent. Errors: invalid (info dict), not_found (no directory),
  // conflict (retracted, or being fetched).
  Status seed(const Manifest& manifest, const std::filesystem::path& version_dir);
  // Fetches, verifies and places `manifest`'s version (see above). Idempotent: for a
  // version already in the engine it only adds the peers; for one complete in the
  // catalog it seeds it. Errors: invalid, conflict (retracted), io (catalog).
  Status fetch(const Manifest& manifest, const FetchOptions& options = {});
  // Re-adds every local replica of the catalog not yet in the engine: complete ones are
  // held (and what a crash left of their staging root is removed),
  // wanted/transferring/verifying/paused ones fetched; retracted versions are skipped.
  // Call after start. Reads the rows kRestorePage at a time without their resume data
  // (a held version's is read when it is loaded), so memory does not grow with what
  // the catalog holds beyond the held index itself.
  Result<RestoreReport> restore();
  // The same for the local replicas whose catalog rows were written since the last
  // restore or restore_changed (the catalog's local-change sequence): costs what
  // changed, not what is held. Call whenever the catalog changed underneath (a CLI
  // command's notify). Before any `restore`, it reads the changes since the start of the
  // sequence (rows written by an older fedswarm are then missed: call `restore` first).
  Result<RestoreReport> restore_changed();
  // Rows read per catalog transaction by restore and restore_changed.
  static constexpr std::size_t kRestorePage = kLocalPage;
  // Adds a peer ("ip:port") for a version, connecting at once if it is in the engine,
  // else remembered for when it is added. Errors: invalid (endpoint).
  Status add_peer(std::string_view instance_id, std::string_view endpoint);
  // The roster's members: their swarm endpoints ("host:port"; a host name is resolved
  // here, blocking). With peers_anyone false, only these addresses and this node's own
  // may connect (or be connected to); with true, they are members and every other
  // address is foreign (served, rate-limited, never dialled). Cheap when unchanged.
  // Errors: none (an endpoint that cannot be resolved is skipped and reported in the
  // returned text, empty when all were used).
  std::string set_members(const std::vector<std::string>& endpoints);
  // Stops seeding or fetching a version (retracted, withdrawn by verify, unsubscribed).
  // Files and the catalog row stay as they are; a staged fetch can be resumed later.
  Status remove(std::string_view instance_id);
  // Gives up a fetch for good (e.g. the Tier-1 rule passed the version to another node):
  // `remove`, then its catalog row becomes `dropped` with `why` as last_error and no
  // resume data (so `restore` does not fetch it again), and its staging root
  // `<data_root>/.staging/<instance_id>` is deleted. A later `fetch` starts afresh.
  // Nothing to do for a seed, a complete replica or an unknown version. Errors:
  // conflict (reason swarm_placing: being verified and placed, which may be committing;
  // call again later), io (catalog).
  Status cancel(std::string_view instance_id, std::string_view why);
  // Retries paused transfers now (one, or all when `instance_id` is empty).
  Status resume_paused(std::string_view instance_id = {});

  // Handles libtorrent alerts and finished verifications, saves resume data and
  // retries/re-dials when due. Returns what happened since the last call.
  std::vector<SwarmEvent> poll();
  std::vector<TransferInfo> transfers() const;
  SwarmCounters counters() const;
  // `wake` is called (from any thread) when poll() has work; it must not block.
  void set_wakeup(std::function<void()> wake);

  // Clean stop: saves resume data of every active transfer in the catalog, waits for the
  // verification in progress, closes the session and writes the clean-stop marker. The
  // engine is unusable afterwards (calls return `unavailable`). Errors: io (marker).
  Status stop();

 private:
  SwarmEngine();
  // restore's work for one row (`l` may lack its resume data).
  void restore_row(const LocalReplica& l, RestoreReport& report);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fedswarm
