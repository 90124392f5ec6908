#include "CatalogLookup.hpp"

#include "fedswarm/protocol/RecordValidator.hpp"

namespace fedswarm {

Result<DocRow> doc_row(LmdbTxn& txn, const CatalogTables& t, std::uint32_t doc) {
  MDB_val v;
  int rc = txn.get(t.docs, mdb_pod(doc), &v);
  if (rc == MDB_NOTFOUND) return corrupt_row("docs");  // every indexed doc id has a row
  if (rc != 0) return txn.error(rc, "read version");
  DocRow row;
  if (!DocRow::parse(view(v), row)) return corrupt_row("docs");
  return row;
}

Result<std::vector<DocVersion>> docs_of_dataset(LmdbTxn& txn, const CatalogTables& t, std::string_view dataset_id) {
  std::vector<DocVersion> out;
  std::uint64_t h = dataset_hash(dataset_id);
  MDB_val k = mdb_pod(h), v;
  // Most ingested manifests start a new dataset: answer that without a cursor.
  int rc = txn.get(t.versions, k, &v);
  if (rc == MDB_NOTFOUND) return out;
  if (rc != 0) return txn.error(rc, "read versions");
  LmdbCursor c(txn, t.versions);
  if (!c.ok()) return txn.error(c.open_error(), "read versions");
  rc = c.get(&k, &v, MDB_SET);
  if (rc != 0) return txn.error(rc, "read versions");
  for (; rc == 0; rc = c.get(&k, &v, MDB_NEXT_DUP)) {
    if (v.mv_size != 4) return corrupt_row("versions");
    auto doc = load<std::uint32_t>(v.mv_data);
    FEDSWARM_ASSIGN_OR_RETURN(DocRow row, doc_row(txn, t, doc));
    if (row.dataset_id == dataset_id) out.push_back({doc, std::string(row.version)});
  }
  if (rc != MDB_NOTFOUND) return txn.error(rc, "read versions");
  return out;
}

Result<std::optional<std::uint32_t>> doc_of_instance(LmdbTxn& txn, const CatalogTables& t, std::string_view instance_id) {
  std::string_view dataset_id, version;
  if (!split_instance_id(instance_id, dataset_id, version)) return std::optional<std::uint32_t>{};
  FEDSWARM_ASSIGN_OR_RETURN(auto docs, docs_of_dataset(txn, t, dataset_id));
  for (const auto& d : docs)
    if (d.version == version) return std::optional<std::uint32_t>{d.doc};
  return std::optional<std::uint32_t>{};
}

Result<std::optional<RetractionInfo>> retraction_of(LmdbTxn& txn, const CatalogTables& t, std::string_view instance_id) {
  MDB_val v;
  int rc = txn.get(t.retractions, mdb_val(instance_id), &v);
  if (rc == MDB_NOTFOUND) return std::optional<RetractionInfo>{};
  if (rc != 0) return txn.error(rc, "read retractions");
  auto r = decode_retraction(view(v));
  if (!r) return corrupt_row("retractions");
  return std::optional<RetractionInfo>{std::move(*r)};
}

Result<PublicKey> pinned_authority(LmdbTxn& txn, const CatalogTables& t) {
  MDB_val v;
  int rc = txn.get(t.meta, mdb_val(meta_key::authority), &v);
  if (rc == MDB_NOTFOUND) return PublicKey{};
  if (rc != 0) return txn.error(rc, "read authority");
  auto key = PublicKey::from(view(v));
  if (!key) return corrupt_row("meta");
  return *key;
}

Result<std::uint64_t> meta_u64(LmdbTxn& txn, const CatalogTables& t, std::string_view key) {
  MDB_val v;
  int rc = txn.get(t.meta, mdb_val(key), &v);
  if (rc == MDB_NOTFOUND) return std::uint64_t{0};
  if (rc != 0) return txn.error(rc, "read catalog metadata");
  if (v.mv_size == 8) return load<std::uint64_t>(v.mv_data);
  if (v.mv_size == 4) return std::uint64_t{load<std::uint32_t>(v.mv_data)};
  return corrupt_row("meta");
}

Result<RosterCache::Entry> RosterCache::get(LmdbTxn& txn, const CatalogTables& t) {
  FEDSWARM_ASSIGN_OR_RETURN(std::uint64_t serial, meta_u64(txn, t, meta_key::roster_serial));
  {
    std::lock_guard lock(mutex_);
    if (entry_.serial == serial) return entry_;
  }
  Entry e;
  e.serial = serial;
  if (serial != 0) {
    MDB_val v;
    int rc = txn.get(t.meta, mdb_val(meta_key::roster), &v);
    if (rc != 0) return rc == MDB_NOTFOUND ? corrupt_row("meta") : txn.error(rc, "read roster");
    FEDSWARM_ASSIGN_OR_RETURN(Envelope env, decode_roster_envelope(view(v)));
    auto roster = Roster::decode(env.body);
    if (!roster) return corrupt_row("meta");
    e.roster = std::make_shared<const Roster>(std::move(*roster));
  }
  std::lock_guard lock(mutex_);
  // Serials only grow; keep the newer of two racing loads.
  if (e.serial >= entry_.serial) entry_ = e;
  return e;
}

}  // namespace fedswarm
