#include "swarm/StagingArea.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <system_error>

namespace fedswarm {

namespace fs = std::filesystem;

namespace {

struct Source {
  fs::path file;
  std::uint64_t size = 0;
};

// Files of the dataset's other complete local versions, by pieces root.
std::map<Sha256, Source> earlier_files(const Catalog& catalog, const Manifest& manifest) {
  std::map<Sha256, Source> out;
  auto versions = catalog.versions_of(manifest.dataset_id);
  if (!versions) return out;  // linking is an optimisation: download instead
  for (const auto& v : *versions) {
    if (v.version == manifest.version) continue;
    auto local = catalog.local(v.instance_id());
    if (!local || !*local || (*local)->state != LocalState::complete || (*local)->path.empty()) continue;
    auto m = catalog.manifest(v.instance_id());
    if (!m) continue;
    auto info = InfoDict::parse(m->info_dict);
    if (!info) continue;
    for (const auto& f : info->files)
      if (f.size > 0) out.emplace(f.pieces_root, Source{fs::path((*local)->path) / f.path, f.size});
  }
  return out;
}

// Hard link, or copy when the file systems differ (or links are refused). Leaves
// nothing at `to` on failure.
bool link_or_copy(const fs::path& from, const fs::path& to) {
  if (::link(from.c_str(), to.c_str()) == 0) return true;
  if (errno != EXDEV && errno != EPERM && errno != EMLINK && errno != ENOTSUP) return false;
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::none, ec);
  if (ec) fs::remove(to, ec);
  return !ec && fs::exists(to, ec);
}

std::string byte_text(std::uint64_t n) {
  if (n >= 10ull << 20) return std::to_string(n >> 20) + " MiB";
  if (n >= 10ull << 10) return std::to_string(n >> 10) + " KiB";
  return std::to_string(n) + " bytes";
}

// Reserves the full size of every file libtorrent downloads, before it has the torrent.
// libtorrent 2.0.8 allocates a file only at its first write, by ftruncate then
// posix_fallocate: on a full file system the fallocate fails after the ftruncate made
// a full-size sparse file, and the write fails. The piece's hash job (queued when its
// last block was handed to the disk threads) then reads that block back from the hole:
// on a full tmpfs that mapped read must allocate a page and the node dies of SIGBUS
// (mmap_storage::hash2 has no signal guard); elsewhere it reads zeros, the piece fails
// as if its sender had sent corrupt data, and the only peer of a piece is banned at
// once. The sparse file also stays: the torrent added again after the pause checked
// it (see TorrentParams' has_trees). With the space reserved here, a full disk is one
// clean error before any byte is fetched, and a disk that fills later cannot fail a
// write of a staged file. Files this call created are removed again on failure (they
// hold nothing); files that were there keep what they hold.
Status reserve_files(const fs::path& data_root, const fs::path& staged_dir, const Manifest& manifest,
                     const InfoDict& info, const LinkedFiles& linked) {
  std::vector<fs::path> created;
  auto undo = [&] {
    std::error_code ec;
    for (const auto& p : created) fs::remove(p, ec);
  };
  std::uint64_t needed = 0;
  for (const auto& f : info.files) needed += f.size;
  needed -= std::min(needed, linked.bytes);
  for (const auto& f : info.files) {
    if (f.size == 0) continue;
    if (std::any_of(linked.list.begin(), linked.list.end(), [&](const LinkedFile& l) { return l.path == f.path; }))
      continue;
    const fs::path path = staged_dir / f.path;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    const bool existed = fs::exists(fs::symlink_status(path, ec));
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
      const int err = errno;
      undo();
      return make_error(Errc::io, "staging_failed",
                        "cannot create " + path.string() + ": " + std::strerror(err) +
                            "; check that the data root is writable and has free space, then resume the transfer");
    }
    if (!existed) created.push_back(path);
    int err = 0;
    do {
      err = ::fallocate(fd, 0, 0, static_cast<off_t>(f.size)) == 0 ? 0 : errno;
    } while (err == EINTR);
    ::close(fd);
    // A file system without fallocate (some network file systems): libtorrent writes
    // into sparse files there, as before.
    if (err == EOPNOTSUPP || err == ENOSYS || err == EINVAL) return {};
    if (err != 0) {
      undo();
      std::string free_text;
      struct statvfs sv {};
      if (::statvfs(data_root.c_str(), &sv) == 0)
        free_text = " (the version needs " + byte_text(needed) + ", " + byte_text(static_cast<std::uint64_t>(sv.f_bavail) * sv.f_frsize) +
                    " are free)";
      std::string hint = "fix the cause, then resume the transfer";
      if (err == ENOSPC || err == EDQUOT || err == EFBIG)
        hint = "free space on that file system (or give the node another data root), then resume the transfer "
               "(fedswarm transfers --resume " + manifest.instance_id() + ")";
      return make_error(Errc::io, err == ENOSPC || err == EDQUOT ? "staging_no_space" : "staging_failed",
                        "cannot reserve " + byte_text(f.size) + " for " + path.string() +
                            " on the data root's file system (" + data_root.string() + "): " + std::strerror(err) +
                            free_text + "; " + hint);
    }
  }
  return {};
}

}  // namespace

