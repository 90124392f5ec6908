#include "SearchPostings.hpp"

#include <algorithm>
#include <cstring>

#include "CatalogRows.hpp"

namespace fedswarm {

Status read_postings(LmdbTxn& txn, const CatalogTables& t, std::uint32_t value_id, DocIds& out) {
  LmdbCursor c(txn, t.postings);
  if (!c.ok()) return txn.error(c.open_error(), "read index");
  MDB_val k = mdb_pod(value_id), v;
  int rc = c.get(&k, &v, MDB_SET);
  if (rc == MDB_NOTFOUND) return {};
  if (rc != 0) return txn.error(rc, "read index");
  for (rc = c.get(&k, &v, MDB_GET_MULTIPLE); rc == 0; rc = c.get(&k, &v, MDB_NEXT_MULTIPLE)) {
    std::size_t n = v.mv_size / sizeof(std::uint32_t);
    std::size_t at = out.size();
    out.resize(at + n);
    std::memcpy(out.data() + at, v.mv_data, n * sizeof(std::uint32_t));
  }
  if (rc != MDB_NOTFOUND) return txn.error(rc, "read index");
  return {};
}

Status filter_by_postings(LmdbTxn& txn, const CatalogTables& t, std::uint32_t value_id,
                          std::span<const std::uint32_t> candidates, DocIds& out) {
  LmdbCursor c(txn, t.postings);
  if (!c.ok()) return txn.error(c.open_error(), "read index");
  std::size_t i = 0;
  while (i < candidates.size()) {
    std::uint32_t x = candidates[i];
    MDB_val k = mdb_pod(value_id), v = mdb_pod(x);
    int rc = c.get(&k, &v, MDB_GET_BOTH_RANGE);
    if (rc == MDB_NOTFOUND) break;  // no id >= x in the list
    if (rc != 0) return txn.error(rc, "read index");
    // The page holding that id (a key with a single id leaves `v` at it).
    if ((rc = c.get(&k, &v, MDB_GET_MULTIPLE)) != 0) return txn.error(rc, "read index");
    if (v.mv_size == 0 || v.mv_size % sizeof(std::uint32_t) != 0) return corrupt_row("postings");
    const std::size_t n = v.mv_size / sizeof(std::uint32_t);
    const auto* page = static_cast<const std::uint8_t*>(v.mv_data);
    auto at = [&](std::size_t j) { return load<std::uint32_t>(page + j * sizeof(std::uint32_t)); };
    const std::uint32_t last = at(n - 1);
    // Candidates up to the page's last id are decided by this page (binary search).
    for (; i < candidates.size() && candidates[i] <= last; ++i) {
      std::size_t lo = 0, hi = n;
      while (lo < hi) {
        std::size_t mid = (lo + hi) / 2;
        if (at(mid) < candidates[i]) lo = mid + 1;
        else hi = mid;
      }
      if (lo < n && at(lo) == candidates[i]) out.push_back(candidates[i]);
    }
    // x <= last, so at least one candidate was decided: the loop always progresses.
  }
  return {};
}

DocIds union_of(std::vector<DocIds>&& lists) {
  if (lists.empty()) return {};
  if (lists.size() == 1) return std::move(lists[0]);
  // Merge smallest first, like Huffman: total work ~ n log k.
  std::sort(lists.begin(), lists.end(), [](const DocIds& a, const DocIds& b) { return a.size() > b.size(); });
  while (lists.size() > 1) {
    DocIds a = std::move(lists.back());
    lists.pop_back();
    DocIds b = std::move(lists.back());
    lists.pop_back();
    DocIds merged;
    merged.reserve(a.size() + b.size());
    std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(merged));
    auto pos = std::upper_bound(lists.begin(), lists.end(), merged,
                                [](const DocIds& x, const DocIds& y) { return x.size() > y.size(); });
    lists.insert(pos, std::move(merged));
  }
  return std::move(lists[0]);
}

}  // namespace fedswarm
