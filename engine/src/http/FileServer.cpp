#include "http/FileServer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <span>

namespace fedswarm {

ServedFile::ServedFile(ServedFile&& o) noexcept
    : fd(std::exchange(o.fd, -1)),
      size(o.size),
      mtime(o.mtime),
      etag(std::move(o.etag)),
      content_type(std::move(o.content_type)) {}

ServedFile& ServedFile::operator=(ServedFile&& o) noexcept {
  if (this != &o) {
    close();
    fd = std::exchange(o.fd, -1);
    size = o.size;
    mtime = o.mtime;
    etag = std::move(o.etag);
    content_type = std::move(o.content_type);
  }
  return *this;
}

ServedFile::~ServedFile() { close(); }

void ServedFile::close() {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

namespace {

HttpAnswer not_found() { return HttpAnswer::text(404, "Not Found\n"); }

FileLookup refuse(HttpAnswer a, bool traversal = false) {
  FileLookup l;
  l.refusal = std::move(a);
  l.traversal = traversal;
  return l;
}

// `inner` is `outer` or below it; both canonical.
bool within(const std::filesystem::path& inner, const std::filesystem::path& outer) {
  const std::string& i = inner.native();
  const std::string& o = outer.native();
  if (i.size() < o.size() || i.compare(0, o.size(), o) != 0) return false;
  return i.size() == o.size() || o.back() == '/' || i[o.size()] == '/';
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

FileServer::FileServer(const Catalog& catalog, const ProjectRegistry& projects, FileServerOptions options)
    : catalog_(catalog), projects_(projects), options_(std::move(options)) {
  for (const auto& p : options_.never_served) {
    std::error_code ec;
    auto c = std::filesystem::weakly_canonical(p, ec);
    never_served_.push_back(ec ? p : c);
  }
}

FileLookup FileServer::open(std::string_view encoded) const {
  auto decoded = percent_decode(encoded);
  if (!decoded) return refuse(HttpAnswer::text(400, "Bad Request: malformed percent-encoding in the path\n"));
  const std::string& path = *decoded;
  if (path.empty()) return refuse(not_found());
  if (path.front() == '/' || path.find('\\') != std::string::npos || path.find('\0') != std::string::npos)
    return refuse(not_found(), true);
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const std::size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty() || part == "." || part == "..") return refuse(not_found(), true);
    parts.push_back(std::move(part));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }

  const ProjectTemplate* project = nullptr;
  for (const auto& name : projects_.names())
    if (iequals(name, parts.front())) project = projects_.find(name);
  if (!project) return refuse(not_found());
  const std::size_t depth = project->version_directory_depth();
  if (parts.size() <= depth) return refuse(not_found());
  auto vd = project->parse_version_directory(std::span<const std::string>(parts.data(), depth));
  if (!vd) return refuse(not_found());
  const std::string instance_id = vd->dataset.id + "." + vd->version;
  std::string file_path;
  for (std::size_t i = depth; i < parts.size(); ++i) file_path += (i > depth ? "/" : "") + parts[i];

  auto io_error = [](const Error& e) { return refuse(HttpAnswer::text(500, "catalog error: " + e.message + "\n")); };
  auto version = catalog_.version(instance_id);
  if (!version) return io_error(version.error());
  if (!*version) return refuse(not_found());
  if ((*version)->retraction && !options_.serve_retracted) {
    const RetractionInfo& r = *(*version)->retraction;
    return refuse(HttpAnswer::text(410, "Gone: " + instance_id + " was retracted by its publisher.\nreason: " +
                                            r.reason + "\nerrata_id: " + (r.errata_id.empty() ? "-" : r.errata_id) +
                                            "\n"));
  }
  auto local = catalog_.local(instance_id);
  if (!local) return io_error(local.error());
  if (!*local || (*local)->state != LocalState::complete || (*local)->path.empty()) return refuse(not_found());
  auto manifest = catalog_.manifest(instance_id);
  if (!manifest) return manifest.error().code == Errc::not_found ? refuse(not_found()) : io_error(manifest.error());
  auto entry = std::find_if(manifest->files.begin(), manifest->files.end(),
                            [&](const ManifestFile& f) { return f.path == file_path; });
  if (entry == manifest->files.end()) return refuse(not_found());

  std::error_code ec;
  const auto dir = std::filesystem::canonical((*local)->path, ec);
  if (ec) return refuse(not_found());
  for (const auto& root : never_served_)
    if (within(dir, root)) return refuse(not_found());
  const auto target = std::filesystem::canonical(dir / file_path, ec);
  if (ec) return refuse(not_found());
  if (!within(target, dir) || target == dir) return refuse(not_found(), true);

  FileLookup out;
  out.file.fd = ::open(target.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (out.file.fd < 0) return refuse(not_found());
  struct stat st {};
  if (::fstat(out.file.fd, &st) != 0 || !S_ISREG(st.st_mode)) return refuse(not_found());
  if (static_cast<std::uint64_t>(st.st_size) != entry->size)
    return refuse(HttpAnswer::text(500, "the copy of " + file_path + " on this node does not match its manifest (" +
                                            std::to_string(st.st_size) + " bytes, manifest " +
                                            std::to_string(entry->size) + ")\n"));
  out.file.size = entry->size;
  out.file.mtime = st.st_mtime;
  out.file.etag = "\"" + to_hex(entry->sha256) + "\"";
  const bool netcdf = file_path.size() > 3 && file_path.compare(file_path.size() - 3, 3, ".nc") == 0;
  out.file.content_type = netcdf ? "application/netcdf" : "application/octet-stream";
  return out;
}

}  // namespace fedswarm
