// LmdbTxn / LmdbCursor: thin RAII wrappers over an LMDB transaction and cursor, with
// LMDB return codes turned into fedswarm errors (private to storage/).
//
// Contract
// - A transaction belongs to the thread that began it (the environment is opened with
//   MDB_NOTLS, so read transactions are not tied to a thread-local slot, but a write
//   transaction must stay on its thread). Destroying an unfinished transaction aborts it.
// - Lookups return `int` LMDB codes (0 or MDB_NOTFOUND on the hot paths; anything else is
//   an error the caller turns into a Status with `error()`); writes return a Status.
//   MDB_MAP_FULL becomes an `io` error with reason "map_full", which LmdbEnv::write
//   recognises to grow the map and replay the change.
// - Values handed out as ByteView point into the memory map and stay valid only until
//   the next write in the same transaction or the end of the transaction.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <cstring>
#include <string_view>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

class LmdbEnv;

// Error for LMDB code `rc` during `what` on the environment at `env`.
Error lmdb_error(int rc, const LmdbEnv& env, std::string_view what);

inline MDB_val mdb_val(ByteView b) {
  return MDB_val{b.size(), const_cast<std::uint8_t*>(b.data())};
}
inline MDB_val mdb_val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
template <class T>
inline MDB_val mdb_pod(const T& v) {
  return MDB_val{sizeof(T), const_cast<T*>(&v)};
}
inline ByteView view(const MDB_val& v) { return {static_cast<const std::uint8_t*>(v.mv_data), v.mv_size}; }
inline std::string_view chars(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }
// Reads a native-endian POD (integer keys, counters) from an unaligned value.
template <class T>
inline T load(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

class LmdbTxn {
 public:
  LmdbTxn(const LmdbEnv& env, MDB_txn* txn, bool read_only) : env_(&env), txn_(txn), read_only_(read_only) {}
  LmdbTxn(const LmdbTxn&) = delete;
  LmdbTxn& operator=(const LmdbTxn&) = delete;
  ~LmdbTxn() { abort(); }

  MDB_txn* raw() const { return txn_; }
  const LmdbEnv& env() const { return *env_; }
  bool read_only() const { return read_only_; }

  // 0, MDB_NOTFOUND or an error code.
  int get(MDB_dbi dbi, MDB_val key, MDB_val* out) const { return mdb_get(txn_, dbi, &key, out); }
  Status put(MDB_dbi dbi, MDB_val key, MDB_val value, unsigned flags = 0) {
    int rc = mdb_put(txn_, dbi, &key, &value, flags);
    if (rc != 0) return error(rc, "write");
    return {};
  }
  // Reserves `size` bytes for the value of `key` and returns where to write them.
  Result<std::uint8_t*> reserve(MDB_dbi dbi, MDB_val key, std::size_t size, unsigned flags = 0) {
    MDB_val v{size, nullptr};
    int rc = mdb_put(txn_, dbi, &key, &v, flags | MDB_RESERVE);
    if (rc != 0) return error(rc, "write");
    return static_cast<std::uint8_t*>(v.mv_data);
  }
  // Deletes `key` (or one duplicate `value` of it); a missing key is not an error.
  Status del(MDB_dbi dbi, MDB_val key, const MDB_val* value = nullptr) {
    MDB_val v = value ? *value : MDB_val{0, nullptr};
    int rc = mdb_del(txn_, dbi, &key, value ? &v : nullptr);
    if (rc != 0 && rc != MDB_NOTFOUND) return error(rc, "delete");
    return {};
  }
  Error error(int rc, std::string_view what) const { return lmdb_error(rc, *env_, what); }

  // Ends the transaction. commit() returns the commit's error (the transaction is gone
  // either way).
  Status commit() {
    MDB_txn* t = txn_;
    txn_ = nullptr;
    int rc = mdb_txn_commit(t);
    if (rc != 0) return error(rc, "commit");
    return {};
  }
  void abort() {
    if (txn_) mdb_txn_abort(txn_);
    txn_ = nullptr;
  }

 private:
  const LmdbEnv* env_;
  MDB_txn* txn_;
  bool read_only_;
};

class LmdbCursor {
 public:
  LmdbCursor(LmdbTxn& txn, MDB_dbi dbi) : txn_(&txn) {
    // Fails only for a bad handle, i.e. a programming error.
    if (int rc = mdb_cursor_open(txn.raw(), dbi, &cur_); rc != 0) cur_ = nullptr, rc_ = rc;
  }
  LmdbCursor(const LmdbCursor&) = delete;
  LmdbCursor& operator=(const LmdbCursor&) = delete;
  ~LmdbCursor() {
    if (cur_) mdb_cursor_close(cur_);
  }

  bool ok() const { return cur_ != nullptr; }
  int open_error() const { return rc_; }
  MDB_cursor* raw() const { return cur_; }
  int get(MDB_val* key, MDB_val* value, MDB_cursor_op op) { return mdb_cursor_get(cur_, key, value, op); }
  Status put(MDB_val key, MDB_val value, unsigned flags = 0) {
    int rc = mdb_cursor_put(cur_, &key, &value, flags);
    if (rc != 0) return txn_->error(rc, "write");
    return {};
  }
  Status del(unsigned flags = 0) {
    int rc = mdb_cursor_del(cur_, flags);
    if (rc != 0) return txn_->error(rc, "delete");
    return {};
  }
  Error error(int rc, std::string_view what) const { return txn_->error(rc, what); }

 private:
  LmdbTxn* txn_;
  MDB_cursor* cur_ = nullptr;
  int rc_ = 0;
};

}  // namespace fedswarm
