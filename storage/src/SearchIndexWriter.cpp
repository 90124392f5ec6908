#include "SearchIndexWriter.hpp"

#include <algorithm>

namespace fedswarm {

Status SearchIndexWriter::begin(LmdbTxn& txn) { return dict_.sync(txn, t_); }

Status SearchIndexWriter::resolve(LmdbTxn& txn, std::span<const FacetValueRef> facets, std::vector<FacetPair>& out) {
  out.clear();
  out.reserve(facets.size());
  for (const auto& f : facets) {
    FEDSWARM_ASSIGN_OR_RETURN(FacetPair p, dict_.lookup(txn, t_, f.facet, f.value));
    out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return {};
}

SearchIndexWriter::Slot& SearchIndexWriter::slot(const FacetPair& p) {
  if (p.value >= slot_of_.size()) slot_of_.resize(p.value + 1 + p.value / 2, 0);
  std::uint32_t& s = slot_of_[p.value];
  if (s == 0) {
    slots_.push_back({p, {}, {}});
    s = static_cast<std::uint32_t>(slots_.size());
  }
  return slots_[s - 1];
}

void SearchIndexWriter::count(const FacetPair& p, std::uint8_t flags, int sign) {
  Slot& s = slot(p);
  for (unsigned v = 0; v < kViews; ++v)
    if (in_view(flags, v)) s.delta[v] += sign;
}

Status SearchIndexWriter::add(LmdbTxn& txn, std::uint32_t doc, std::span<const FacetPair> pairs, std::uint8_t flags) {
  for (const auto& p : pairs) {
    Slot& s = slot(p);
    s.docs.push_back(doc);
    for (unsigned v = 0; v < kViews; ++v)
      if (in_view(flags, v)) ++s.delta[v];
  }
  for (unsigned v = 0; v < kViews; ++v)
    if (in_view(flags, v)) ++view_delta_[v];
  if (flags) FEDSWARM_TRY(flags_.set(txn, doc, flags));
  return {};
}

Status SearchIndexWriter::change(LmdbTxn& txn, std::uint32_t doc, const DocRow& row, std::uint8_t old_flags,
                                 std::uint8_t new_flags) {
  if (old_flags == new_flags) return {};
  for (std::size_t i = 0; i < row.npairs; ++i) {
    FacetPair p = row.pair(i);
    count(p, old_flags, -1);
    count(p, new_flags, +1);
  }
  for (unsigned v = 0; v < kViews; ++v) view_delta_[v] += int(in_view(new_flags, v)) - int(in_view(old_flags, v));
  return flags_.set(txn, doc, new_flags);
}

Status SearchIndexWriter::flush(LmdbTxn& txn) {
  // In (facet, value) order: counter keys are facet-major, and value ids of one facet
  // ascend with posting keys, so both tables are written front to back.
  std::sort(slots_.begin(), slots_.end(), [](const Slot& a, const Slot& b) { return a.pair < b.pair; });
  if (!slots_.empty()) {
    LmdbCursor c(txn, t_.postings);
    if (!c.ok()) return txn.error(c.open_error(), "index");
    for (auto& s : slots_) {
      if (s.docs.empty()) continue;
      // One MDB_MULTIPLE put appends all of this batch's doc ids of the value.
      MDB_val k = mdb_pod(s.pair.value);
      MDB_val data[2] = {{sizeof(std::uint32_t), s.docs.data()}, {s.docs.size(), nullptr}};
      if (int rc = mdb_cursor_put(c.raw(), &k, data, MDB_MULTIPLE); rc != 0) return txn.error(rc, "index");
    }
  }
  LmdbCursor counts_cursor(txn, t_.counts);
  if (!counts_cursor.ok()) return txn.error(counts_cursor.open_error(), "index");
  for (const auto& s : slots_) {
    if (s.delta == std::array<std::int64_t, kViews>{}) continue;
    CountKey key = count_key(s.pair.facet, s.pair.value);
    std::array<std::uint64_t, kViews> counts{};
    MDB_val k = mdb_val(ByteView(key)), v;
    int rc = counts_cursor.get(&k, &v, MDB_SET_KEY);
    if (rc == 0 && v.mv_size == sizeof(counts))
      std::memcpy(counts.data(), v.mv_data, sizeof(counts));
    else if (rc != MDB_NOTFOUND && rc != 0)
      return txn.error(rc, "index");
    for (unsigned i = 0; i < kViews; ++i)
      counts[i] = static_cast<std::uint64_t>(static_cast<std::int64_t>(counts[i]) + s.delta[i]);
    MDB_val nv{sizeof(counts), counts.data()};
    // An existing counter is overwritten in place where the cursor stands.
    FEDSWARM_TRY(counts_cursor.put(mdb_val(ByteView(key)), nv, rc == 0 ? MDB_CURRENT : 0));
  }
  for (const auto& s : slots_) slot_of_[s.pair.value] = 0;
  slots_.clear();
  if (view_delta_ != std::array<std::int64_t, kViews>{}) {
    std::array<std::uint64_t, kViews> totals{};
    MDB_val v;
    int rc = txn.get(t_.meta, mdb_val(meta_key::view_counts), &v);
    if (rc == 0 && v.mv_size == sizeof(totals))
      std::memcpy(totals.data(), v.mv_data, sizeof(totals));
    else if (rc != MDB_NOTFOUND && rc != 0)
      return txn.error(rc, "index");
    for (unsigned i = 0; i < kViews; ++i) totals[i] = static_cast<std::uint64_t>(static_cast<std::int64_t>(totals[i]) + view_delta_[i]);
    FEDSWARM_TRY(txn.put(t_.meta, mdb_val(meta_key::view_counts), mdb_val(ByteView(reinterpret_cast<const std::uint8_t*>(totals.data()), sizeof(totals)))));
    view_delta_ = {};
  }
  FEDSWARM_TRY(flags_.flush(txn));
  return dict_.flush(txn, t_);
}

}  // namespace fedswarm
