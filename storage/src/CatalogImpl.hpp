// CatalogImpl: the LMDB implementation of Catalog (private to storage/). The contract
// is Catalog.hpp's; this header only names the parts.
//
// Threads: any thread may call any method. Reads run in their own read transaction
// without locks (besides LmdbEnv's resize gate). Writes take `write_mutex_`, which also
// guards the writer-side caches (`dict_`), then LMDB's writer lock.
#pragma once

#include <functional>
#include <memory>
#include <mutex>

#include "CatalogIngest.hpp"
#include "CatalogLookup.hpp"
#include "CatalogTables.hpp"
#include "LmdbEnv.hpp"
#include "SearchDictionary.hpp"
#include "fedswarm/protocol/RecordValidator.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

class CatalogImpl final : public Catalog {
 public:
  static Result<std::unique_ptr<Catalog>> open(const CatalogOptions& options, const ProjectRegistry& projects);

  Result<PublicKey> authority() const override;
  Status pin_authority(const PublicKey& key) override;
  Result<std::optional<Roster>> roster() const override;
  Status import_roster(const Envelope& env, std::int64_t now) override;

  Result<IngestResult> ingest(const Envelope& env, std::int64_t now) override;
  Result<std::vector<IngestResult>> ingest_batch(std::span<const Envelope> envs, std::int64_t now,
                                                 bool signatures_checked) override;
  Result<Envelope> append_local(const SigningKey& key, RecordKind kind, Bytes body, std::int64_t now,
                                const LocalReplica* local) override;
  Result<std::vector<Envelope>> append_local_batch(const SigningKey& key, RecordKind kind,
                                                   std::span<const Bytes> bodies, std::int64_t now) override;

  Result<VersionVector> version_vector() const override;
  Result<std::vector<Envelope>> records_after(const PublicKey& author, std::uint64_t after, std::size_t max_records,
                                              std::size_t max_bytes) const override;
  Result<std::uint64_t> record_count() const override;

  Result<std::optional<VersionInfo>> version(std::string_view instance_id) const override;
  Result<std::vector<VersionInfo>> versions_of(std::string_view dataset_id) const override;
  Result<Manifest> manifest(std::string_view instance_id) const override;
  Result<std::vector<FileRef>> find_tracking_id(std::string_view tracking_id) const override;
  Result<std::vector<FileRef>> find_sha256(const Sha256& digest) const override;
  Result<SearchResult> search(const SearchQuery& query) const override;
  Result<std::vector<std::string>> facet_names() const override;

  Result<std::vector<ReplicaLocation>> replicas(std::string_view instance_id) const override;
  Result<std::vector<ClaimInfo>> claims(std::string_view instance_id) const override;
  Result<std::vector<ConflictInfo>> conflicts() const override;
  Result<ReplicationState> replication_state() const override;
  Result<std::optional<VersionCase>> version_case(std::string_view instance_id) const override;
  Result<std::optional<VersionCase>> version_case(std::uint32_t doc) const override;
  Result<std::vector<VersionCase>> version_cases(std::uint32_t first, std::size_t max) const override;
  Result<std::uint32_t> doc_count() const override;
  Result<std::optional<std::uint32_t>> doc_of(std::string_view instance_id) const override;
  Result<std::vector<std::string>> versions_of_node(const PublicKey& node) const override;
  Result<NodeTotals> node_totals(const PublicKey& node) const override;

  Status put_local(const LocalReplica& replica) override;
  Result<std::optional<LocalReplica>> local(std::string_view instance_id) const override;
  Result<std::vector<LocalReplica>> locals() const override;
  Result<std::vector<LocalReplica>> locals_after(std::string_view after, std::size_t max, bool with_resume) const override;
  Result<std::uint64_t> local_change_seq() const override;
  Result<LocalChanges> local_changes_after(std::uint64_t after, std::size_t max) const override;

  Result<Stats> stats() const override;

 private:
  CatalogImpl(std::unique_ptr<LmdbEnv> env, const ProjectRegistry& projects)
      : env_(std::move(env)), validator_(projects) {}
  Status init_format();
  // Layout 1 → 2: the node tables from the replica, claim and doc rows.
  Status rebuild_node_tables(LmdbTxn& txn);
  Result<std::optional<VersionCase>> case_of_doc(LmdbTxn& txn, std::uint32_t doc) const;
  // One write transaction that ingests records through `fn`; replayed on map growth.
  Status write_ingest(std::int64_t now, const std::function<Status(CatalogIngest&, LmdbTxn&)>& fn);
  static Status check_local(const LocalReplica& replica);
  // Writes a local row and moves it to the next number of the local-change sequence.
  Status write_local(LmdbTxn& txn, std::string_view instance_id, ByteView row);
  // Every version of a dataset (oldest first) with status and superseded_by resolved.
  Result<std::vector<VersionInfo>> version_infos(LmdbTxn& txn, std::string_view dataset_id) const;
  // Files whose entry in `index` (tracking or sha) has `hash`, confirmed by `match`
  // against their manifests.
  Result<std::vector<FileRef>> resolve_files(LmdbTxn& txn, MDB_dbi index, std::uint64_t hash,
                                             const std::function<bool(const ManifestFile&)>& match) const;
  Result<Manifest> manifest_of(LmdbTxn& txn, std::uint32_t doc) const;

  std::unique_ptr<LmdbEnv> env_;
  CatalogTables t_;
  RecordValidator validator_;
  mutable RosterCache rosters_;
  std::mutex write_mutex_;
  SearchDictionary dict_;
};

}  // namespace fedswarm
