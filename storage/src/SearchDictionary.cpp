#include "SearchDictionary.hpp"

#include <xxhash.h>

#include <algorithm>
#include <limits>

#include "CatalogRows.hpp"

namespace fedswarm {

namespace {
void pair_key(std::string& key, std::string_view facet, std::string_view value) {
  // Facet names and values are validated text: no NUL inside.
  key.assign(facet);
  key.push_back('\0');
  key.append(value);
}
}  // namespace

Status SearchDictionary::sync(LmdbTxn& txn, const CatalogTables& t) {
  rollback();
  std::uint32_t db_next_value = 0;
  std::uint16_t db_next_facet = 0;
  MDB_val v;
  int rc = txn.get(t.meta, mdb_val(meta_key::dictionary), &v);
  if (rc == 0) {
    if (v.mv_size != 6) return corrupt_row("meta");
    db_next_value = load<std::uint32_t>(v.mv_data);
    db_next_facet = load<std::uint16_t>(static_cast<const char*>(v.mv_data) + 4);
  } else if (rc != MDB_NOTFOUND) {
    return txn.error(rc, "read dictionary");
  }
  if (synced_ && db_next_value == next_value_ && db_next_facet == next_facet_) return {};
  return reload(txn, t, db_next_value, db_next_facet);
}

Status SearchDictionary::reload(LmdbTxn& txn, const CatalogTables& t, std::uint32_t db_next_value,
                                std::uint16_t db_next_facet) {
  // Another process added entries (or this is the first transaction): read the new
  // tail of `values`, or everything if the catalog went backwards (replaced).
  std::uint32_t from = next_value_;
  if (!synced_ || db_next_value < next_value_) {
    entries_.clear();
    arena_.clear();
    table_.clear();
    from = 0;
  }
  if (!synced_ || db_next_facet != next_facet_) {
    facets_.clear();
    facet_names_.assign(db_next_facet, std::string());
    LmdbCursor c(txn, t.facets);
    if (!c.ok()) return txn.error(c.open_error(), "read dictionary");
    MDB_val k, v;
    int rc;
    for (rc = c.get(&k, &v, MDB_FIRST); rc == 0; rc = c.get(&k, &v, MDB_NEXT)) {
      if (v.mv_size != 2) return corrupt_row("facets");
      auto id = load<std::uint16_t>(v.mv_data);
      if (id >= facet_names_.size()) return corrupt_row("facets");
      facet_names_[id] = std::string(chars(k));
      facets_.emplace(std::string(chars(k)), id);
    }
    if (rc != MDB_NOTFOUND) return txn.error(rc, "read dictionary");
  }
  LmdbCursor c(txn, t.values);
  if (!c.ok()) return txn.error(c.open_error(), "read dictionary");
  MDB_val k = mdb_pod(from), v;
  int rc;
  for (rc = c.get(&k, &v, MDB_SET_RANGE); rc == 0; rc = c.get(&k, &v, MDB_NEXT)) {
    if (k.mv_size != 4 || v.mv_size < 2) return corrupt_row("values");
    auto fid = load<std::uint16_t>(v.mv_data);
    if (fid >= facet_names_.size()) return corrupt_row("values");
    pair_key(key_, facet_names_[fid], chars(v).substr(2));
    add(key_, XXH3_64bits(key_.data(), key_.size()), {fid, load<std::uint32_t>(k.mv_data)});
  }
  if (rc != MDB_NOTFOUND) return txn.error(rc, "read dictionary");
  next_value_ = committed_next_value_ = db_next_value;
  next_facet_ = committed_next_facet_ = db_next_facet;
  synced_ = true;
  return {};
}

Result<std::uint16_t> SearchDictionary::facet(LmdbTxn& txn, const CatalogTables& t, std::string_view name) {
  if (auto it = facets_.find(name); it != facets_.end()) return it->second;
  if (next_facet_ == std::numeric_limits<std::uint16_t>::max())
    return make_error(Errc::invalid, "catalog_too_many_facets",
                      "the catalog already indexes 65535 facet names; facet \"" + std::string(name.substr(0, 64)) +
                          "\" is not accepted");
  std::uint16_t id = next_facet_++;
  FEDSWARM_TRY(txn.put(t.facets, mdb_val(name), mdb_pod(id), MDB_NOOVERWRITE));
  facets_.emplace(std::string(name), id);
  facet_names_.emplace_back(name);
  new_facets_.emplace_back(name);
  return id;
}

Result<FacetPair> SearchDictionary::lookup(LmdbTxn& txn, const CatalogTables& t, std::string_view facet_name,
                                           std::string_view value) {
  pair_key(key_, facet_name, value);
  const std::uint64_t hash = XXH3_64bits(key_.data(), key_.size());
  if (auto known = find(key_, hash)) return *known;
  FEDSWARM_ASSIGN_OR_RETURN(std::uint16_t fid, facet(txn, t, facet_name));
  std::uint32_t id = next_value_++;
  // Ids only grow, so the reverse table is appended to.
  std::string rev(reinterpret_cast<const char*>(&fid), 2);
  rev.append(value);
  FEDSWARM_TRY(txn.put(t.values, mdb_pod(id), mdb_val(std::string_view(rev)), MDB_APPEND));
  std::string fwd(2, '\0');
  put_u16_be(reinterpret_cast<std::uint8_t*>(fwd.data()), fid);
  fwd.append(value);
  FEDSWARM_TRY(txn.put(t.value_ids, mdb_val(std::string_view(fwd)), mdb_pod(id)));
  pair_key(key_, facet_name, value);
  add(key_, hash, {fid, id});
  return FacetPair{fid, id};
}

std::optional<FacetPair> SearchDictionary::find(std::string_view key, std::uint64_t hash) const {
  if (table_.empty()) return std::nullopt;
  const std::size_t mask = table_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    std::uint32_t slot = table_[i];
    if (slot == 0) return std::nullopt;
    const Entry& e = entries_[slot - 1];
    if (e.hash == hash && std::string_view(arena_).substr(e.text, e.length) == key) return e.pair;
  }
}

