#include "swarm/StagingArea.hpp"

#include <unistd.h>

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
  if (ec)
    return make_error(Errc::io, "staging_failed",
                      "cannot create the staging directory " + staged_dir.string() + ": " + ec.message() +
                          "; check that the data root is writable and has free space, then resume the transfer");

  LinkedFiles linked;
  std::map<Sha256, Source> sources = earlier_files(catalog, manifest);
  if (sources.empty()) return linked;
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
