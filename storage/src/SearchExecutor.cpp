#include "SearchExecutor.hpp"

#include <algorithm>
#include <bit>
#include <iterator>
#include <map>

#include "CatalogLookup.hpp"

namespace fedswarm {

namespace {

// Rough costs used to choose how to count facets over a result (ns, from the catalog
// bench): reading one posting-list entry (a memcpy'd page of u32s) vs looking up one
// row.
constexpr std::uint64_t kPostingEntryCost = 3;
constexpr std::uint64_t kRowLookupCost = 300;

std::uint64_t popcount_block(const std::uint8_t* b) {
  std::uint64_t n = 0;
  for (std::uint32_t i = 0; i < kFlagBlockBytes; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, b + i, 8);
    n += static_cast<std::uint64_t>(std::popcount(w));
  }
  return n;
}

}  // namespace

Result<std::vector<std::pair<std::string, std::uint16_t>>> SearchExecutor::facets(LmdbTxn& txn, const CatalogTables& t) {
  std::vector<std::pair<std::string, std::uint16_t>> out;
  LmdbCursor c(txn, t.facets);
  if (!c.ok()) return txn.error(c.open_error(), "read facets");
  MDB_val k, v;
  int rc;
  for (rc = c.get(&k, &v, MDB_FIRST); rc == 0; rc = c.get(&k, &v, MDB_NEXT)) {
    if (v.mv_size != 2) return corrupt_row("facets");
    out.emplace_back(std::string(chars(k)), load<std::uint16_t>(v.mv_data));
  }
  if (rc != MDB_NOTFOUND) return txn.error(rc, "read facets");
  return out;
}

Result<std::optional<std::uint32_t>> SearchExecutor::value_id(std::uint16_t facet, std::string_view value) {
  std::string key(2, '\0');
  put_u16_be(reinterpret_cast<std::uint8_t*>(key.data()), facet);
  key.append(value);
  MDB_val v;
  int rc = txn_.get(t_.value_ids, mdb_val(std::string_view(key)), &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::uint32_t>{};
  if (rc != 0) return txn_.error(rc, "read index");
  if (v.mv_size != 4) return corrupt_row("value_ids");
  return std::optional<std::uint32_t>{load<std::uint32_t>(v.mv_data)};
}

Result<std::uint64_t> SearchExecutor::posting_size(std::uint16_t facet, std::uint32_t value) {
  CountKey key = count_key(facet, value);
  MDB_val v;
  int rc = txn_.get(t_.counts, mdb_val(ByteView(key)), &v);
  if (rc == MDB_NOTFOUND) return std::uint64_t{0};
  if (rc != 0) return txn_.error(rc, "read index");
  if (v.mv_size != kViews * 8) return corrupt_row("counts");
  return load<std::uint64_t>(static_cast<const char*>(v.mv_data) + 8 * kViewAll);
}

Result<std::string_view> SearchExecutor::value_text(std::uint32_t value) {
  if (auto it = value_text_.find(value); it != value_text_.end()) return it->second;
  MDB_val v;
  int rc = txn_.get(t_.values, mdb_pod(value), &v);
  if (rc != 0) return rc == MDB_NOTFOUND ? corrupt_row("values") : txn_.error(rc, "read index");
  if (v.mv_size < 2) return corrupt_row("values");
  std::string_view text = chars(v).substr(2);  // valid for the read transaction
  value_text_.emplace(value, text);
  return text;
}

bool SearchExecutor::in_view(std::uint32_t doc) {
  switch (view_) {
    case kViewLatest: return flags_.test(0, doc);
    case kViewVisible: return !flags_.test(1, doc);
    default: return true;
  }
}

Result<DocIds> SearchExecutor::read_group(const Group& g) {
  std::vector<DocIds> lists(g.values.size());
  for (std::size_t i = 0; i < g.values.size(); ++i) FEDSWARM_TRY(read_postings(txn_, t_, g.values[i], lists[i]));
  return union_of(std::move(lists));
}

bool SearchExecutor::is_identity_facet(std::string_view name) {
  return name == "master_id" || name == "dataset_id" || name == "instance_id" || name == "id";
}

// master_id/dataset_id name every version of a dataset; instance_id names one version;
// ESGF's `id` is `instance_id|data_node`. OR within a name, AND across names, like facets.
Result<std::optional<DocIds>> SearchExecutor::identity_docs(const SearchQuery& q) {
  std::map<std::string_view, DocIds> by_name;
  for (const auto& [name, value] : q.constraints) {
    if (!is_identity_facet(name)) continue;
    DocIds& ids = by_name[name == "dataset_id" ? std::string_view("master_id") : std::string_view(name)];
    if (name == "master_id" || name == "dataset_id") {
      FEDSWARM_ASSIGN_OR_RETURN(auto docs, docs_of_dataset(txn_, t_, value));
      for (const auto& d : docs) ids.push_back(d.doc);
    } else {
      std::string_view instance = value;
      if (name == "id") instance = instance.substr(0, instance.find('|'));
      FEDSWARM_ASSIGN_OR_RETURN(auto doc, doc_of_instance(txn_, t_, instance));
      if (doc) ids.push_back(*doc);
    }
  }
  if (by_name.empty()) return std::optional<DocIds>{};
  std::optional<DocIds> out;
  for (auto& [name, ids] : by_name) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    if (!out) {
      out = std::move(ids);
      continue;
    }
    DocIds both;
    std::set_intersection(out->begin(), out->end(), ids.begin(), ids.end(), std::back_inserter(both));
    *out = std::move(both);
  }
  return out;
}

