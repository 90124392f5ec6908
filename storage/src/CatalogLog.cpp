#include "CatalogLog.hpp"

#include <algorithm>

#include "CatalogRows.hpp"

namespace fedswarm {

namespace {

// First-chunk header: author (32) | seq (u64 BE) | kind (u16 BE) | signature (64) |
// body length (u32).
constexpr std::size_t kHeader = 32 + 8 + 2 + 64 + 4;

using IndexEntry = std::array<std::uint8_t, 16>;  // seq BE || position BE
IndexEntry index_entry(std::uint64_t seq, std::uint64_t position) {
  IndexEntry e;
  put_u64_be(e.data(), seq);
  put_u64_be(e.data() + 8, position);
  return e;
}

}  // namespace

Result<std::uint64_t> CatalogLog::append(LmdbTxn& txn, const Envelope& env) {
  if (!cursor_) cursor_.emplace(txn, t_.log);
  LmdbCursor& c = *cursor_;
  if (!c.ok()) return txn.error(c.open_error(), "append to log");
  if (!next_) {
    MDB_val k, v;
    int rc = c.get(&k, &v, MDB_LAST);
    if (rc == 0 && k.mv_size == 8) next_ = load<std::uint64_t>(k.mv_data) + 1;
    else if (rc == MDB_NOTFOUND) next_ = 0;
    else return rc == 0 ? corrupt_row("log") : txn.error(rc, "read log");
  }
  std::uint8_t header[kHeader];
  std::memcpy(header, env.author.data(), 32);
  put_u64_be(header + 32, env.seq);
  auto kind = static_cast<std::uint16_t>(env.kind);
  header[40] = static_cast<std::uint8_t>(kind >> 8);
  header[41] = static_cast<std::uint8_t>(kind);
  std::memcpy(header + 42, env.signature.data(), 64);
  auto body_len = static_cast<std::uint32_t>(env.body.size());
  std::memcpy(header + 106, &body_len, 4);

  const std::uint64_t first = *next_;
  const std::size_t total = kHeader + env.body.size();
  std::uint64_t pos = first;
  for (std::size_t off = 0; off < total; ++pos) {
    const std::size_t n = std::min(kLogChunkBytes, total - off);
    MDB_val k = mdb_pod(pos), v{n, nullptr};
    if (int rc = mdb_cursor_put(c.raw(), &k, &v, MDB_RESERVE | MDB_APPEND); rc != 0) return txn.error(rc, "append to log");
    auto* out = static_cast<std::uint8_t*>(v.mv_data);
    // Copy bytes [off, off + n) of header || body.
    std::size_t done = 0;
    if (off < kHeader) {
      done = std::min(n, kHeader - off);
      std::memcpy(out, header + off, done);
    }
    if (done < n) std::memcpy(out + done, env.body.data() + (off + done - kHeader), n - done);
    off += n;
  }
  next_ = pos;
  IndexEntry e = index_entry(env.seq, first);
  FEDSWARM_TRY(txn.put(t_.log_index, mdb_val(env.author.view()), mdb_val(ByteView(e)), MDB_APPENDDUP));
  return first;
}

Result<Envelope> CatalogLog::read(LmdbTxn& txn, const CatalogTables& t, std::uint64_t position) {
  LmdbCursor c(txn, t.log);
  if (!c.ok()) return txn.error(c.open_error(), "read log");
  MDB_val k = mdb_pod(position), v;
  int rc = c.get(&k, &v, MDB_SET_KEY);
  if (rc != 0) return rc == MDB_NOTFOUND ? corrupt_row("log") : txn.error(rc, "read log");
  if (v.mv_size < kHeader) return corrupt_row("log");
  const auto* h = static_cast<const std::uint8_t*>(v.mv_data);
  Envelope e;
  std::memcpy(e.author.data(), h, 32);
  e.seq = get_u64_be(h + 32);
  auto kind = record_kind_from_int(static_cast<std::uint16_t>(h[40] << 8 | h[41]));
  if (!kind) return corrupt_row("log");
  e.kind = *kind;
  std::memcpy(e.signature.data(), h + 42, 64);
  std::uint32_t body_len;
  std::memcpy(&body_len, h + 106, 4);
  e.body.reserve(body_len);
  e.body.assign(h + kHeader, h + v.mv_size);
  for (std::uint64_t next = position + 1; e.body.size() < body_len; ++next) {
    rc = c.get(&k, &v, MDB_NEXT);
    if (rc != 0 || k.mv_size != 8 || load<std::uint64_t>(k.mv_data) != next ||
        e.body.size() + v.mv_size > body_len)
      return rc != 0 && rc != MDB_NOTFOUND ? txn.error(rc, "read log") : corrupt_row("log");
    const auto* p = static_cast<const std::uint8_t*>(v.mv_data);
    e.body.insert(e.body.end(), p, p + v.mv_size);
  }
  if (e.body.size() != body_len) return corrupt_row("log");
  return e;
}

Result<std::uint64_t> CatalogLog::last_seq(LmdbTxn& txn, const CatalogTables& t, const PublicKey& author) {
  LmdbCursor c(txn, t.log_index);
  if (!c.ok()) return txn.error(c.open_error(), "read log index");
  MDB_val k = mdb_val(author.view()), v;
  int rc = c.get(&k, &v, MDB_SET);
  if (rc == MDB_NOTFOUND) return std::uint64_t{0};
  if (rc == 0) rc = c.get(&k, &v, MDB_LAST_DUP);
  if (rc != 0) return txn.error(rc, "read log index");
  if (v.mv_size != 16) return corrupt_row("log_index");
  return get_u64_be(static_cast<const std::uint8_t*>(v.mv_data));
}

Result<VersionVector> CatalogLog::version_vector(LmdbTxn& txn, const CatalogTables& t) {
  VersionVector vv;
  LmdbCursor c(txn, t.log_index);
  if (!c.ok()) return txn.error(c.open_error(), "read log index");
  MDB_val k, v;
  int rc;
  for (rc = c.get(&k, &v, MDB_FIRST); rc == 0; rc = c.get(&k, &v, MDB_NEXT_NODUP)) {
    if ((rc = c.get(&k, &v, MDB_LAST_DUP)) != 0) break;
    auto author = PublicKey::from(view(k));
    if (!author || v.mv_size != 16) return corrupt_row("log_index");
    vv[*author] = get_u64_be(static_cast<const std::uint8_t*>(v.mv_data));
  }
  if (rc != MDB_NOTFOUND) return txn.error(rc, "read log index");
  return vv;
}

Result<std::vector<Envelope>> CatalogLog::after(LmdbTxn& txn, const CatalogTables& t, const PublicKey& author,
                                                std::uint64_t after, std::size_t max_records, std::size_t max_bytes) {
  std::vector<Envelope> out;
  if (after == UINT64_MAX || max_records == 0) return out;
  LmdbCursor c(txn, t.log_index);
  if (!c.ok()) return txn.error(c.open_error(), "read log index");
  IndexEntry from = index_entry(after + 1, 0);
  MDB_val k = mdb_val(author.view()), v = mdb_val(ByteView(from));
  std::size_t bytes = 0;
  int rc;
  for (rc = c.get(&k, &v, MDB_GET_BOTH_RANGE); rc == 0; rc = c.get(&k, &v, MDB_NEXT_DUP)) {
    if (v.mv_size != 16) return corrupt_row("log_index");
    FEDSWARM_ASSIGN_OR_RETURN(Envelope e, read(txn, t, get_u64_be(static_cast<const std::uint8_t*>(v.mv_data) + 8)));
    const std::size_t size = e.body.size() + kHeader;
    if (!out.empty() && bytes + size > max_bytes) break;
    bytes += size;
    out.push_back(std::move(e));
    if (out.size() >= max_records) break;
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return txn.error(rc, "read log index");
  return out;
}

Result<std::uint64_t> CatalogLog::count(LmdbTxn& txn, const CatalogTables& t) {
  MDB_stat st;
  if (int rc = mdb_stat(txn.raw(), t.log_index, &st); rc != 0) return txn.error(rc, "stat log");
  return std::uint64_t{st.ms_entries};
}

}  // namespace fedswarm
