#include "CatalogImpl.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <unordered_set>

#include "CatalogLog.hpp"
#include "SearchExecutor.hpp"

namespace fedswarm {

namespace {

// Iterates the keys of `dbi` starting with `prefix`, calling fn(key suffix, value).
template <class Fn>
Status scan_prefix(LmdbTxn& txn, MDB_dbi dbi, std::string_view prefix, Fn&& fn) {
  LmdbCursor c(txn, dbi);
  if (!c.ok()) return txn.error(c.open_error(), "read");
  MDB_val k = mdb_val(prefix), v;
  int rc;
  for (rc = c.get(&k, &v, prefix.empty() ? MDB_FIRST : MDB_SET_RANGE); rc == 0; rc = c.get(&k, &v, MDB_NEXT)) {
    std::string_view key = chars(k);
    if (key.substr(0, prefix.size()) != prefix) break;
    FEDSWARM_TRY(fn(key.substr(prefix.size()), view(v)));
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return txn.error(rc, "read");
  return {};
}

std::string with_nul(std::string_view instance_id) {
  std::string p(instance_id);
  p.push_back('\0');
  return p;
}

}  // namespace

Result<std::unique_ptr<Catalog>> CatalogImpl::open(const CatalogOptions& options, const ProjectRegistry& projects) {
  LmdbEnv::Options eo;
  eo.dir = options.dir;
  eo.read_only = options.read_only;
  eo.initial_map_bytes = options.initial_map_bytes;
  eo.max_map_bytes = options.max_map_bytes;
  eo.durable = options.durable;
  FEDSWARM_ASSIGN_OR_RETURN(auto env, LmdbEnv::open(eo));
  std::unique_ptr<CatalogImpl> cat(new CatalogImpl(std::move(env), projects));
  auto specs = cat->t_.specs();
  FEDSWARM_TRY(cat->env_->open_tables(specs));
  FEDSWARM_TRY(cat->init_format());
  return std::unique_ptr<Catalog>(std::move(cat));
}

Status CatalogImpl::init_format() {
  auto check = [this](LmdbTxn& txn, bool write) -> Status {
    FEDSWARM_ASSIGN_OR_RETURN(std::uint64_t format, meta_u64(txn, t_, meta_key::format));
    if (format == 0 && write) return txn.put(t_.meta, mdb_val(meta_key::format), mdb_pod(kFormatVersion));
    if (format == 1 && write) {
      FEDSWARM_TRY(rebuild_node_tables(txn));
      return txn.put(t_.meta, mdb_val(meta_key::format), mdb_pod(kFormatVersion));
    }
    if (format == 1)
      return make_error(Errc::corrupt, "catalog_format",
                        "catalog " + env_->dir().string() +
                            " has layout version 1; open it once read-write (start the node) to upgrade it");
    if (format != 0 && format != kFormatVersion)
      return make_error(Errc::corrupt, "catalog_format",
                        "catalog " + env_->dir().string() + " has layout version " + std::to_string(format) +
                            ", this fedswarm reads version " + std::to_string(kFormatVersion) +
                            "; use a matching fedswarm or re-sync the catalog from peers");
    return {};
  };
  if (env_->read_only()) return env_->read([&](LmdbTxn& txn) { return check(txn, false); });
  return env_->write([&](LmdbTxn& txn) { return check(txn, true); });
}

// --- federation identity ---------------------------------------------------------------

Result<PublicKey> CatalogImpl::authority() const {
  return env_->read([&](LmdbTxn& txn) { return pinned_authority(txn, t_); });
}

Status CatalogImpl::pin_authority(const PublicKey& key) {
  if (key.is_zero()) return make_error(Errc::invalid, "bad_authority", "the federation authority key cannot be all zero");
  std::lock_guard lock(write_mutex_);
  return env_->write([&](LmdbTxn& txn) -> Status {
    FEDSWARM_ASSIGN_OR_RETURN(PublicKey current, pinned_authority(txn, t_));
    if (current == key) return {};
    if (!current.is_zero())
      return make_error(Errc::conflict, "authority_pinned",
                        "this node already trusts federation authority " + short_key(current) + ", not " +
                            short_key(key) + "; a node belongs to one federation");
    return txn.put(t_.meta, mdb_val(meta_key::authority), mdb_val(key.view()));
  });
}

Result<std::optional<Roster>> CatalogImpl::roster() const {
  return env_->read([&](LmdbTxn& txn) -> Result<std::optional<Roster>> {
    FEDSWARM_ASSIGN_OR_RETURN(auto entry, rosters_.get(txn, t_));
    if (!entry.roster) return std::optional<Roster>{};
    return std::optional<Roster>{*entry.roster};
  });
}

Status CatalogImpl::import_roster(const Envelope& env, std::int64_t now) {
  if (env.kind != RecordKind::roster)
    return make_error(Errc::invalid, "not_a_roster", "the record to import is a " + std::string(to_string(env.kind)) + ", not a roster");
  std::lock_guard lock(write_mutex_);
  return env_->write([&](LmdbTxn& txn) -> Status {
    FEDSWARM_ASSIGN_OR_RETURN(PublicKey authority, pinned_authority(txn, t_));
    auto validated = validator_.validate(env, nullptr, authority, now, [](std::string_view) { return std::nullopt; });
    if (!validated) return std::move(validated).error();
    const Roster& r = std::get<Roster>(validated->body);
    FEDSWARM_ASSIGN_OR_RETURN(std::uint64_t current, meta_u64(txn, t_, meta_key::roster_serial));
    if (r.serial <= current)
      return make_error(Errc::invalid, "roster_stale",
                        "roster serial " + std::to_string(r.serial) + " is not newer than the current serial " +
                            std::to_string(current));
    if (r.expired(now))
      return make_error(Errc::invalid, "roster_expired",
                        "roster serial " + std::to_string(r.serial) + " has expired; ask the federation authority for a new one");
    Bytes value = encode_roster_envelope(env);
    FEDSWARM_TRY(txn.put(t_.meta, mdb_val(meta_key::roster), mdb_val(ByteView(value))));
    return txn.put(t_.meta, mdb_val(meta_key::roster_serial), mdb_pod(r.serial));
  });
}

// --- records -----------------------------------------------------------------------------

Status CatalogImpl::write_ingest(std::int64_t now, const std::function<Status(CatalogIngest&, LmdbTxn&)>& fn) {
  std::lock_guard lock(write_mutex_);
  Status s = env_->write([&](LmdbTxn& txn) -> Status {
    SearchIndexWriter index(t_, dict_);
    CatalogIngest in(txn, t_, index, validator_, rosters_, now);
    FEDSWARM_TRY(in.begin());
    FEDSWARM_TRY(fn(in, txn));
    return in.finish();
  });
  if (s.ok())
    dict_.commit();
  else
    dict_.rollback();
  return s;
}

Result<IngestResult> CatalogImpl::ingest(const Envelope& env, std::int64_t now) {
  FEDSWARM_ASSIGN_OR_RETURN(auto results, ingest_batch(std::span<const Envelope>(&env, 1), now, false));
  return std::move(results[0]);
}

Result<std::vector<IngestResult>> CatalogImpl::ingest_batch(std::span<const Envelope> envs, std::int64_t now,
                                                            bool signatures_checked) {
  std::vector<IngestResult> results;
  if (envs.empty()) return results;
  FEDSWARM_TRY(write_ingest(now, [&](CatalogIngest& in, LmdbTxn&) -> Status {
    results.clear();  // a replay after map growth starts over
    results.reserve(envs.size());
    for (const auto& env : envs) {
      FEDSWARM_ASSIGN_OR_RETURN(IngestResult r, in.ingest(env, signatures_checked));
      results.push_back(std::move(r));
    }
    return {};
  }));
  return results;
}

Result<Envelope> CatalogImpl::append_local(const SigningKey& key, RecordKind kind, Bytes body, std::int64_t now,
                                          const LocalReplica* local) {
  Bytes local_row;
  if (local) {
    FEDSWARM_TRY(check_local(*local));
    local_row = encode_local(*local);
  }
  Envelope out;
  FEDSWARM_TRY(write_ingest(now, [&](CatalogIngest& in, LmdbTxn& txn) -> Status {
    FEDSWARM_ASSIGN_OR_RETURN(std::uint64_t seq, in.next_seq(key.public_key()));
    out = Envelope::sign(key, seq, kind, body);
    FEDSWARM_ASSIGN_OR_RETURN(IngestResult r, in.ingest(out, true));
    if (r.outcome == IngestOutcome::stored) {
      // The local row rides in the same transaction so a crash can never leave a
      // published version without the state that says this node holds it.
      if (local) return write_local(txn, local->instance_id, local_row);
      return {};
    }
    // Returning the refusal aborts the transaction: nothing of it is stored.
    if (r.error) return std::move(*r.error);
    return make_error(Errc::conflict, "not_stored", "record " + std::to_string(seq) + " was not stored");
  }));
  return out;
}

Result<std::vector<Envelope>> CatalogImpl::append_local_batch(const SigningKey& key, RecordKind kind,
                                                              std::span<const Bytes> bodies, std::int64_t now) {
  std::vector<Envelope> out;
  if (bodies.empty()) return out;
  FEDSWARM_TRY(write_ingest(now, [&](CatalogIngest& in, LmdbTxn&) -> Status {
    out.clear();  // a replay after map growth starts over (and signs the same seqs again)
    out.reserve(bodies.size());
    FEDSWARM_ASSIGN_OR_RETURN(std::uint64_t seq, in.next_seq(key.public_key()));
    for (std::size_t i = 0; i < bodies.size(); ++i, ++seq) {
      out.push_back(Envelope::sign(key, seq, kind, bodies[i]));
      FEDSWARM_ASSIGN_OR_RETURN(IngestResult r, in.ingest(out.back(), true));
      if (r.outcome == IngestOutcome::stored) continue;
      // Returning the refusal aborts the transaction: none of the batch is stored.
      const std::string which = "record " + std::to_string(i + 1) + " of " + std::to_string(bodies.size());
      if (r.error) return r.error->with_context(which);
      return make_error(Errc::conflict, "not_stored", which + " (seq " + std::to_string(seq) + ") was not stored");
    }
    return {};
  }));
  return out;
}

Result<VersionVector> CatalogImpl::version_vector() const {
  return env_->read([&](LmdbTxn& txn) { return CatalogLog::version_vector(txn, t_); });
}

Result<std::vector<Envelope>> CatalogImpl::records_after(const PublicKey& author, std::uint64_t after,
                                                         std::size_t max_records, std::size_t max_bytes) const {
  return env_->read([&](LmdbTxn& txn) { return CatalogLog::after(txn, t_, author, after, max_records, max_bytes); });
}

Result<std::uint64_t> CatalogImpl::record_count() const {
  return env_->read([&](LmdbTxn& txn) { return CatalogLog::count(txn, t_); });
}

// --- dataset versions ----------------------------------------------------------------------

Result<std::vector<VersionInfo>> CatalogImpl::version_infos(LmdbTxn& txn, std::string_view dataset_id) const {
  FEDSWARM_ASSIGN_OR_RETURN(auto docs, docs_of_dataset(txn, t_, dataset_id));
  std::sort(docs.begin(), docs.end(), [](const DocVersion& a, const DocVersion& b) { return a.version < b.version; });
  std::vector<VersionInfo> out;
  if (docs.empty()) return out;
  FlagReader flags(txn, t_.flags);
  std::optional<std::uint16_t> data_node_facet;
  {
    MDB_val v;
    int rc = txn.get(t_.facets, mdb_val(std::string_view("data_node")), &v);
    if (rc == 0 && v.mv_size == 2) data_node_facet = load<std::uint16_t>(v.mv_data);
  }
  for (std::size_t i = 0; i < docs.size(); ++i) {
    FEDSWARM_ASSIGN_OR_RETURN(DocRow row, doc_row(txn, t_, docs[i].doc));
    VersionInfo info;
    info.dataset_id = std::string(row.dataset_id);
    info.version = std::string(row.version);
    info.publisher = row.publisher;
    info.seq = row.seq;
    info.supersedes = std::string(row.supersedes);
    info.size = row.size;
    info.number_of_files = row.number_of_files;
    info.published_at = row.published_at;
    if (i + 1 < docs.size()) info.superseded_by = docs[i + 1].version;
    std::uint8_t f = flags.flags(docs[i].doc);
    info.latest = f & kLatest;
    info.status = (f & kRetracted) ? VersionStatus::retracted
                  : (f & kSuperseded) ? VersionStatus::superseded
                                      : VersionStatus::published;
    if (f & kRetracted) {
      FEDSWARM_ASSIGN_OR_RETURN(info.retraction, retraction_of(txn, t_, info.instance_id()));
    }
    info.doc = docs[i].doc;
    for (std::size_t p = 0; data_node_facet && p < row.npairs; ++p) {
      FacetPair pair = row.pair(p);
      if (pair.facet != *data_node_facet) continue;
      MDB_val v;
      if (txn.get(t_.values, mdb_pod(pair.value), &v) == 0 && v.mv_size >= 2) info.data_node = std::string(chars(v).substr(2));
      break;
    }
    out.push_back(std::move(info));
  }
  return out;
}

Result<std::optional<VersionInfo>> CatalogImpl::version(std::string_view instance_id) const {
  std::string_view dataset_id, version;
  if (!split_instance_id(instance_id, dataset_id, version)) return std::optional<VersionInfo>{};
  return env_->read([&](LmdbTxn& txn) -> Result<std::optional<VersionInfo>> {
    FEDSWARM_ASSIGN_OR_RETURN(auto infos, version_infos(txn, dataset_id));
    for (auto& info : infos)
      if (info.version == version) return std::optional<VersionInfo>{std::move(info)};
    return std::optional<VersionInfo>{};
  });
}

Result<std::vector<VersionInfo>> CatalogImpl::versions_of(std::string_view dataset_id) const {
  return env_->read([&](LmdbTxn& txn) { return version_infos(txn, dataset_id); });
}

Result<Manifest> CatalogImpl::manifest_of(LmdbTxn& txn, std::uint32_t doc) const {
  FEDSWARM_ASSIGN_OR_RETURN(DocRow row, doc_row(txn, t_, doc));
  FEDSWARM_ASSIGN_OR_RETURN(Envelope env, CatalogLog::read(txn, t_, row.log_position));
  auto m = Manifest::decode(env.body);
  if (!m) return corrupt_row("log");
  return std::move(*m);
}

Result<Manifest> CatalogImpl::manifest(std::string_view instance_id) const {
  return env_->read([&](LmdbTxn& txn) -> Result<Manifest> {
    FEDSWARM_ASSIGN_OR_RETURN(auto doc, doc_of_instance(txn, t_, instance_id));
    if (!doc)
      return make_error(Errc::not_found, "unknown_version",
                        "no manifest for " + std::string(instance_id.substr(0, 600)) + " in the catalog");
    return manifest_of(txn, *doc);
  });
}

Result<std::vector<FileRef>> CatalogImpl::resolve_files(LmdbTxn& txn, MDB_dbi index, std::uint64_t hash,
                                                        const std::function<bool(const ManifestFile&)>& match) const {
  std::vector<FileRef> out;
  FEDSWARM_ASSIGN_OR_RETURN(std::uint64_t docs, meta_u64(txn, t_, meta_key::next_doc));
  LmdbCursor c(txn, index);
  if (!c.ok()) return txn.error(c.open_error(), "read index");
  // One probe per generation of documents (see file_key), oldest first.
  for (std::uint64_t gen = 0; gen * kDocsPerGeneration < docs; ++gen) {
    std::uint64_t key = file_key(static_cast<std::uint32_t>(gen), hash);
    MDB_val k = mdb_pod(key), v;
    int rc;
    for (rc = c.get(&k, &v, MDB_SET); rc == 0; rc = c.get(&k, &v, MDB_NEXT_DUP)) {
      if (v.mv_size != 8) return corrupt_row("file index");
      auto ref = load<std::uint64_t>(v.mv_data);
      // The key holds a hash prefix: confirm against the signed manifest.
      FEDSWARM_ASSIGN_OR_RETURN(Manifest m, manifest_of(txn, static_cast<std::uint32_t>(ref >> 32)));
      auto file = static_cast<std::uint32_t>(ref);
      if (file < m.files.size() && match(m.files[file])) out.push_back({m.instance_id(), m.files[file].path});
    }
    if (rc != 0 && rc != MDB_NOTFOUND) return txn.error(rc, "read index");
  }
  return out;
}

Result<std::vector<FileRef>> CatalogImpl::find_tracking_id(std::string_view tracking_id) const {
  if (tracking_id.empty()) return std::vector<FileRef>{};
  return env_->read([&](LmdbTxn& txn) {
    return resolve_files(txn, t_.tracking, tracking_hash(tracking_id),
                         [&](const ManifestFile& f) { return f.tracking_id == tracking_id; });
  });
}

Result<std::vector<FileRef>> CatalogImpl::find_sha256(const Sha256& digest) const {
  return env_->read([&](LmdbTxn& txn) {
    return resolve_files(txn, t_.sha, sha_prefix(digest), [&](const ManifestFile& f) { return f.sha256 == digest; });
  });
}

Result<SearchResult> CatalogImpl::search(const SearchQuery& query) const {
  return env_->read([&](LmdbTxn& txn) { return SearchExecutor(txn, t_).run(query); });
}

Result<std::vector<std::string>> CatalogImpl::facet_names() const {
  return env_->read([&](LmdbTxn& txn) -> Result<std::vector<std::string>> {
    FEDSWARM_ASSIGN_OR_RETURN(auto facets, SearchExecutor::facets(txn, t_));
    std::vector<std::string> out;
    for (auto& [name, id] : facets) out.push_back(std::move(name));
    return out;
  });
}

Result<std::vector<ReplicaLocation>> CatalogImpl::replicas(std::string_view instance_id) const {
  return env_->read([&](LmdbTxn& txn) -> Result<std::vector<ReplicaLocation>> {
    std::vector<ReplicaLocation> out;
    FEDSWARM_TRY(scan_prefix(txn, t_.replicas, with_nul(instance_id), [&](std::string_view node, ByteView v) -> Status {
      auto key = PublicKey::from(as_bytes(node));
      if (!key) return corrupt_row("replicas");
      auto r = decode_replica(*key, v);
      if (!r) return corrupt_row("replicas");
      out.push_back(std::move(*r));
      return {};
    }));
    return out;
  });
}

Result<std::vector<ClaimInfo>> CatalogImpl::claims(std::string_view instance_id) const {
  return env_->read([&](LmdbTxn& txn) -> Result<std::vector<ClaimInfo>> {
    std::vector<ClaimInfo> out;
    FEDSWARM_TRY(scan_prefix(txn, t_.claims, with_nul(instance_id), [&](std::string_view node, ByteView v) -> Status {
      auto key = PublicKey::from(as_bytes(node));
      if (!key) return corrupt_row("claims");
      auto c = decode_claim(*key, v);
      if (!c) return corrupt_row("claims");
      out.push_back(std::move(*c));
      return {};
    }));
    return out;
  });
}

Result<ReplicationState> CatalogImpl::replication_state() const {
  return env_->read([&](LmdbTxn& txn) -> Result<ReplicationState> {
    ReplicationState out;
    std::unordered_set<std::string> datasets;
    LmdbCursor c(txn, t_.docs);
    if (!c.ok()) return txn.error(c.open_error(), "read docs");
    MDB_val k, v;
    int rc;
    for (rc = c.get(&k, &v, MDB_FIRST); rc == 0; rc = c.get(&k, &v, MDB_NEXT)) {
      if (k.mv_size != 4) return corrupt_row("docs");
      FEDSWARM_ASSIGN_OR_RETURN(DocRow row, doc_row(txn, t_, load<std::uint32_t>(k.mv_data)));
      if (!datasets.emplace(row.dataset_id).second) continue;
      FEDSWARM_ASSIGN_OR_RETURN(auto infos, version_infos(txn, row.dataset_id));
      for (auto& info : infos) out.versions.push_back(std::move(info));
    }
    if (rc != MDB_NOTFOUND) return txn.error(rc, "read docs");
    // Keys are instance_id NUL node-key.
    auto split = [](std::string_view key) -> std::optional<std::pair<std::string_view, PublicKey>> {
      auto nul = key.find('\0');
      if (nul == std::string_view::npos) return std::nullopt;
      auto node = PublicKey::from(as_bytes(key.substr(nul + 1)));
      if (!node) return std::nullopt;
      return std::make_pair(key.substr(0, nul), *node);
    };
    FEDSWARM_TRY(scan_prefix(txn, t_.replicas, {}, [&](std::string_view key, ByteView val) -> Status {
      auto parts = split(key);
      if (!parts) return corrupt_row("replicas");
      auto r = decode_replica(parts->second, val);
      if (!r) return corrupt_row("replicas");
      out.replicas.push_back({std::string(parts->first), std::move(*r)});
      return {};
    }));
    FEDSWARM_TRY(scan_prefix(txn, t_.claims, {}, [&](std::string_view key, ByteView val) -> Status {
      auto parts = split(key);
      if (!parts) return corrupt_row("claims");
      auto cl = decode_claim(parts->second, val);
      if (!cl) return corrupt_row("claims");
      out.claims.push_back({std::string(parts->first), std::move(*cl)});
      return {};
    }));
    return out;
  });
}

Result<std::vector<ConflictInfo>> CatalogImpl::conflicts() const {
  return env_->read([&](LmdbTxn& txn) -> Result<std::vector<ConflictInfo>> {
    std::vector<ConflictInfo> out;
    FEDSWARM_TRY(scan_prefix(txn, t_.conflicts, {}, [&](std::string_view key, ByteView v) -> Status {
      auto nul = key.find('\0');
      if (nul == std::string_view::npos) return corrupt_row("conflicts");
      auto c = decode_conflict(key.substr(0, nul), v);
      if (!c) return corrupt_row("conflicts");
      out.push_back(std::move(*c));
      return {};
    }));
    return out;
  });
}

// --- local replica state ---------------------------------------------------------------------

Status CatalogImpl::check_local(const LocalReplica& replica) {
  if (replica.instance_id.empty() || replica.instance_id.size() > 511)
    return make_error(Errc::invalid, "bad_instance_id", "local replica state needs an instance id of 1..511 bytes");
  return {};
}

Status CatalogImpl::put_local(const LocalReplica& replica) {
  FEDSWARM_TRY(check_local(replica));
  Bytes row = encode_local(replica);
  std::lock_guard lock(write_mutex_);
  return env_->write([&](LmdbTxn& txn) { return write_local(txn, replica.instance_id, row); });
}

Status CatalogImpl::write_local(LmdbTxn& txn, std::string_view instance_id, ByteView row) {
  FEDSWARM_TRY(txn.put(t_.locals, mdb_val(instance_id), mdb_val(row)));
  std::uint64_t next = 1;
  {
    LmdbCursor c(txn, t_.local_changes);
    if (!c.ok()) return txn.error(c.open_error(), "read");
    MDB_val k, v;
    int rc = c.get(&k, &v, MDB_LAST);
    if (rc == 0) next = load<std::uint64_t>(k.mv_data) + 1;
    else if (rc != MDB_NOTFOUND) return txn.error(rc, "read");
  }
  // One entry per row (its latest change), so the sequence's tables stay as large as
  // the locals table however often rows are rewritten (resume data every 30 s).
  MDB_val old;
  int rc = txn.get(t_.local_change_of, mdb_val(instance_id), &old);
  if (rc == 0) {
    const auto before = load<std::uint64_t>(old.mv_data);
    FEDSWARM_TRY(txn.del(t_.local_changes, mdb_pod(before)));
  } else if (rc != MDB_NOTFOUND) {
    return txn.error(rc, "read");
  }
  FEDSWARM_TRY(txn.put(t_.local_changes, mdb_pod(next), mdb_val(instance_id)));
  return txn.put(t_.local_change_of, mdb_val(instance_id), mdb_pod(next));
}

Result<std::optional<LocalReplica>> CatalogImpl::local(std::string_view instance_id) const {
  if (instance_id.empty() || instance_id.size() > 511) return std::optional<LocalReplica>{};
  return env_->read([&](LmdbTxn& txn) -> Result<std::optional<LocalReplica>> {
    MDB_val v;
    int rc = txn.get(t_.locals, mdb_val(instance_id), &v);
    if (rc == MDB_NOTFOUND) return std::optional<LocalReplica>{};
    if (rc != 0) return txn.error(rc, "read local state");
    auto l = decode_local(instance_id, view(v));
    if (!l) return corrupt_row("locals");
    return std::optional<LocalReplica>{std::move(*l)};
  });
}

Result<std::vector<LocalReplica>> CatalogImpl::locals() const {
  return env_->read([&](LmdbTxn& txn) -> Result<std::vector<LocalReplica>> {
    std::vector<LocalReplica> out;
    FEDSWARM_TRY(scan_prefix(txn, t_.locals, {}, [&](std::string_view key, ByteView v) -> Status {
      auto l = decode_local(key, v);
      if (!l) return corrupt_row("locals");
      out.push_back(std::move(*l));
      return {};
    }));
    return out;
  });
}

Result<std::vector<LocalReplica>> CatalogImpl::locals_after(std::string_view after, std::size_t max,
                                                            bool with_resume) const {
  return env_->read([&](LmdbTxn& txn) -> Result<std::vector<LocalReplica>> {
    std::vector<LocalReplica> out;
    if (max == 0) return out;
    LmdbCursor c(txn, t_.locals);
    if (!c.ok()) return txn.error(c.open_error(), "read");
    MDB_val k = mdb_val(after), v;
    int rc = c.get(&k, &v, after.empty() ? MDB_FIRST : MDB_SET_RANGE);
    if (rc == 0 && !after.empty() && chars(k) == after) rc = c.get(&k, &v, MDB_NEXT);
    while (rc == 0) {
      auto l = decode_local(chars(k), view(v), with_resume);
      if (!l) return corrupt_row("locals");
      out.push_back(std::move(*l));
      if (out.size() >= max) break;
      rc = c.get(&k, &v, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND) return txn.error(rc, "read");
    return out;
  });
}

Result<std::uint64_t> CatalogImpl::local_change_seq() const {
  if (t_.local_changes == 0) return std::uint64_t{0};  // read-only, a catalog without the sequence
  return env_->read([&](LmdbTxn& txn) -> Result<std::uint64_t> {
    LmdbCursor c(txn, t_.local_changes);
    if (!c.ok()) return txn.error(c.open_error(), "read");
    MDB_val k, v;
    int rc = c.get(&k, &v, MDB_LAST);
    if (rc == MDB_NOTFOUND) return std::uint64_t{0};
    if (rc != 0) return txn.error(rc, "read");
    return load<std::uint64_t>(k.mv_data);
  });
}

Result<LocalChanges> CatalogImpl::local_changes_after(std::uint64_t after, std::size_t max) const {
  LocalChanges out;
  out.last = after;
  if (t_.local_changes == 0 || max == 0 || after == UINT64_MAX) return out;
  return env_->read([&](LmdbTxn& txn) -> Result<LocalChanges> {
    LmdbCursor c(txn, t_.local_changes);
    if (!c.ok()) return txn.error(c.open_error(), "read");
    std::uint64_t from = after + 1;
    MDB_val k = mdb_pod(from), v;
    int rc = c.get(&k, &v, MDB_SET_RANGE);
    while (rc == 0) {
      out.last = load<std::uint64_t>(k.mv_data);
      out.instance_ids.emplace_back(chars(v));
      if (out.instance_ids.size() >= max) break;
      rc = c.get(&k, &v, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND) return txn.error(rc, "read");
    return out;
  });
}

// --- maintenance -------------------------------------------------------------------------------

// --- the rule's inputs, node holdings --------------------------------------------------------

Result<std::optional<VersionCase>> CatalogImpl::case_of_doc(LmdbTxn& txn, std::uint32_t doc) const {
  FEDSWARM_ASSIGN_OR_RETURN(DocRow row, doc_row(txn, t_, doc));
  const std::string dataset(row.dataset_id);
  const std::string version(row.version);
  FEDSWARM_ASSIGN_OR_RETURN(auto infos, version_infos(txn, dataset));
  VersionCase c;
  bool found = false;
  for (auto& info : infos)
    if (info.version == version) {
      c.version = std::move(info);
      found = true;
      break;
    }
  if (!found) return std::optional<VersionCase>{};
  const std::string instance = c.version.instance_id();
  FEDSWARM_TRY(scan_prefix(txn, t_.replicas, with_nul(instance), [&](std::string_view node, ByteView v) -> Status {
    auto key = PublicKey::from(as_bytes(node));
    if (!key) return corrupt_row("replicas");
    auto r = decode_replica(*key, v);
    if (!r) return corrupt_row("replicas");
    c.replicas.push_back(std::move(*r));
    return {};
  }));
  FEDSWARM_TRY(scan_prefix(txn, t_.claims, with_nul(instance), [&](std::string_view node, ByteView v) -> Status {
    auto key = PublicKey::from(as_bytes(node));
    if (!key) return corrupt_row("claims");
    auto cl = decode_claim(*key, v);
    if (!cl) return corrupt_row("claims");
    c.claims.push_back(std::move(*cl));
    return {};
  }));
  if (!c.version.supersedes.empty()) {
    FEDSWARM_TRY(scan_prefix(txn, t_.replicas, with_nul(dataset + "." + c.version.supersedes),
                             [&](std::string_view node, ByteView v) -> Status {
                               auto key = PublicKey::from(as_bytes(node));
                               if (!key) return corrupt_row("replicas");
                               auto r = decode_replica(*key, v);
                               if (!r) return corrupt_row("replicas");
                               if (r->state == ReplicaState::complete) c.previous_holders.push_back(*key);
                               return {};
                             }));
  }
  return std::optional<VersionCase>{std::move(c)};
}

Result<std::optional<VersionCase>> CatalogImpl::version_case(std::string_view instance_id) const {
  return env_->read([&](LmdbTxn& txn) -> Result<std::optional<VersionCase>> {
    FEDSWARM_ASSIGN_OR_RETURN(auto doc, doc_of_instance(txn, t_, instance_id));
    if (!doc) return std::optional<VersionCase>{};
    return case_of_doc(txn, *doc);
  });
}

Result<std::optional<VersionCase>> CatalogImpl::version_case(std::uint32_t doc) const {
  return env_->read([&](LmdbTxn& txn) -> Result<std::optional<VersionCase>> {
    FEDSWARM_ASSIGN_OR_RETURN(std::uint64_t next, meta_u64(txn, t_, meta_key::next_doc));
    if (doc >= next) return std::optional<VersionCase>{};
    return case_of_doc(txn, doc);
  });
}

Result<std::vector<VersionCase>> CatalogImpl::version_cases(std::uint32_t first, std::size_t max) const {
  return env_->read([&](LmdbTxn& txn) -> Result<std::vector<VersionCase>> {
    std::vector<VersionCase> out;
    FEDSWARM_ASSIGN_OR_RETURN(std::uint64_t next, meta_u64(txn, t_, meta_key::next_doc));
    for (std::uint64_t doc = first; doc < next && out.size() < max; ++doc) {
      FEDSWARM_ASSIGN_OR_RETURN(auto c, case_of_doc(txn, static_cast<std::uint32_t>(doc)));
      if (c) out.push_back(std::move(*c));
    }
    return out;
  });
}

Result<std::uint32_t> CatalogImpl::doc_count() const {
  return env_->read([&](LmdbTxn& txn) -> Result<std::uint32_t> {
    FEDSWARM_ASSIGN_OR_RETURN(std::uint64_t next, meta_u64(txn, t_, meta_key::next_doc));
    return static_cast<std::uint32_t>(next);
  });
}

Result<std::optional<std::uint32_t>> CatalogImpl::doc_of(std::string_view instance_id) const {
  return env_->read([&](LmdbTxn& txn) { return doc_of_instance(txn, t_, instance_id); });
}

Result<std::vector<std::string>> CatalogImpl::versions_of_node(const PublicKey& node) const {
  return env_->read([&](LmdbTxn& txn) -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    const std::string prefix(reinterpret_cast<const char*>(node.data()), 32);
    FEDSWARM_TRY(scan_prefix(txn, t_.node_versions, prefix, [&](std::string_view instance, ByteView) -> Status {
      out.emplace_back(instance);
      return {};
    }));
    return out;
  });
}

Result<NodeTotals> CatalogImpl::node_totals(const PublicKey& node) const {
  return env_->read([&](LmdbTxn& txn) -> Result<NodeTotals> {
    NodeTotals n;
    MDB_val v;
    int rc = txn.get(t_.nodes, mdb_val(node.view()), &v);
    if (rc == MDB_NOTFOUND) return n;
    if (rc != 0) return txn.error(rc, "read node totals");
    if (v.mv_size != 32) return corrupt_row("nodes");
    std::uint64_t t[4];
    std::memcpy(t, v.mv_data, sizeof(t));
    n.held_versions = t[0];
    n.held_bytes = t[1];
    n.complete_versions = t[2];
    n.complete_bytes = t[3];
    return n;
  });
}

Status CatalogImpl::rebuild_node_tables(LmdbTxn& txn) {
  if (int rc = mdb_drop(txn.raw(), t_.nodes, 0); rc != 0) return txn.error(rc, "clear node totals");
  if (int rc = mdb_drop(txn.raw(), t_.node_versions, 0); rc != 0) return txn.error(rc, "clear node index");
  struct Totals {
    std::uint64_t v[4] = {0, 0, 0, 0};
  };
  std::map<PublicKey, Totals> totals;
  std::map<std::pair<PublicKey, std::string>, std::uint8_t> index;
  std::set<std::pair<PublicKey, std::string>> publisher_rows;  // a publisher's own record of its version
  auto split = [](std::string_view key) -> std::optional<std::pair<std::string, PublicKey>> {
    auto nul = key.find('\0');
    if (nul == std::string_view::npos) return std::nullopt;
    auto node = PublicKey::from(as_bytes(key.substr(nul + 1)));
    if (!node) return std::nullopt;
    return std::make_pair(std::string(key.substr(0, nul)), *node);
  };
  FEDSWARM_TRY(scan_prefix(txn, t_.replicas, {}, [&](std::string_view key, ByteView val) -> Status {
    auto parts = split(key);
    if (!parts) return corrupt_row("replicas");
    auto r = decode_replica(parts->second, val);
    if (!r) return corrupt_row("replicas");
    index[{parts->second, parts->first}] |= kNodeHasReplica;
    bool publisher = false;
    std::uint64_t size = 0;
    FEDSWARM_ASSIGN_OR_RETURN(auto doc, doc_of_instance(txn, t_, parts->first));
    if (doc) {
      FEDSWARM_ASSIGN_OR_RETURN(DocRow row, doc_row(txn, t_, *doc));
      publisher = row.publisher == parts->second;
      size = row.size;
    }
    if (publisher) publisher_rows.insert({parts->second, parts->first});
    auto h = CatalogIngest::holding(publisher, r->state == ReplicaState::complete ? CatalogIngest::Repl::complete
                                                                                  : CatalogIngest::Repl::dropped);
    Totals& t = totals[parts->second];
    if (h.held) t.v[0] += 1, t.v[1] += size;
    if (h.complete) t.v[2] += 1, t.v[3] += size;
    return {};
  }));
  FEDSWARM_TRY(scan_prefix(txn, t_.claims, {}, [&](std::string_view key, ByteView) -> Status {
    auto parts = split(key);
    if (!parts) return corrupt_row("claims");
    index[{parts->second, parts->first}] |= kNodeHasClaim;
    return {};
  }));
  FEDSWARM_ASSIGN_OR_RETURN(std::uint64_t next, meta_u64(txn, t_, meta_key::next_doc));
  for (std::uint64_t doc = 0; doc < next; ++doc) {
    FEDSWARM_ASSIGN_OR_RETURN(DocRow row, doc_row(txn, t_, static_cast<std::uint32_t>(doc)));
    std::string instance = std::string(row.dataset_id) + "." + std::string(row.version);
    if (publisher_rows.count({row.publisher, instance})) continue;
    Totals& t = totals[row.publisher];
    t.v[0] += 1;
    t.v[1] += row.size;
  }
  for (const auto& [node, t] : totals)
    FEDSWARM_TRY(txn.put(t_.nodes, mdb_val(node.view()), mdb_val(ByteView(reinterpret_cast<const std::uint8_t*>(t.v), sizeof(t.v)))));
  for (const auto& [key, bits] : index) {
    const std::string k = node_version_key(key.first, key.second);
    FEDSWARM_TRY(txn.put(t_.node_versions, mdb_val(std::string_view(k)), mdb_val(ByteView(&bits, 1))));
  }
  return {};
}

Result<Catalog::Stats> CatalogImpl::stats() const {
  return env_->read([&](LmdbTxn& txn) -> Result<Stats> {
    Stats s;
    s.file_bytes = env_->file_bytes();
    s.map_bytes = env_->map_bytes();
    FEDSWARM_ASSIGN_OR_RETURN(s.versions, meta_u64(txn, t_, meta_key::next_doc));
    FEDSWARM_ASSIGN_OR_RETURN(s.records, CatalogLog::count(txn, t_));
    return s;
  });
}

}  // namespace fedswarm
