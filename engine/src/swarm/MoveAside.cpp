#include "swarm/MoveAside.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>

#include "fedswarm/storage/AtomicFile.hpp"

namespace fedswarm {

namespace fs = std::filesystem;

namespace {

Error move_failed(const fs::path& from, const fs::path& to, const std::string& why) {
  return make_error(Errc::io, "move_aside_failed",
                    "cannot move " + from.string() + " to " + to.string() + ": " + why +
                        "; check the permissions of both folders and free space, then run the command again");
}

// The first free name for `instance_id` in `folder`: <id>, <id>.2, <id>.3, …
fs::path free_name(const fs::path& folder, std::string_view instance_id) {
  fs::path candidate = folder / std::string(instance_id);
  for (int n = 2; exists_no_follow(candidate); ++n)
    candidate = folder / (std::string(instance_id) + "." + std::to_string(n));
  return candidate;
}

// The last taken name for `instance_id` in `folder` (the newest move), if any.
std::optional<fs::path> last_name(const fs::path& folder, std::string_view instance_id) {
  fs::path candidate = folder / std::string(instance_id);
  if (!exists_no_follow(candidate)) return std::nullopt;
  for (int n = 2;; ++n) {
    fs::path next = folder / (std::string(instance_id) + "." + std::to_string(n));
    if (!exists_no_follow(next)) return candidate;
    candidate = next;
  }
}

// The quarantine used when the configured one is on another file system.
fs::path sibling_quarantine(const fs::path& dir) { return dir.parent_path() / ".quarantine"; }

Status ensure_folder(const fs::path& folder) {
  std::error_code ec;
  if (fs::is_directory(folder, ec)) return {};
  fs::create_directories(folder, ec);
  if (ec)
    return make_error(Errc::io, "move_aside_failed",
                      "cannot create " + folder.string() + ": " + ec.message() + "; check the permissions of its parent");
  return fsync_directory(folder.parent_path());
}

}  // namespace

bool exists_no_follow(const fs::path& p) {
  std::error_code ec;
  return !p.empty() && fs::exists(fs::symlink_status(p, ec));
}

Result<fs::path> move_aside(const fs::path& dir, const fs::path& quarantine, std::string_view instance_id) {
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(dir, ec)))
    return make_error(Errc::not_found, "move_aside_failed", dir.string() + " is not a directory; nothing to move aside");
  FEDSWARM_TRY(ensure_folder(quarantine));
  fs::path target = free_name(quarantine, instance_id);
  if (std::rename(dir.c_str(), target.c_str()) != 0) {
    if (errno != EXDEV) return move_failed(dir, target, std::strerror(errno));
    // Another file system: a rename beside the dataset directory stays atomic.
    fs::path near = sibling_quarantine(dir);
    FEDSWARM_TRY(ensure_folder(near));
    target = free_name(near, instance_id);
    if (std::rename(dir.c_str(), target.c_str()) != 0) return move_failed(dir, target, std::strerror(errno));
  }
  FEDSWARM_TRY(fsync_directory(dir.parent_path()));
  FEDSWARM_TRY(fsync_directory(target.parent_path()));
  return target;
}

std::optional<fs::path> find_moved_aside(const fs::path& original_dir, const fs::path& quarantine,
                                         std::string_view instance_id) {
  if (auto p = last_name(quarantine, instance_id)) return p;
  if (!original_dir.empty()) return last_name(sibling_quarantine(original_dir), instance_id);
  return std::nullopt;
}

Status remove_version_directory(const fs::path& dir, std::string_view instance_id) {
  std::string name = dir.filename().string();
  std::string_view id = instance_id;
  std::string version(id.substr(id.rfind('.') == std::string_view::npos ? 0 : id.rfind('.') + 1));
  bool looks_right = dir.is_absolute() && std::distance(dir.begin(), dir.end()) >= 3 &&
                     (name == version || name.rfind(std::string(instance_id), 0) == 0);
  if (!looks_right)
    return make_error(Errc::io, "remove_refused",
                      "refusing to delete " + dir.string() + ": it does not look like the directory of " +
                          std::string(instance_id) + "; check the local replica's path (`fedswarm show`) and remove it by hand");
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec)
    return make_error(Errc::io, "remove_failed",
                      "cannot delete " + dir.string() + ": " + ec.message() + "; check its permissions, then run the command again");
  return fsync_directory(dir.parent_path());
}

}  // namespace fedswarm
