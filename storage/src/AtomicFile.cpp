#include "fedswarm/storage/AtomicFile.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <string>

namespace fedswarm {

namespace {
Error os_error(const std::string& what, const std::filesystem::path& p, int err) {
  std::string hint;
  if (err == ENOSPC || err == EDQUOT) hint = "; free space on that filesystem and retry";
  else if (err == EACCES || err == EPERM || err == EROFS) hint = "; check the permissions of that directory";
  else if (err == ENOENT) hint = "; does the directory exist?";
  return make_error(Errc::io, "io_error", what + " " + p.string() + ": " + std::strerror(err) + hint);
}
}  // namespace

Status fsync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return os_error("cannot open directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return os_error("cannot fsync directory", dir, err);
  return {};
}

Status write_file_atomic(const std::filesystem::path& path, ByteView contents, unsigned mode) {
  auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  std::string tmp = (dir / ("." + path.filename().string() + ".tmp" + std::to_string(std::random_device{}()))).string();
  // Create with the final mode so a secret is never briefly readable by others.
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return os_error("cannot create", tmp, errno);
  auto fail = [&](const std::string& what, int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return os_error(what, path, err);
  };
  const std::uint8_t* p = contents.data();
  std::size_t left = contents.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write", errno);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, mode) != 0) return fail("cannot set permissions of", errno);
  if (::fsync(fd) != 0) return fail("cannot fsync", errno);
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return os_error("cannot close", path, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return os_error("cannot rename into place", path, err);
  }
  return fsync_directory(dir);
}

Result<Bytes> read_whole_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return make_error(Errc::not_found, "no_such_file", path.string() + " does not exist");
    return os_error("cannot open", path, err);
  }
  Bytes out;
  std::uint8_t buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return os_error("cannot read", path, err);
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return out;
}

}  // namespace fedswarm
