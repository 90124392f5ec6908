// DrsScanner: finds the dataset version directories of a DRS tree and lists their
// files, checking every rule that can be checked without reading file contents.
//
// A version directory is a directory whose name looks like a version ("v" + 8
// digits). Its DRS identity is its last `version_directory_depth()` path components,
// parsed by a project template of the registry (the first that accepts them), so the
// caller may name a DRS root, any subtree of it, or a version directory itself — the
// DRS root need not be given.
//
// Files of a version are every regular file below it (subdirectories included), as
// '/'-separated relative paths checked by validate_relative_path, with file names
// checked by ProjectTemplate::validate_filename. Rules:
// - a symlink to a regular file is allowed if its target resolves inside the version's
//   DRS root (its bytes are what gets hashed); outside → `symlink_escapes`; dangling
//   → `unreadable_file`;
// - a symlinked directory is never descended (a warning says it was skipped; ESGF's
//   per-dataset `latest -> vYYYYMMDD` link is skipped without one);
// - sockets, FIFOs and devices → `not_regular_file`;
// - no files at all → `empty_dataset`;
// - a version-named directory no template recognises → `not_a_drs_path` (message
//   names each template's objection); when the path's project component names a
//   template, that template's own reason is returned instead (drs_unknown_term,
//   drs_constraint, version_date, …);
// - `.staging` and `.quarantine` directories and `*.part` / `*.tmp` files (fedswarm's
//   own transfer leftovers) are skipped silently; `..` is never followed.
// - a file that cannot be opened for reading → `unreadable_file` (checked by opening
//   it, so the error shows before hours of hashing).
//
// Contract: no state; `scan` may run on any thread. The registry must outlive the
// scanner. Errors are collected, not thrown: the report lists every problem found,
// each message naming the path and the rule. Output is sorted (versions by path,
// files by relative path) and deterministic.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "fedswarm/protocol/ProjectTemplate.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

struct ScannedFile {
  std::string path;                 // relative to the version directory, '/'-separated
  std::filesystem::path source;     // absolute path to read (a symlink is read through)
  std::uint64_t size = 0;           // from stat (following symlinks)
};

struct ScannedVersion {
  std::filesystem::path directory;  // absolute version directory
  std::filesystem::path drs_root;   // `directory` minus its DRS components
  VersionDirectory id;              // parsed dataset id and version
  std::vector<ScannedFile> files;   // sorted by path, never empty

  std::string instance_id() const { return id.dataset.id + "." + id.version; }
  std::uint64_t total_size() const;
};

struct ScanReport {
  std::vector<ScannedVersion> versions;  // sorted by directory
  std::vector<Error> errors;             // every rule broken; versions with errors are left out
  std::vector<std::string> warnings;     // things skipped on purpose (symlinked directories)
};

class DrsScanner {
 public:
  explicit DrsScanner(const ProjectRegistry& projects) : projects_(projects) {}

  // Walks `paths` (each a DRS root, a subtree or a version directory). A path that
  // does not exist → `not_found` (reason no_such_path). A version directory reached
  // from several paths is listed once.
  ScanReport scan(std::span<const std::filesystem::path> paths) const;

 private:
  const ProjectRegistry& projects_;
};

// True if `name` has the form of a version directory name ("v" + 8 digits); whether
// the date is real is checked by the project template.
bool looks_like_version(std::string_view name);

}  // namespace fedswarm