Result<DocIds> SearchExecutor::filter(std::vector<Group>& groups, const std::optional<DocIds>& named) {
  std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) { return a.size < b.size; });
  DocIds cand;
  std::size_t first_group = 0;
  if (named) {
    cand = *named;
  } else {
    FEDSWARM_ASSIGN_OR_RETURN(cand, read_group(groups[0]));
    first_group = 1;
  }
  if (view_ != kViewAll)
    cand.erase(std::remove_if(cand.begin(), cand.end(), [&](std::uint32_t d) { return !in_view(d); }), cand.end());
  // Narrow by each further group, smallest first: seek its posting lists to the
  // candidates instead of reading them whole (a group can hold most of the catalog).
  DocIds next;
  std::vector<DocIds> per_value;
  for (std::size_t g = first_group; g < groups.size() && !cand.empty(); ++g) {
    per_value.assign(groups[g].values.size(), DocIds{});
    for (std::size_t i = 0; i < groups[g].values.size(); ++i)
      FEDSWARM_TRY(filter_by_postings(txn_, t_, groups[g].values[i], cand, per_value[i]));
    cand = union_of(std::move(per_value));
  }
  return cand;
}

Result<DocIds> SearchExecutor::view_page(std::size_t offset, std::size_t limit) {
  DocIds page;
  if (limit == 0) return page;
  if (view_ == kViewAll) {
    for (std::size_t d = offset; d < total_docs_ && page.size() < limit; ++d) page.push_back(static_cast<std::uint32_t>(d));
    return page;
  }
  // Skip whole blocks by their popcount, then walk the block where the page starts.
  std::uint64_t skip = offset;
  const std::uint32_t blocks = (total_docs_ + kFlagBlockBits - 1) / kFlagBlockBits;
  for (std::uint32_t b = 0; b < blocks && page.size() < limit; ++b) {
    const std::uint32_t first = b * kFlagBlockBits;
    const std::uint32_t end = std::min<std::uint32_t>(total_docs_, first + kFlagBlockBits);
    std::uint64_t in_block;
    if (view_ == kViewLatest) {
      const std::uint8_t* blk = flags_.block(0, b);
      in_block = blk ? popcount_block(blk) : 0;
    } else {
      const std::uint8_t* blk = flags_.block(1, b);
      in_block = (end - first) - (blk ? popcount_block(blk) : 0);
    }
    if (skip >= in_block) {
      skip -= in_block;
      continue;
    }
    for (std::uint32_t d = first; d < end && page.size() < limit; ++d) {
      if (!in_view(d)) continue;
      if (skip > 0) {
        --skip;
        continue;
      }
      page.push_back(d);
    }
  }
  return page;
}

