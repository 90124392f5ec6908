#include "fedswarm/storage/Xxh3File.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace fedswarm {

namespace {

// Large sequential reads, as FileHasher: parallel file systems stream them best.
constexpr std::size_t kReadBytes = 1u << 20;

Error unreadable(const std::filesystem::path& path, const std::string& why) {
  return make_error(Errc::io, "unreadable_file", path.string() + ": " + why + "; check the file and its permissions");
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

struct StateDeleter {
  void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
};

}  // namespace

Result<Xxh128> xxh3_file(const std::filesystem::path& path, const std::function<void(std::uint64_t)>& progress) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) return unreadable(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return unreadable(path, std::string("cannot stat: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return unreadable(path, "is not a regular file");
  (void)::posix_fadvise(f.fd, 0, 0, POSIX_FADV_SEQUENTIAL);  // advice only

  std::unique_ptr<XXH3_state_t, StateDeleter> state(XXH3_createState());
  if (!state || XXH3_128bits_reset(state.get()) != XXH_OK)
    return make_error(Errc::io, "out_of_memory", "cannot allocate an xxh3 state");
  std::vector<std::uint8_t> buffer(kReadBytes);
  std::uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(f.fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return unreadable(path, "read failed after " + std::to_string(total) + " bytes: " + std::strerror(errno));
    }
    if (n == 0) break;
    XXH3_128bits_update(state.get(), buffer.data(), static_cast<std::size_t>(n));
    total += static_cast<std::uint64_t>(n);
    if (progress) progress(total);
  }
  if (total != static_cast<std::uint64_t>(st.st_size))
    return unreadable(path, "changed size while being read (" + std::to_string(st.st_size) + " bytes at open, " +
                                std::to_string(total) + " read)");
  XXH128_canonical_t canon;
  XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(state.get()));
  Xxh128 out;
  std::memcpy(out.data(), canon.digest, sizeof canon.digest);
  return out;
}

}  // namespace fedswarm
