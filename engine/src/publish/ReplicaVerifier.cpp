#include "fedswarm/engine/ReplicaVerifier.hpp"

#include <filesystem>
#include <system_error>

#include "swarm/MoveAside.hpp"
#include "fedswarm/storage/FileHasher.hpp"
#include "fedswarm/storage/Xxh3File.hpp"

namespace fedswarm {

namespace fs = std::filesystem;

namespace {

void fail(VerifyReport& r, std::string file, std::string reason, std::string message) {
  r.ok = false;
  r.problems.push_back({std::move(file), std::move(reason), std::move(message)});
}

std::string describe(const VerifyReport& r) {
  std::string s = std::string("verify (") + (r.mode == VerifyMode::full ? "full" : "fast") + ") failed: ";
  if (r.problems.empty()) return s + "unknown problem";
  const auto& p = r.problems.front();
  s += (p.file.empty() ? std::string("version directory") : p.file) + ": " + p.reason;
  if (r.problems.size() > 1) s += " (and " + std::to_string(r.problems.size() - 1) + " more)";
  return s + "; fetching it again";
}

}  // namespace

Result<VerifyReport> ReplicaVerifier::check(const LocalReplica& local, VerifyMode mode,
                                            const std::function<void(const VerifyProgress&)>& progress) {
  FEDSWARM_ASSIGN_OR_RETURN(Manifest manifest, catalog_.manifest(local.instance_id));
  VerifyReport r;
  r.instance_id = local.instance_id;
  r.directory = local.path;
  r.mode = mode;
  const fs::path dir = local.path;
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) {
    fail(r, "", "missing_directory",
         (dir.empty() ? std::string("no directory is recorded") : dir.string() + " does not exist") +
             "; the replica will be fetched again");
    return r;
  }
  VerifyProgress p;
  p.bytes_total = manifest.total_size();
  FileHasher hasher;
  for (const auto& f : manifest.files) {
    const fs::path path = dir / f.path;
    const std::uint64_t base = p.bytes_done;
    p.current = f.path;
    auto on_bytes = [&](std::uint64_t done) {
      p.bytes_done = base + done;
      if (progress) progress(p);
    };
    auto st = fs::status(path, ec);
    if (!fs::exists(st)) {
      fail(r, f.path, "missing_file", "missing");
    } else if (!fs::is_regular_file(st)) {
      fail(r, f.path, "not_regular_file", "not a regular file");
    } else if (std::uint64_t size = fs::file_size(path, ec); ec || size != f.size) {
      fail(r, f.path, "size_mismatch",
           "holds " + (ec ? std::string("an unknown number of") : std::to_string(size)) + " bytes; the manifest says " +
               std::to_string(f.size));
    } else if (mode == VerifyMode::fast) {
      auto digest = xxh3_file(path, on_bytes);
      if (!digest) fail(r, f.path, "unreadable_file", digest.error().message);
      else if (*digest != f.xxh3) fail(r, f.path, "xxh3_mismatch", "xxh3-128 differs from the manifest's");
      else r.bytes_checked += f.size;
    } else {
      auto digest = hasher.hash(path, 0, on_bytes);
      if (!digest) fail(r, f.path, "unreadable_file", digest.error().message);
      else if (digest->sha256 != f.sha256) fail(r, f.path, "sha256_mismatch", "SHA-256 differs from the manifest's");
      else if (digest->xxh3 != f.xxh3) fail(r, f.path, "xxh3_mismatch", "xxh3-128 differs from the manifest's");
      else r.bytes_checked += f.size;
    }
    ++r.files_checked;
    p.bytes_done = base + f.size;
    if (progress) progress(p);
  }
  return r;
}

Status ReplicaVerifier::withdraw(VerifyReport& report, std::int64_t now) {
  FEDSWARM_ASSIGN_OR_RETURN(std::optional<VersionInfo> version, catalog_.version(report.instance_id));
  if (!version)
    return make_error(Errc::not_found, "unknown_version", report.instance_id + " is not in this catalog");
  FEDSWARM_ASSIGN_OR_RETURN(std::optional<LocalReplica> local, catalog_.local(report.instance_id));
  LocalReplica l = local ? *local : LocalReplica{};
  l.instance_id = report.instance_id;

  std::error_code ec;
  if (!l.path.empty() && fs::is_directory(fs::symlink_status(l.path, ec))) {
    FEDSWARM_ASSIGN_OR_RETURN(fs::path moved, move_aside(l.path, home_.quarantine_dir(), report.instance_id));
    report.moved_to = moved.string();
  }
  // A retracted version is never fetched again (RetractionDecision); anything else is.
  l.state = version->retraction ? LocalState::dropped : LocalState::wanted;
  l.path.clear();
  l.resume_data.clear();
  l.bytes_done = 0;
  l.last_error = describe(report);
  l.updated_at = now;
  ReplicaRecord rec{version->dataset_id, version->version, ReplicaState::dropped, now};
  auto env = catalog_.append_local(home_.key(), RecordKind::replica, rec.encode(), now, &l);
  if (env) {
    report.dropped_record_seq = env->seq;
  } else {
    if (env.error().code == Errc::io) return std::move(env).error();
    report.record_error = env.error().message;
    FEDSWARM_TRY(catalog_.put_local(l));
  }
  report.withdrawn = true;
  report.new_state = l.state;
  return {};
}

Result<VerifyReport> ReplicaVerifier::verify(const LocalReplica& local, VerifyMode mode, std::int64_t now,
                                             const std::function<void(const VerifyProgress&)>& progress) {
  FEDSWARM_ASSIGN_OR_RETURN(VerifyReport r, check(local, mode, progress));
  if (!r.ok) FEDSWARM_TRY(withdraw(r, now));
  return r;
}

}  // namespace fedswarm
