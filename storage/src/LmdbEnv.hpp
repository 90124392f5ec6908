// LmdbEnv: one LMDB environment with on-demand map growth (private to storage/).
//
// Contract
// - Opened with MDB_NOTLS: any thread may run `read` and `write` concurrently; `write`
//   calls serialize within the process (and across processes on LMDB's writer lock).
// - `write(fn)` runs `fn` in one write transaction and commits it. If the map fills
//   (MDB_MAP_FULL, from a write or from the commit) the transaction is aborted, the map
//   is doubled (up to `max_map_bytes`) and `fn` is called again from scratch, so `fn`
//   must be replayable: it may not keep state from an earlier attempt. A non-OK status
//   returned by `fn` aborts the transaction and is returned.
// - A map grown by another process (MDB_MAP_RESIZED) is adopted transparently.
// - Changing the map size requires that no transaction of this process is open, so
//   every transaction holds a shared "gate" and resizing takes it exclusively.
// - Stale reader slots of dead processes are cleared at open (mdb_reader_check).
// - Errors: `io` (reasons map_full/catalog_full/disk_full/permission_denied/lmdb_error),
//   `not_found` (catalog_missing, read-only open of a missing catalog), `corrupt`.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>

#include "LmdbTxn.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

class LmdbEnv {
 public:
  struct Options {
    std::filesystem::path dir;
    bool read_only = false;
    std::uint64_t initial_map_bytes = 64u << 20;
    std::uint64_t max_map_bytes = 1ull << 40;
    unsigned max_tables = 32;
    bool durable = true;  // false: MDB_NOSYNC | MDB_NOMETASYNC (see CatalogOptions)
  };
  struct TableSpec {
    const char* name;
    unsigned flags;  // MDB_DUPSORT, MDB_INTEGERKEY, ... (MDB_CREATE is added when writable)
    MDB_dbi* handle;
    // A read-only open of a catalog that lacks the table (made by an older fedswarm)
    // leaves *handle 0 instead of failing; readers treat 0 as an empty table.
    bool optional = false;
  };

  static Result<std::unique_ptr<LmdbEnv>> open(const Options& options);
  ~LmdbEnv();
  LmdbEnv(const LmdbEnv&) = delete;
  LmdbEnv& operator=(const LmdbEnv&) = delete;

  // Opens every table (creating missing ones unless read-only) in one transaction.
  Status open_tables(std::span<const TableSpec> tables);

  // Runs `fn(LmdbTxn&)` in a read transaction and returns what it returns (a Result or
  // Status).
  template <class Fn>
  auto read(Fn&& fn) const -> decltype(fn(std::declval<LmdbTxn&>())) {
    std::shared_lock gate(gate_);
    MDB_txn* raw = nullptr;
    if (int rc = begin(gate, MDB_RDONLY, &raw); rc != 0) return lmdb_error(rc, *this, "begin read");
    LmdbTxn txn(*this, raw, true);
    return fn(txn);
  }

  Status write(const std::function<Status(LmdbTxn&)>& fn);

  const std::filesystem::path& dir() const { return dir_; }
  bool read_only() const { return read_only_; }
  MDB_env* raw() const { return env_; }
  std::uint64_t map_bytes() const;
  // Bytes the data file occupies on disk.
  std::uint64_t file_bytes() const;

 private:
  LmdbEnv() = default;
  // Begins a transaction while `gate` is held shared; adopts a map resized by another
  // process (which needs the gate exclusively for a moment).
  int begin(std::shared_lock<std::shared_mutex>& gate, unsigned flags, MDB_txn** out) const;
  Status grow();

  MDB_env* env_ = nullptr;
  std::filesystem::path dir_;
  bool read_only_ = false;
  std::uint64_t max_map_bytes_ = 0;
  mutable std::shared_mutex gate_;
  std::mutex write_mutex_;
};

}  // namespace fedswarm
