// FileServer: `/thredds/fileServer/<DRS path>` — which file of which local copy a request
// names, and whether it may be served (DESIGN §9). HttpServer streams the file it opens.
//
// The DRS path is `<dataset id's facets joined by '/'>/<version>/<file>`, the project
// template's directory layout. The version must be in the catalog, the file in its
// manifest, and this node must hold a complete local copy (a replica placed in the DRS
// tree, or its own publication): the file is `<local path>/<file>`.
//
// Contract
// - `open` takes the path after `/thredds/fileServer/`, still percent-encoded, and
//   decodes it exactly once. It never follows a path out of the version directory: `..`
//   and `.` components (encoded or not), empty components, absolute paths, backslashes,
//   NULs, and symlinks resolving outside the version's directory are refused with 404 and
//   `traversal` set; a version directory inside a never-served root (staging, quarantine)
//   is refused with 404.
// - Answers are values, never exceptions: 400 (malformed percent-encoding), 404 (unknown,
//   not held complete, not in the manifest), 410 (retracted, with the reason and errata
//   id, unless `serve_retracted`), 500 (catalog I/O, or a file whose size on disk differs
//   from its manifest's).
// - Thread-safe (const; each call reads the catalog in its own transactions); called on
//   the HTTP worker threads. `catalog` and `projects` must outlive it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fedswarm/protocol/ProjectTemplate.hpp"
#include "fedswarm/storage/Catalog.hpp"
#include "http/HttpAnswer.hpp"

namespace fedswarm {

struct FileServerOptions {
  // Folders whose contents are never served, e.g. <data_root>/.staging, .quarantine.
  std::vector<std::filesystem::path> never_served;
  bool serve_retracted = false;
};

// An open file, ready to stream; owns its descriptor.
class ServedFile {
 public:
  ServedFile() = default;
  ServedFile(ServedFile&& o) noexcept;
  ServedFile& operator=(ServedFile&& o) noexcept;
  ServedFile(const ServedFile&) = delete;
  ServedFile& operator=(const ServedFile&) = delete;
  ~ServedFile();

  int fd = -1;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;     // unix seconds, for Last-Modified
  std::string etag;           // "\"<sha256 hex>\"" from the manifest
  std::string content_type;   // application/netcdf for .nc, else application/octet-stream
  void close();
};

struct FileLookup {
  std::optional<HttpAnswer> refusal;  // set: answer this instead of a file
  bool traversal = false;             // the refusal is a path leaving the DRS tree
  ServedFile file;
};

class FileServer {
 public:
  FileServer(const Catalog& catalog, const ProjectRegistry& projects, FileServerOptions options);
  FileLookup open(std::string_view encoded_drs_path) const;

 private:
  const Catalog& catalog_;
  const ProjectRegistry& projects_;
  FileServerOptions options_;
  std::vector<std::filesystem::path> never_served_;  // canonical forms
};

// Percent-decodes `s` once; nullopt for a malformed escape ('%' not followed by two hex
// digits). '+' stays '+' (it means a space only in form data).
std::optional<std::string> percent_decode(std::string_view s);

}  // namespace fedswarm
