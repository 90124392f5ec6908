// Catalog: one node's LMDB environment (DESIGN §6) — the record log, the version vector,
// dataset versions with status and latest flag, the facet search index, the tracking_id
// and SHA-256 indexes, replica locations, claims, the roster, conflicts, and local
// replica state.
//
// Contract
// - Every logical change (one record with all its index updates, one local-state
//   change) is exactly one LMDB write transaction: after a crash (SIGKILL at any point)
//   the catalog opens and holds each change fully or not at all.
// - The map grows on demand: MDB_MAP_FULL aborts the transaction, the map is enlarged
//   and the whole change is retried, so no update is ever lost; other processes pick up
//   the new size (MDB_MAP_RESIZED). Stale reader slots of dead processes are cleared at
//   open (mdb_reader_check).
// - Several processes may open the same catalog (the node daemon and CLI commands);
//   writes serialize on LMDB's writer lock. Within a process a Catalog may be used from
//   any thread; each call uses its own transaction.
// - Receipt rules (DESIGN §3): `ingest` applies rules 1, 2, 4 through RecordValidator
//   and rules 3 (sequence: replays ignored, gaps parked until the missing records
//   arrive) and 5 (immutability: a second, different manifest for a dataset version is
//   refused and kept as a conflict) itself. A refused record changes nothing else.
// - Errors: `io` for LMDB/OS failures (message names the path and what to do),
//   `not_found`, and the validator's `invalid`/`unauthorized`/`conflict` for records.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fedswarm/protocol/Claim.hpp"
#include "fedswarm/protocol/Envelope.hpp"
#include "fedswarm/protocol/Manifest.hpp"
#include "fedswarm/protocol/ProjectTemplate.hpp"
#include "fedswarm/protocol/ReplicaRecord.hpp"
#include "fedswarm/protocol/Retraction.hpp"
#include "fedswarm/protocol/Roster.hpp"
#include "fedswarm/protocol/SigningKey.hpp"
#include "fedswarm/storage/SearchQuery.hpp"

namespace fedswarm {

struct CatalogOptions {
  std::filesystem::path dir;                 // created if missing (unless read_only)
  bool read_only = false;                    // offline CLI queries
  // LMDB's map starts at this size and doubles on demand (tests start it tiny to
  // exercise growth).
  std::uint64_t initial_map_bytes = 64u << 20;
  std::uint64_t max_map_bytes = 1ull << 40;  // growth stops here with an `io` error
  // false: commits are not flushed to disk (MDB_NOSYNC | MDB_NOMETASYNC). A crash of the
  // machine (not of the process) may then lose the last commits, or, with a file system
  // that reorders writes, corrupt the catalog. For simulations and benches that run
  // hundreds of catalogs, never for a node.
  bool durable = true;
};

enum class IngestOutcome : std::uint8_t {
  stored,     // applied (and possibly released parked successors)
  duplicate,  // seq already applied (replay or relay of a known record): no change
  parked,     // seq beyond the next expected: kept until the gap is filled
  refused,    // failed a receipt rule: `error` says which; nothing changed
};
std::string_view to_string(IngestOutcome o);

struct IngestResult {
  IngestOutcome outcome = IngestOutcome::refused;
  std::optional<Error> error;  // set when refused
  // Records applied by this call besides the ingested one (parked successors).
  std::uint32_t released = 0;
  // Instance ids whose version, replica or claim rows this call changed (the record's
  // version; for a manifest also the version it superseded as newest), the released
  // successors' included, in application order, possibly repeated. What the
  // one-Tier-1-copy rule must look at again.
  std::vector<std::string> touched;
  bool roster_changed = false;  // a newer roster became current
};

enum class VersionStatus : std::uint8_t { published, superseded, retracted };
std::string_view to_string(VersionStatus s);

struct RetractionInfo {
  PublicKey author;
  std::string reason;
  std::string errata_id;
  std::int64_t retracted_at = 0;
};

struct ReplicaLocation {
  PublicKey node;
  std::string site;  // from the roster at receipt; empty if not a member
  ReplicaState state = ReplicaState::complete;
  std::int64_t at = 0;
};

struct ClaimInfo {
  PublicKey node;
  ClaimAction action = ClaimAction::take;
  std::int64_t deadline = 0;
  std::int64_t made_at = 0;
};

struct VersionInfo {
  std::string dataset_id;
  std::string version;
  PublicKey publisher;
  std::uint64_t seq = 0;        // the manifest's seq in the publisher's log
  std::string data_node;        // publisher's site
  VersionStatus status = VersionStatus::published;
  bool latest = false;
  std::string supersedes;       // as named by the manifest
  std::string superseded_by;    // the next newer version of the dataset, or empty
  std::optional<RetractionInfo> retraction;
  std::uint64_t size = 0;
  std::uint64_t number_of_files = 0;
  std::int64_t published_at = 0;
  std::uint32_t doc = 0;        // the catalog's dense number of the version (arrival order)