Status SearchExecutor::apply_filters(const SearchQuery& q,
                                     const std::unordered_map<std::string_view, std::uint16_t>& facet_ids,
                                     DocIds& result) {
  DocIds hit, kept;
  for (const auto& [name, value] : q.exclusions) {
    if (result.empty()) return {};
    auto fit = facet_ids.find(name);
    if (fit == facet_ids.end()) continue;  // a facet never indexed excludes nothing
    FEDSWARM_ASSIGN_OR_RETURN(auto vid, value_id(fit->second, value));
    if (!vid) continue;
    hit.clear();
    FEDSWARM_TRY(filter_by_postings(txn_, t_, *vid, result, hit));
    if (hit.empty()) continue;
    kept.clear();
    std::set_difference(result.begin(), result.end(), hit.begin(), hit.end(), std::back_inserter(kept));
    result.swap(kept);
  }
  if (q.not_latest)
    result.erase(std::remove_if(result.begin(), result.end(), [&](std::uint32_t d) { return flags_.test(0, d); }), result.end());
  if (q.only_retracted)
    result.erase(std::remove_if(result.begin(), result.end(), [&](std::uint32_t d) { return !flags_.test(1, d); }), result.end());
  if (q.min_version.empty() && q.max_version.empty() && !q.published_from && !q.published_to) return {};
  kept.clear();
  for (std::uint32_t d : result) {
    FEDSWARM_ASSIGN_OR_RETURN(DocRow row, doc_row(txn_, t_, d));
    if (!q.min_version.empty() && row.version < q.min_version) continue;
    if (!q.max_version.empty() && row.version > q.max_version) continue;
    if (q.published_from && row.published_at < *q.published_from) continue;
    if (q.published_to && row.published_at > *q.published_to) continue;
    kept.push_back(d);
  }
  result.swap(kept);
  return {};
}

