#include "swarm/Placement.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <system_error>
#include <thread>
#include <vector>

#include "fedswarm/protocol/ReplicaRecord.hpp"
#include "fedswarm/storage/AtomicFile.hpp"
#include "fedswarm/storage/FileHasher.hpp"

namespace fedswarm {

namespace fs = std::filesystem;

namespace {

using Kind = PlacementOutcome::Kind;

PlacementOutcome failure(Kind kind, std::string reason, std::string message) {
  PlacementOutcome o;
  o.kind = kind;
  o.reason = std::move(reason);
  o.message = std::move(message);
  return o;
}

Status fsync_file(const fs::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(Errc::io, "fsync_failed", "cannot open " + p.string() + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return make_error(Errc::io, "fsync_failed", "cannot fsync " + p.string() + ": " + std::strerror(err));
  return {};
}

PlacementOutcome mismatch(const ManifestFile& f, std::string reason, std::string message) {
  PlacementOutcome o = failure(Kind::verify_failed, std::move(reason), std::move(message));
  o.file = f.path;
  return o;
}

// A file libtorrent verified block by block in this run: only its size (a file
// truncated or replaced since) is checked before the fsync.
PlacementOutcome check_trusted(const ManifestFile& f, const fs::path& p) {
  std::error_code ec;
  const std::uint64_t size = fs::file_size(p, ec);
  if (ec) return mismatch(f, "file_unreadable", f.path + ": " + ec.message());
  if (size != f.size)
    return mismatch(f, "size_mismatch",
                    f.path + " has " + std::to_string(size) + " bytes, the manifest says " + std::to_string(f.size));
  if (auto st = fsync_file(p); !st) return failure(Kind::error, st.error().reason, st.error().message);
  PlacementOutcome ok;
  ok.kind = Kind::placed;
  return ok;
}

PlacementOutcome verify_one(const ManifestFile& f, const fs::path& p, FileHasher& hasher) {
  auto digest = hasher.hash(p, 0);
  if (!digest) return mismatch(f, "file_unreadable", f.path + ": " + digest.error().message);
  if (digest->size != f.size)
    return mismatch(f, "size_mismatch",
                    f.path + " has " + std::to_string(digest->size) + " bytes, the manifest says " + std::to_string(f.size));
  if (digest->sha256 != f.sha256)
    return mismatch(f, "sha256_mismatch", f.path + ": SHA-256 differs from the manifest");
  if (auto st = fsync_file(p); !st) return failure(Kind::error, st.error().reason, st.error().message);
  PlacementOutcome ok;
  ok.kind = Kind::placed;
  return ok;
}

// Checks every file of the manifest under `dir`; the first mismatch (in manifest order)
// is the result. Files are hashed and fsynced on up to one thread per core: a version is
// typically a few large files, and one SHA-256 stream per file is CPU-bound while the
// fsyncs wait on the disk; one after the other, they add up to the time between "last
// piece received" and "placed".
PlacementOutcome verify_files(const Manifest& m, const fs::path& dir, const std::set<std::string>& trusted,
                              const std::atomic<bool>& cancel, std::set<fs::path>& dirs, std::uint64_t& rehashed,
                              std::uint64_t& trusted_bytes) {
  const std::size_t n = m.files.size();
  std::vector<PlacementOutcome> results(n);
  std::vector<char> hashed(n, 0);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    FileHasher hasher;
    for (std::size_t i; (i = next.fetch_add(1)) < n;) {
      if (cancel.load()) {
        results[i] = failure(Kind::cancelled, "cancelled", "the engine is stopping");
        continue;
      }
      const ManifestFile& f = m.files[i];
      if (trusted.count(f.path)) {
        results[i] = check_trusted(f, dir / f.path);
      } else {
        hashed[i] = 1;
        results[i] = verify_one(f, dir / f.path, hasher);
      }
    }
  };
  const std::size_t threads = std::min<std::size_t>(n, std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (std::size_t i = 1; i < threads; ++i) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (std::size_t i = 0; i < n; ++i) {
    if (results[i].kind == Kind::cancelled) continue;
    (hashed[i] ? rehashed : trusted_bytes) += m.files[i].size;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (results[i].kind != Kind::placed) return results[i];
    fs::path p = dir / m.files[i].path;
    for (fs::path d = p.parent_path(); d != dir && d.has_relative_path(); d = d.parent_path()) dirs.insert(d);
  }
  dirs.insert(dir);
  PlacementOutcome ok;
  ok.kind = Kind::placed;
  return ok;
}

}  // namespace

PlacementOutcome place_version(const PlacementJob& job, Catalog& catalog, const SigningKey& key,
                               const std::atomic<bool>& cancel) {
  const Manifest& m = job.manifest;
  const fs::path staged = job.staging_root / m.version;
  const fs::path& source = job.adopt ? job.final_dir : staged;
  std::error_code ec;

  if (!job.adopt)
    if (auto st = link_files(staged, job.links); !st) return failure(Kind::error, st.error().reason, st.error().message);
  std::set<fs::path> dirs;
  // An adopted directory was placed by an earlier run; linked files were never seen
  // by libtorrent: both are read again whatever the engine says.
  std::set<std::string> trusted;
  if (!job.adopt) {
    trusted = job.trusted;
    for (const auto& l : job.links) trusted.erase(l.path);
  }
  std::uint64_t rehashed = 0, trusted_bytes = 0;
  PlacementOutcome checked = verify_files(m, source, trusted, cancel, dirs, rehashed, trusted_bytes);
  checked.bytes_rehashed = rehashed;
  checked.bytes_trusted = trusted_bytes;
  if (checked.kind == Kind::verify_failed) {
    if (job.adopt)
      return failure(Kind::error, "destination_mismatch",
                     job.final_dir.string() + " already exists and does not match the manifest of " + m.instance_id() +
                         " (" + checked.message + "); move it out of the DRS tree, then resume the transfer");
    for (const auto& l : job.links) {
      if (l.path == checked.file) checked.linked = true;
      fs::remove(staged / l.path, ec);  // libtorrent never had them: they must not be there when it comes back
    }
    // Without a re-check, start over from nothing: a refetch must not trust these bytes.
    if (!job.keep_staging_on_mismatch) fs::remove_all(job.staging_root, ec);
    return checked;
  }
  if (checked.kind != Kind::placed) return checked;
  for (const auto& d : dirs)
    if (auto st = fsync_directory(d); !st) return failure(Kind::error, st.error().reason, st.error().message);

  if (!job.adopt) {
    const fs::path parent = job.final_dir.parent_path();
    fs::create_directories(parent, ec);
    if (ec)
      return failure(Kind::error, "place_failed",
                     "cannot create " + parent.string() + ": " + ec.message() +
                         (ec == std::errc::no_space_on_device
                              ? "; free space on the data root's file system (or give the node another data root), "
                                "then resume the transfer (fedswarm transfers --resume " + job.manifest.instance_id() + ")"
                              : "; check that the data root is writable, then resume the transfer"));
    // rename(2) replaces an empty directory silently: refuse any existing destination.
    if (fs::exists(fs::symlink_status(job.final_dir, ec)))
      return failure(Kind::error, "destination_exists",
                     job.final_dir.string() + " already exists; move it out of the DRS tree, then resume the transfer");
    if (::rename(staged.c_str(), job.final_dir.c_str()) != 0)
      return failure(Kind::error, "place_failed",
                     "cannot move " + staged.string() + " to " + job.final_dir.string() + ": " + std::strerror(errno) +
                         (errno == EXDEV ? " (the staging area and the DRS directory must be on one file system)" : "") +
                         "; fix the cause, then resume the transfer");
    for (const fs::path& d : {parent, job.staging_root})
      if (auto st = fsync_directory(d); !st) return failure(Kind::error, st.error().reason, st.error().message);
  }

  LocalReplica local;
  local.instance_id = m.instance_id();
  local.state = LocalState::complete;
  local.path = job.final_dir.string();
  local.resume_data = job.resume_data;
  local.bytes_done = m.total_size();
  local.updated_at = job.now;
  ReplicaRecord record{m.dataset_id, m.version, ReplicaState::complete, job.now};
  PlacementOutcome out;
  out.kind = Kind::placed;
  out.bytes_rehashed = rehashed;
  out.bytes_trusted = trusted_bytes;
  auto env = catalog.append_local(key, RecordKind::replica, record.encode(), job.now, &local);
  if (env) {
    out.record_seq = env->seq;
  } else if (env.error().code == Errc::io) {
    return failure(Kind::error, env.error().reason,
                   "placed " + job.final_dir.string() + " but cannot record it in the catalog: " + env.error().message);
  } else {
    // Refused by the receipt rules (not a roster member yet): the copy is still ours.
    out.record_error = env.error().message;
    if (auto st = catalog.put_local(local); !st)
      return failure(Kind::error, st.error().reason,
                     "placed " + job.final_dir.string() + " but cannot record it in the catalog: " + st.error().message);
  }
  // libtorrent's leftovers, if any; also after an adoption, whose staging root a crash
  // between the rename and this point left behind.
  fs::remove_all(job.staging_root, ec);
  return out;
}

}  // namespace fedswarm