  std::string instance_id() const { return dataset_id + "." + version; }
};

// Everything the one-Tier-1-copy rule reads about one version: the version, the latest
// replica record and claim of each node, and the nodes holding a complete replica of
// the version it supersedes (as named by its manifest).
struct VersionCase {
  VersionInfo version;
  std::vector<ReplicaLocation> replicas;
  std::vector<ClaimInfo> claims;
  std::vector<PublicKey> previous_holders;
};

// One node's holdings, maintained as records arrive (so reading them costs nothing
// however large the catalog). `held`: versions whose latest replica record by the node
// is complete, or that the node published and has not signed a dropped record for (the
// primary copy). `complete`: latest replica record complete only (what the Tier-1
// capacity ledger counts). Sizes are the versions' (0 while a record's manifest has not
// arrived); retracted versions count until dropped.
struct NodeTotals {
  std::uint64_t held_versions = 0, held_bytes = 0;
  std::uint64_t complete_versions = 0, complete_bytes = 0;
  bool operator==(const NodeTotals&) const = default;
};

// A file located through an index.
struct FileRef {
  std::string instance_id;
  std::string path;
};

struct ConflictInfo {
  std::string instance_id;
  PublicKey author;        // author of the refused manifest
  std::uint64_t seq = 0;
  Sha256 stored_digest;    // digest of the manifest kept
  Sha256 refused_digest;   // digest of the manifest refused
  std::int64_t seen_at = 0;
};

enum class LocalState : std::uint8_t {
  wanted, transferring, verifying, complete, quarantined, dropped, paused
};
std::string_view to_string(LocalState s);

// Everything the one-Tier-1-copy rule reads, from one read transaction (a consistent
// snapshot): every version (retracted and superseded too; each dataset's oldest first)
// and the latest replica and claim record of each node for each version.
struct ReplicationState {
  struct Replica {
    std::string instance_id;
    ReplicaLocation location;
  };
  struct Claim {
    std::string instance_id;
    ClaimInfo claim;
  };
  std::vector<VersionInfo> versions;
  std::vector<Replica> replicas;
  std::vector<Claim> claims;
};

struct LocalReplica {
  std::string instance_id;
  LocalState state = LocalState::wanted;
  std::string path;   // absolute path of the version directory once placed (or published)
  std::string last_error;
  Bytes resume_data;  // libtorrent resume data, opaque here
  std::uint64_t bytes_done = 0;
  std::int64_t updated_at = 0;
  // Bytes of resume data stored in the row: set by every read, also when resume_data is
  // left out (locals_after); ignored by writes.
  std::uint64_t resume_size = 0;
};

// Local rows written after a point of the local-change sequence (local_changes_after).
struct LocalChanges {
  std::vector<std::string> instance_ids;  // in change order, each at its latest change only
  std::uint64_t last = 0;                 // the change of the last id listed (`after` if none): the next `after`
};

using VersionVector = std::map<PublicKey, std::uint64_t>;

class Catalog {
 public:
  // Opens (creating if needed, unless read-only) the environment in `options.dir`.
  // `projects` must outlive the catalog.
  static Result<std::unique_ptr<Catalog>> open(const CatalogOptions& options,
                                               const ProjectRegistry& projects);
  virtual ~Catalog() = default;

  // --- federation identity -------------------------------------------------------
  // The pinned federation authority key (zero until pinned).
  virtual Result<PublicKey> authority() const = 0;
  // Pins the authority key; `conflict` if a different key is already pinned.
  virtual Status pin_authority(const PublicKey& key) = 0;
  // The current roster (newest valid serial), if any.
  virtual Result<std::optional<Roster>> roster() const = 0;
  // Out-of-band import (`fedswarm federation import`): a roster envelope signed by the
  // pinned authority becomes current if its serial is higher and it has not expired.
  // The envelope also enters the record log in sequence when its turn comes via
  // gossip. Errors: unauthorized (wrong author, bad signature), invalid (expired,
  // stale serial).
  virtual Status import_roster(const Envelope& env, std::int64_t now) = 0;

  // --- records -------------------------------------------------------------------
  // Status of a version: retracted if a retraction exists; else superseded if a newer
  // version (by version string) exists; else published. `latest` is the newest version
  // unless it is retracted (then no version of the dataset is latest).
  virtual Result<IngestResult> ingest(const Envelope& env, std::int64_t now) = 0;
  // Several records in one write transaction (gossip batches, bulk loads); results in
  // input order. `signatures_checked` skips re-verifying signatures the caller
  // verified already (e.g. on a worker thread); every other rule still applies.
  // Larger batches amortise the commit (fsync) and index page writes: bulk loads should
  // pass thousands of records at once.
  virtual Result<std::vector<IngestResult>> ingest_batch(std::span<const Envelope> envs,
                                                         std::int64_t now,
                                                         bool signatures_checked = false) = 0;
  // Signs `body` as the next record of `key`'s log and ingests it, in one transaction.
  // The record must pass every receipt rule (e.g. the key must be granted the
  // institution) or nothing is stored. With `local`, that local replica row is written
  // in the same transaction (publish: the record and "this node holds it" land together).
  virtual Result<Envelope> append_local(const SigningKey& key, RecordKind kind, Bytes body,
                                        std::int64_t now, const LocalReplica* local = nullptr) = 0;
  // Signs each of `bodies` as the next records of `key`'s log (consecutive seqs, in
  // order) and ingests them, all in one transaction: either every record passes every
  // receipt rule and all are stored, or the first refusal is returned (its context
  // names the record's index in `bodies`) and nothing is stored (e.g. `fedswarm
  // retract --errata-file`). No bodies: no records, no transaction.
  virtual Result<std::vector<Envelope>> append_local_batch(const SigningKey& key, RecordKind kind,
                                                           std::span<const Bytes> bodies, std::int64_t now) = 0;