Result<LinkedFiles> prepare_staging(const fs::path& data_root, const fs::path& staged_dir, const Catalog& catalog,
                                    const Manifest& manifest, const InfoDict& info, const std::set<std::string>& no_link) {
  std::error_code ec;
  if (!fs::is_directory(data_root, ec))
    return make_error(Errc::io, "data_root_missing",
                      "the data root " + data_root.string() +
                          " does not exist (or is not a directory); create it or mount its file system, "
                          "then resume the transfer");
  fs::create_directories(staged_dir, ec);
  if (ec == std::errc::no_space_on_device)
    return make_error(Errc::io, "staging_no_space",
                      "cannot create the staging directory " + staged_dir.string() + ": " + ec.message() +
                          "; free space on the data root's file system (" + data_root.string() +
                          ") (or give the node another data root), then resume the transfer (fedswarm transfers "
                          "--resume " + manifest.instance_id() + ")");
  if (ec)
    return make_error(Errc::io, "staging_failed",
                      "cannot create the staging directory " + staged_dir.string() + ": " + ec.message() +
                          "; check that the data root is writable and has free space, then resume the transfer");

  LinkedFiles linked;
  std::map<Sha256, Source> sources = earlier_files(catalog, manifest);
  for (const auto& f : info.files) {
    if (f.size == 0 || no_link.count(f.path)) continue;
    auto it = sources.find(f.pieces_root);
    if (it == sources.end() || it->second.size != f.size) continue;
    const fs::path& from = it->second.file;
    if (!fs::is_regular_file(from, ec) || fs::file_size(from, ec) != f.size || ec) continue;
    fs::path stale = staged_dir / f.path;
    if (fs::exists(fs::symlink_status(stale, ec)) && !fs::remove(stale, ec))
      return make_error(Errc::io, "staging_failed",
                        "cannot remove " + stale.string() + ": " + ec.message() +
                            "; check the permissions of the staging area, then resume the transfer");
    linked.list.push_back({f.path, f.pieces_root, from, f.size});
    linked.bytes += f.size;
  }
  FEDSWARM_TRY(reserve_files(data_root, staged_dir, manifest, info, linked));
  return linked;
}

Status link_files(const fs::path& staged_dir, const std::vector<LinkedFile>& files) {
  for (const auto& f : files) {
    const fs::path to = staged_dir / f.path;
    std::error_code ec;
    fs::create_directories(to.parent_path(), ec);
    // libtorrent may have created the file it was told not to download.
    fs::remove(to, ec);
    if (!link_or_copy(f.from, to))
      return make_error(Errc::io, "link_failed",
                        "cannot link or copy " + f.from.string() + " to " + to.string() + ": " + std::strerror(errno) +
                            "; the earlier local version holding it may have been moved; resume the transfer to "
                            "fetch the file instead");
  }
  return {};
}

}  // namespace fedswarm