Status SearchExecutor::count_from_counters(std::uint16_t facet, std::vector<FacetCount>& out) {
  LmdbCursor c(txn_, t_.counts);
  if (!c.ok()) return txn_.error(c.open_error(), "read index");
  CountKey start = count_key(facet, 0);
  MDB_val k = mdb_val(ByteView(start)), v;
  int rc;
  for (rc = c.get(&k, &v, MDB_SET_RANGE); rc == 0; rc = c.get(&k, &v, MDB_NEXT)) {
    if (k.mv_size != 6 || v.mv_size != kViews * 8) return corrupt_row("counts");
    const auto* kb = static_cast<const std::uint8_t*>(k.mv_data);
    if (get_u16_be(kb) != facet) break;
    auto n = load<std::uint64_t>(static_cast<const char*>(v.mv_data) + 8 * view_);
    if (n == 0) continue;
    FEDSWARM_ASSIGN_OR_RETURN(std::string_view text, value_text(get_u32_be(kb + 2)));
    out.push_back({std::string(text), n});
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return txn_.error(rc, "read index");
  return {};
}

Status SearchExecutor::count_by_rows(const DocIds& result, const std::vector<std::uint16_t>& facets,
                                     std::vector<std::unordered_map<std::uint32_t, std::uint64_t>>& counts) {
  // Result rows are visited in doc id order, so the cursor mostly stays on its leaf page.
  LmdbCursor c(txn_, t_.docs);
  if (!c.ok()) return txn_.error(c.open_error(), "read index");
  std::unordered_map<std::uint16_t, std::size_t> slot;
  for (std::size_t i = 0; i < facets.size(); ++i) slot.emplace(facets[i], i);
  for (std::uint32_t d : result) {
    MDB_val k = mdb_pod(d), v;
    int rc = c.get(&k, &v, MDB_SET);
    if (rc != 0) return rc == MDB_NOTFOUND ? corrupt_row("docs") : txn_.error(rc, "read index");
    DocRow row;
    if (!DocRow::parse(view(v), row)) return corrupt_row("docs");
    for (std::size_t i = 0; i < row.npairs; ++i) {
      FacetPair p = row.pair(i);
      auto it = slot.find(p.facet);
      if (it != slot.end()) ++counts[it->second][p.value];
    }
  }
  return {};
}

Status SearchExecutor::count_by_postings(const DocIds& result, const std::vector<std::uint16_t>& facets,
                                         std::vector<std::unordered_map<std::uint32_t, std::uint64_t>>& counts) {
  std::vector<std::uint64_t> bits((total_docs_ + 63) / 64, 0);
  for (std::uint32_t d : result) bits[d >> 6] |= 1ull << (d & 63);
  DocIds list;
  for (std::size_t i = 0; i < facets.size(); ++i) {
    std::vector<std::uint32_t> values;
    {
      LmdbCursor c(txn_, t_.counts);
      if (!c.ok()) return txn_.error(c.open_error(), "read index");
      CountKey start = count_key(facets[i], 0);
      MDB_val k = mdb_val(ByteView(start)), v;
      int rc;
      for (rc = c.get(&k, &v, MDB_SET_RANGE); rc == 0; rc = c.get(&k, &v, MDB_NEXT)) {
        if (k.mv_size != 6 || v.mv_size != kViews * 8) return corrupt_row("counts");
        const auto* kb = static_cast<const std::uint8_t*>(k.mv_data);
        if (get_u16_be(kb) != facets[i]) break;
        if (load<std::uint64_t>(static_cast<const char*>(v.mv_data) + 8 * view_) > 0) values.push_back(get_u32_be(kb + 2));
      }
      if (rc != 0 && rc != MDB_NOTFOUND) return txn_.error(rc, "read index");
    }
    for (std::uint32_t vid : values) {
      list.clear();
      FEDSWARM_TRY(read_postings(txn_, t_, vid, list));
      std::uint64_t n = 0;
      for (std::uint32_t d : list)
        if (d < total_docs_) n += bits[d >> 6] >> (d & 63) & 1;
      if (n) counts[i][vid] = n;
    }
  }
  return {};
}

Result<SearchDoc> SearchExecutor::make_doc(std::uint32_t doc) {
  FEDSWARM_ASSIGN_OR_RETURN(DocRow row, doc_row(txn_, t_, doc));
  SearchDoc out;
  out.dataset_id = std::string(row.dataset_id);
  out.version = std::string(row.version);
  out.publisher = row.publisher;
  out.size = row.size;
  out.number_of_files = row.number_of_files;
  out.published_at = row.published_at;
  std::uint8_t f = flags_.flags(doc);
  out.latest = f & kLatest;
  out.retracted = f & kRetracted;
  out.superseded = f & kSuperseded;
  for (std::size_t i = 0; i < row.npairs; ++i) {
    FacetPair p = row.pair(i);
    const std::string& name = facet_names_[p.facet];
    FEDSWARM_ASSIGN_OR_RETURN(std::string_view text, value_text(p.value));
    if (out.facets.empty() || out.facets.back().name != name) out.facets.push_back({name, {}});
    out.facets.back().values.emplace_back(text);
    if (name == "data_node") out.data_node = std::string(text);
  }
  return out;
}

Result<SearchResult> SearchExecutor::run(const SearchQuery& q) {
  view_ = !q.all_versions ? kViewLatest : (q.include_retracted ? kViewAll : kViewVisible);
  FEDSWARM_ASSIGN_OR_RETURN(std::uint64_t total, meta_u64(txn_, t_, meta_key::next_doc));
  total_docs_ = static_cast<std::uint32_t>(total);
  FEDSWARM_ASSIGN_OR_RETURN(auto all_facets, facets(txn_, t_));
  std::unordered_map<std::string_view, std::uint16_t> facet_ids;
  for (const auto& [name, id] : all_facets) {
    facet_names_.emplace(id, name);
    facet_ids.emplace(name, id);
  }

  // Requested facet counts, "*" = every indexed facet (sorted by name).
  std::vector<std::string> count_names;
  for (const auto& f : q.facet_fields) {
    if (f == "*")
      for (const auto& [name, id] : all_facets) count_names.push_back(name);
    else
      count_names.push_back(f);
  }

  // Identity constraints name documents directly rather than through postings.
  bool empty = false;
  FEDSWARM_ASSIGN_OR_RETURN(std::optional<DocIds> named, identity_docs(q));
  if (named && named->empty()) empty = true;

  // Constraints: one group per facet, in order of first appearance.
  std::vector<Group> groups;
  std::map<std::string_view, std::size_t> group_of;
  for (const auto& [name, value] : q.constraints) {
    if (is_identity_facet(name)) continue;
    auto fit = facet_ids.find(name);
    auto [git, inserted] = group_of.emplace(name, groups.size());
    if (inserted) groups.emplace_back();
    Group& g = groups[git->second];
    if (fit == facet_ids.end()) continue;  // unknown facet: the group stays empty
    g.facet = fit->second;
    FEDSWARM_ASSIGN_OR_RETURN(auto vid, value_id(g.facet, value));
    if (!vid || std::find(g.values.begin(), g.values.end(), *vid) != g.values.end()) continue;
    g.values.push_back(*vid);
    FEDSWARM_ASSIGN_OR_RETURN(std::uint64_t n, posting_size(g.facet, *vid));
    g.size += n;
  }
  for (auto& g : groups) {
    std::sort(g.values.begin(), g.values.end());
    if (g.values.empty()) empty = true;  // a facet none of whose values exist matches nothing
  }
  // A value every document carries (project=CMIP6 in a CMIP6 catalog: what ESGF's portal
  // sends) narrows nothing; dropping its group keeps such a query on the counters' path
  // instead of reading a posting list as long as the catalog.
  std::erase_if(groups, [&](const Group& g) { return g.values.size() == 1 && g.size == total_docs_ && total_docs_ > 0; });

  SearchResult out;
  std::vector<std::uint16_t> count_ids;  // parallel to count_names; meaningful where known
  std::vector<bool> known;
  for (const auto& name : count_names) {
    auto it = facet_ids.find(name);
    known.push_back(it != facet_ids.end());
    count_ids.push_back(it != facet_ids.end() ? it->second : 0);
  }
  std::vector<std::vector<FacetCount>> counted(count_names.size());

  DocIds page;
  if (groups.empty() && !named && !q.has_filters()) {
    std::array<std::uint64_t, kViews> totals{};
    MDB_val v;
    int rc = txn_.get(t_.meta, mdb_val(meta_key::view_counts), &v);
    if (rc == 0 && v.mv_size == sizeof(totals)) std::memcpy(totals.data(), v.mv_data, sizeof(totals));
    else if (rc != 0 && rc != MDB_NOTFOUND) return txn_.error(rc, "read index");
    out.num_found = totals[view_];
    FEDSWARM_ASSIGN_OR_RETURN(page, view_page(q.offset, q.limit));
    for (std::size_t i = 0; i < count_ids.size(); ++i)
      if (known[i]) FEDSWARM_TRY(count_from_counters(count_ids[i], counted[i]));
  } else {
    DocIds result;
    if (!empty) {
      if (groups.empty() && !named) {
        // Filters only: every document of the view is a candidate.
        FEDSWARM_ASSIGN_OR_RETURN(result, view_page(0, total_docs_));
      } else {
        FEDSWARM_ASSIGN_OR_RETURN(result, filter(groups, named));
      }
      FEDSWARM_TRY(apply_filters(q, facet_ids, result));
    }
    out.num_found = result.size();
    if (q.offset < result.size()) {
      std::size_t end = q.offset + std::min(q.limit, result.size() - q.offset);
      page.assign(result.begin() + static_cast<std::ptrdiff_t>(q.offset), result.begin() + static_cast<std::ptrdiff_t>(end));
    }
    // Distinct counted facets; a facet requested twice is counted once.
    std::vector<std::uint16_t> ids;
    for (std::size_t i = 0; i < count_ids.size(); ++i)
      if (known[i] && std::find(ids.begin(), ids.end(), count_ids[i]) == ids.end()) ids.push_back(count_ids[i]);
    if (!ids.empty() && !result.empty()) {
      std::vector<std::unordered_map<std::uint32_t, std::uint64_t>> by_value(ids.size());
      // Reading every posting list of a counted facet touches about one entry per
      // document; walking result rows in doc order costs about a quarter of a random
      // row lookup each.
      const std::uint64_t postings_cost = ids.size() * std::uint64_t{total_docs_} * kPostingEntryCost;
      if (result.size() * kRowLookupCost / 4 <= postings_cost)
        FEDSWARM_TRY(count_by_rows(result, ids, by_value));
      else
        FEDSWARM_TRY(count_by_postings(result, ids, by_value));
      for (std::size_t i = 0; i < count_ids.size(); ++i) {
        if (!known[i]) continue;
        std::size_t j = static_cast<std::size_t>(std::find(ids.begin(), ids.end(), count_ids[i]) - ids.begin());
        for (const auto& [vid, n] : by_value[j]) {
          FEDSWARM_ASSIGN_OR_RETURN(std::string_view text, value_text(vid));
          counted[i].push_back({std::string(text), n});
        }
      }
    }
  }
  for (std::size_t i = 0; i < count_names.size(); ++i) {
    std::sort(counted[i].begin(), counted[i].end(), [](const FacetCount& a, const FacetCount& b) { return a.value < b.value; });
    out.facet_counts.push_back({count_names[i], std::move(counted[i])});
  }
  out.docs.reserve(page.size());
  for (std::uint32_t d : page) {
    FEDSWARM_ASSIGN_OR_RETURN(SearchDoc doc, make_doc(d));
    out.docs.push_back(std::move(doc));
  }
  return out;
}

}  // namespace fedswarm