  virtual Result<VersionVector> version_vector() const = 0;
  // Records of `author` with seq > after, in seq order, at most `max_records` and about
  // `max_bytes` of encoded envelopes (at least one record if any).
  virtual Result<std::vector<Envelope>> records_after(const PublicKey& author, std::uint64_t after,
                                                      std::size_t max_records,
                                                      std::size_t max_bytes) const = 0;
  virtual Result<std::uint64_t> record_count() const = 0;

  // --- dataset versions ------------------------------------------------------------
  virtual Result<std::optional<VersionInfo>> version(std::string_view instance_id) const = 0;
  // Every version of a dataset, oldest first.
  virtual Result<std::vector<VersionInfo>> versions_of(std::string_view dataset_id) const = 0;
  virtual Result<Manifest> manifest(std::string_view instance_id) const = 0;
  // Every file of every stored version with this tracking id / SHA-256, in the order
  // the versions were stored (an unchanged file appears in each version that carries it).
  virtual Result<std::vector<FileRef>> find_tracking_id(std::string_view tracking_id) const = 0;
  virtual Result<std::vector<FileRef>> find_sha256(const Sha256& digest) const = 0;
  virtual Result<SearchResult> search(const SearchQuery& query) const = 0;
  // Names of every indexed facet.
  virtual Result<std::vector<std::string>> facet_names() const = 0;

  virtual Result<std::vector<ReplicaLocation>> replicas(std::string_view instance_id) const = 0;
  virtual Result<std::vector<ClaimInfo>> claims(std::string_view instance_id) const = 0;
  virtual Result<std::vector<ConflictInfo>> conflicts() const = 0;
  // O(versions + replica and claim records): for tests and small catalogs; the engine
  // reads cases (below) instead.
  virtual Result<ReplicationState> replication_state() const = 0;
  // The rule's inputs for one version (nullopt: not stored), by instance id or doc.
  virtual Result<std::optional<VersionCase>> version_case(std::string_view instance_id) const = 0;
  virtual Result<std::optional<VersionCase>> version_case(std::uint32_t doc) const = 0;
  // The cases of docs [first, first + max) in doc order, from one read transaction;
  // fewer (none) past the last doc.
  virtual Result<std::vector<VersionCase>> version_cases(std::uint32_t first, std::size_t max) const = 0;
  // The number of docs (versions) stored: the next doc id.
  virtual Result<std::uint32_t> doc_count() const = 0;
  // The doc of a stored version (nullopt: not stored).
  virtual Result<std::optional<std::uint32_t>> doc_of(std::string_view instance_id) const = 0;
  // Instance ids for which `node` has a replica record or a claim (any state).
  virtual Result<std::vector<std::string>> versions_of_node(const PublicKey& node) const = 0;
  virtual Result<NodeTotals> node_totals(const PublicKey& node) const = 0;

  // --- local replica state -----------------------------------------------------------
  virtual Status put_local(const LocalReplica& replica) = 0;
  virtual Result<std::optional<LocalReplica>> local(std::string_view instance_id) const = 0;
  // Every row, resume data included: for tools and tests. A node reads pages (below).
  virtual Result<std::vector<LocalReplica>> locals() const = 0;
  // At most `max` rows with instance id greater than `after` ("" = from the first), in
  // id order, from one read transaction. Without `with_resume`, resume_data is left
  // empty (resume_size still says what is stored): a scan of 10^5 rows then holds no
  // libtorrent state. The next page starts after the last id returned.
  virtual Result<std::vector<LocalReplica>> locals_after(std::string_view after, std::size_t max,
                                                         bool with_resume) const = 0;
  // The local-change sequence: every write of a local row (put_local, append_local with
  // a row) takes the next number, so a reader that remembers a number reads only the
  // rows written since. Rows last written by a fedswarm without the sequence have
  // none: read them by a full scan (locals_after) first, and remember
  // local_change_seq() taken before that scan.
  // The newest number given (0: none yet).
  virtual Result<std::uint64_t> local_change_seq() const = 0;
  // The instance ids of rows written after change `after`, oldest change first, at most
  // `max` (a row written again moves to its newest change).
  virtual Result<LocalChanges> local_changes_after(std::uint64_t after, std::size_t max) const = 0;

  // --- maintenance -------------------------------------------------------------------
  // Size of the data file on disk and of the map.
  struct Stats {
    std::uint64_t file_bytes = 0;
    std::uint64_t map_bytes = 0;
    std::uint64_t versions = 0;
    std::uint64_t records = 0;
  };
  virtual Result<Stats> stats() const = 0;
};

}  // namespace fedswarm
