#include "LmdbEnv.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace fedswarm {

Error lmdb_error(int rc, const LmdbEnv& env, std::string_view what) {
  const std::string where = env.dir().string();
  const std::string detail = std::string(what) + " on catalog " + where + ": " + mdb_strerror(rc);
  switch (rc) {
    case MDB_MAP_FULL:
      // Internal signal for LmdbEnv::write; only escapes when growth is impossible.
      return make_error(Errc::io, "map_full", detail);
    case ENOSPC:
      return make_error(Errc::io, "disk_full", "disk full: free space on the file system of " + where + " and retry (" + detail + ")");
    case EACCES:
    case EPERM:
    case EROFS:
      return make_error(Errc::io, "permission_denied", detail + "; check that you may write " + where);
    case ENOENT:
      return make_error(Errc::not_found, "catalog_missing", "no catalog at " + where + ": create the node home first (`fedswarm init`)");
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
      return make_error(Errc::corrupt, "catalog_corrupt", detail + "; restore the catalog from a backup or re-sync it from peers");
    case MDB_READERS_FULL:
      return make_error(Errc::io, "readers_full", detail + "; too many processes read the catalog at once, retry");
    case MDB_NOTFOUND:
      return make_error(Errc::not_found, "not_found", detail);
    default:
      return make_error(Errc::io, "lmdb_error", detail + "; retry, and check the disk if it persists");
  }
}

Result<std::unique_ptr<LmdbEnv>> LmdbEnv::open(const Options& options) {
  std::unique_ptr<LmdbEnv> env(new LmdbEnv());
  env->dir_ = options.dir;
  env->read_only_ = options.read_only;
  env->max_map_bytes_ = options.max_map_bytes;
  if (!options.read_only) {
    std::error_code ec;
    std::filesystem::create_directories(options.dir, ec);
    if (ec)
      return make_error(Errc::io, "permission_denied", "cannot create catalog directory " + options.dir.string() + ": " + ec.message());
  } else if (!std::filesystem::exists(options.dir / "data.mdb")) {
    return lmdb_error(ENOENT, *env, "open");
  }
  if (int rc = mdb_env_create(&env->env_); rc != 0) return lmdb_error(rc, *env, "create environment");
  mdb_env_set_maxdbs(env->env_, options.max_tables);
  // Daemon threads, CLI processes and tests may all read at once.
  mdb_env_set_maxreaders(env->env_, 510);
  // LMDB keeps the larger of this and the size recorded in an existing catalog.
  mdb_env_set_mapsize(env->env_, options.initial_map_bytes);
  // NORDAHEAD: lookups are random; the kernel's readahead on a page fault would read
  // up to megabytes per B-tree page once the catalog outgrows RAM (measured: thrashing
  // at 10M versions on a 23 GiB machine).
  unsigned flags = MDB_NOTLS | MDB_NORDAHEAD | (options.read_only ? MDB_RDONLY : 0u) |
                   (options.durable ? 0u : static_cast<unsigned>(MDB_NOSYNC | MDB_NOMETASYNC));
  if (int rc = mdb_env_open(env->env_, options.dir.c_str(), flags, 0640); rc != 0) {
    Error e = lmdb_error(rc, *env, "open");
    mdb_env_close(env->env_);
    env->env_ = nullptr;
    return e;
  }
  int dead = 0;
  mdb_reader_check(env->env_, &dead);
  return env;
}

LmdbEnv::~LmdbEnv() {
  if (env_) mdb_env_close(env_);
}

Status LmdbEnv::open_tables(std::span<const TableSpec> tables) {
  std::shared_lock gate(gate_);
  MDB_txn* raw = nullptr;
  if (int rc = begin(gate, read_only_ ? MDB_RDONLY : 0u, &raw); rc != 0) return lmdb_error(rc, *this, "begin");
  LmdbTxn txn(*this, raw, read_only_);
  for (const auto& t : tables) {
    unsigned flags = t.flags | (read_only_ ? 0u : static_cast<unsigned>(MDB_CREATE));
    if (int rc = mdb_dbi_open(raw, t.name, flags, t.handle); rc != 0) {
      if (rc == MDB_NOTFOUND && read_only_ && t.optional) {
        *t.handle = 0;
        continue;
      }
      if (rc == MDB_NOTFOUND)
        return make_error(Errc::corrupt, "catalog_incomplete",
                          "catalog " + dir_.string() + " has no table " + t.name + "; open it once read-write (start the node) to upgrade it");
      return lmdb_error(rc, *this, std::string("open table ") + t.name);
    }
  }
  // Handles opened in a transaction become visible to others only after it commits.
  return txn.commit();
}

int LmdbEnv::begin(std::shared_lock<std::shared_mutex>& gate, unsigned flags, MDB_txn** out) const {
  for (;;) {
    int rc = mdb_txn_begin(env_, nullptr, flags, out);
    if (rc != MDB_MAP_RESIZED) return rc;
    // Another process grew the map: adopt its size. This needs every transaction of
    // this process closed, hence the exclusive gate.
    gate.unlock();
    {
      std::unique_lock exclusive(gate_);
      mdb_env_set_mapsize(env_, 0);
    }
    gate.lock();
  }
}

Status LmdbEnv::grow() {
  std::unique_lock exclusive(gate_);
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  std::uint64_t current = info.me_mapsize;
  if (current >= max_map_bytes_)
    return make_error(Errc::io, "catalog_full",
                      "catalog " + dir_.string() + " reached its size limit of " + std::to_string(max_map_bytes_) +
                          " bytes; raise the limit in the node configuration");
  std::uint64_t next = std::min<std::uint64_t>(current * 2, max_map_bytes_);
  if (int rc = mdb_env_set_mapsize(env_, next); rc != 0) return lmdb_error(rc, *this, "grow map");
  return {};
}

Status LmdbEnv::write(const std::function<Status(LmdbTxn&)>& fn) {
  if (read_only_)
    return make_error(Errc::io, "read_only", "catalog " + dir_.string() + " is open read-only");
  std::lock_guard serial(write_mutex_);
  for (;;) {
    std::shared_lock gate(gate_);
    MDB_txn* raw = nullptr;
    if (int rc = begin(gate, 0, &raw); rc != 0) return lmdb_error(rc, *this, "begin write");
    LmdbTxn txn(*this, raw, false);
    Status s = fn(txn);
    if (s.ok()) {
      s = txn.commit();
    } else {
      txn.abort();
    }
    if (s.ok() || s.error().reason != "map_full") return s;
    gate.unlock();
    FEDSWARM_TRY(grow());
  }
}

std::uint64_t LmdbEnv::map_bytes() const {
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  return info.me_mapsize;
}

std::uint64_t LmdbEnv::file_bytes() const {
  struct stat st {};
  if (::stat((dir_ / "data.mdb").c_str(), &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.st_blocks) * 512u;
}

}  // namespace fedswarm