void SearchDictionary::add(std::string_view key, std::uint64_t hash, FacetPair pair) {
  entries_.push_back({hash, static_cast<std::uint32_t>(arena_.size()), static_cast<std::uint32_t>(key.size()), pair});
  arena_.append(key);
  if (entries_.size() * 2 > table_.size()) {
    rebuild_table();
    return;
  }
  const std::size_t mask = table_.size() - 1;
  std::size_t i = hash & mask;
  while (table_[i] != 0) i = (i + 1) & mask;
  table_[i] = static_cast<std::uint32_t>(entries_.size());
}

void SearchDictionary::rebuild_table() {
  std::size_t size = 1024;
  while (size < entries_.size() * 2) size *= 2;
  table_.assign(size, 0);
  const std::size_t mask = size - 1;
  for (std::size_t n = 0; n < entries_.size(); ++n) {
    std::size_t i = entries_[n].hash & mask;
    while (table_[i] != 0) i = (i + 1) & mask;
    table_[i] = static_cast<std::uint32_t>(n + 1);
  }
}

Status SearchDictionary::flush(LmdbTxn& txn, const CatalogTables& t) {
  if (next_value_ == committed_next_value_ && next_facet_ == committed_next_facet_) return {};
  std::uint8_t buf[6];
  std::memcpy(buf, &next_value_, 4);
  std::memcpy(buf + 4, &next_facet_, 2);
  return txn.put(t.meta, mdb_val(meta_key::dictionary), mdb_val(ByteView(buf, 6)));
}

void SearchDictionary::commit() {
  new_facets_.clear();
  committed_next_value_ = next_value_;
  committed_next_facet_ = next_facet_;
}

void SearchDictionary::rollback() {
  // Entries are in value id order, so the aborted transaction's are the tail.
  if (next_value_ != committed_next_value_) {
    while (!entries_.empty() && entries_.back().pair.value >= committed_next_value_) {
      arena_.resize(entries_.back().text);
      entries_.pop_back();
    }
    rebuild_table();
  }
  for (const auto& k : new_facets_) facets_.erase(k);
  facet_names_.resize(std::min<std::size_t>(committed_next_facet_, facet_names_.size()));
  new_facets_.clear();
  next_value_ = committed_next_value_;
  next_facet_ = committed_next_facet_;
}

}  // namespace fedswarm
