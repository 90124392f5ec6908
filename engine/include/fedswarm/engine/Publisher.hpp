// Publisher: `fedswarm publish` — turns dataset version directories of a DRS tree into
// signed manifests in the catalog (DESIGN §3, issue "Foundation").
//
// For each version directory under the given paths: every file's size, SHA-256
// (libsodium) and xxh3-128 (xxHash) in one read pass, the netCDF `tracking_id` (and the
// descriptive facets frequency, realm, nominal_resolution, source_type when present),
// the BitTorrent v2 info dict of the file set (libtorrent create_torrent, v2 only,
// private, name = the version string), and `supersedes` = the newest earlier version
// of the dataset in the catalog. Then it signs and stores one manifest per version,
// one catalog transaction each.
//
// Contract
// - Two phases: everything is scanned, validated and hashed first; if any version
//   directory breaks a rule, nothing is stored and every problem is returned (each
//   naming the file and the rule). Then versions are committed one by one: a crash
//   leaves each version fully present or absent.
// - Re-publishing an identical version is a no-op reported as `unchanged`; a different
//   manifest for an already published version is a `conflict`.
// - Runs on the calling thread; `progress` is called from it.
// - Reasons: drs_* and version_* (ProjectTemplate), path_* (PathRules),
//   not_a_drs_path, empty_dataset, unreadable_file, symlink_escapes, not_regular_file,
//   filename_template, conflict, publisher_not_granted, no_version_directories;
//   also no_such_path, too_many_files, file_too_large, duplicate_version (one version
//   found in two directories), text_* (a tracking_id that is not short valid text).
// - Problems found by scanning (paths, names, symlinks, unreadable files) and missing
//   grants are returned before any file is hashed: hashing a large tree takes hours.
// - Descriptive facets (frequency, realm, nominal_resolution, source_type,
//   cf_standard_name) are added only when every netCDF file of the version carries the
//   same value; realm and source_type are split on blanks.
// - Files that are not netCDF are published without a tracking_id.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "fedswarm/engine/NodeHome.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

struct PublishProgress {
  std::uint64_t bytes_done = 0;
  std::uint64_t bytes_total = 0;
  std::size_t files_done = 0;
  std::size_t files_total = 0;
  std::string current;  // file being hashed
};

struct PublishOptions {
  std::vector<std::filesystem::path> paths;  // DRS roots, subtrees or version dirs
  bool dry_run = false;                      // scan, validate and hash only
  std::int64_t now = 0;                      // unix seconds for published_at
  std::function<void(const PublishProgress&)> progress;
};

struct PublishedVersion {
  std::string instance_id;
  std::filesystem::path directory;
  std::size_t files = 0;
  std::uint64_t bytes = 0;
  std::string supersedes;
  std::uint64_t seq = 0;  // 0 for dry runs and unchanged versions
  bool unchanged = false;
};

struct PublishReport {
  std::vector<PublishedVersion> versions;
  std::vector<Error> errors;  // non-empty: nothing was stored
  std::vector<std::string> warnings;  // things skipped on purpose (symlinked directories, odd attributes)
};

class Publisher {
 public:
  Publisher(const NodeHome& home, Catalog& catalog) : home_(home), catalog_(catalog) {}
  // Errors in the returned report are per-file/per-rule; the Result itself fails only
  // for whole-run problems (catalog I/O).
  Result<PublishReport> run(const PublishOptions& options);

 private:
  const NodeHome& home_;
  Catalog& catalog_;
};

}  // namespace fedswarm
