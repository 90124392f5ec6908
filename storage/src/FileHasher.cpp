#include "fedswarm/storage/FileHasher.hpp"

#include "Sha256Stream.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

namespace fedswarm {

namespace {

Error unreadable(const std::filesystem::path& path, const std::string& why, const std::string& what_to_do) {
  return make_error(Errc::io, "unreadable_file", path.string() + ": " + why + "; " + what_to_do);
}

std::size_t next_pow2(std::size_t n) {
  std::size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

bool valid_piece_length(std::uint64_t piece_length) {
  return piece_length == 0 ||
         (piece_length >= kV2BlockSize && (piece_length & (piece_length - 1)) == 0 && piece_length <= (1ull << 30));
}

// Streams bytes into 16 KiB block hashes and closes a piece whenever it has
// piece_length / 16 KiB blocks. Blocks are hashed with an incremental state so chunk
// boundaries (short reads) never need to line up with block boundaries.
class PieceLayer {
 public:
  explicit PieceLayer(std::uint64_t piece_length)
      : piece_length_(piece_length), blocks_per_piece_(static_cast<std::size_t>(piece_length / kV2BlockSize)) {
    blocks_.reserve(blocks_per_piece_);
  }

  void update(const std::uint8_t* p, std::size_t n) {
    while (n > 0) {
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n, kV2BlockSize - in_block_));
      block_.update(p, take);
      in_block_ += take;
      p += take;
      n -= take;
      if (in_block_ == kV2BlockSize) finish_block();
    }
  }

  std::vector<Sha256> finish(std::uint64_t total_size) {
    if (in_block_ > 0) finish_block();
    if (!blocks_.empty()) {
      // libtorrent pads the last piece of a multi-piece file to a whole piece, but a
      // file shorter than one piece only to the next power of two of its blocks.
      std::size_t leaves = total_size < piece_length_ ? next_pow2(blocks_.size()) : blocks_per_piece_;
      close_piece(leaves);
    }
    return std::move(roots_);
  }

 private:
  void finish_block() {
    blocks_.push_back(block_.finish());
    in_block_ = 0;
    if (blocks_.size() == blocks_per_piece_) close_piece(blocks_per_piece_);
  }

  void close_piece(std::size_t leaves) {
    blocks_.resize(leaves);  // zero hashes pad the tree, as in libtorrent's on_hash
    roots_.push_back(merkle_root_pow2(blocks_));
    blocks_.clear();
  }

  std::uint64_t piece_length_;
  std::size_t blocks_per_piece_;
  Sha256Stream block_;
  std::uint64_t in_block_ = 0;
  std::vector<Sha256> blocks_;
  std::vector<Sha256> roots_;
};

struct XxhStateDeleter {
  void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
};

// Closes a descriptor on every return path.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Sha256 merkle_root_pow2(std::span<const Sha256> leaves) {
  if (leaves.empty()) return Sha256{};
  std::vector<Sha256> level(leaves.begin(), leaves.end());
  while (level.size() > 1) {
    std::size_t half = level.size() / 2;
    for (std::size_t i = 0; i < half; ++i) level[i] = sha256_pair(level[2 * i], level[2 * i + 1]);
    level.resize(half);
  }
  return level[0];
}

std::vector<Sha256> v2_piece_roots(ByteView data, std::uint64_t piece_length) {
  if (piece_length == 0 || !valid_piece_length(piece_length)) return {};
  PieceLayer layer(piece_length);
  layer.update(data.data(), data.size());
  return layer.finish(data.size());
}

FileHasher::FileHasher(std::size_t buffer_bytes) : buffer_(std::max<std::size_t>(buffer_bytes, 4096)) {}

Result<FileDigest> FileHasher::hash(const std::filesystem::path& path, std::uint64_t piece_length,
                                    const Progress& progress) {
  if (!valid_piece_length(piece_length))
    return make_error(Errc::invalid, "bad_piece_length",
                      "piece length " + std::to_string(piece_length) + " is not a power of two between 16 KiB and 1 GiB");

  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0)
    return unreadable(path, std::string("cannot open: ") + std::strerror(errno),
                      "make it readable by the user running fedswarm, or remove it from the version directory");
  struct stat st {};
  if (::fstat(f.fd, &st) != 0)
    return unreadable(path, std::string("cannot stat: ") + std::strerror(errno), "check the file system");
  if (!S_ISREG(st.st_mode))
    return unreadable(path, "is not a regular file", "only regular files can be published; remove it from the version directory");
  // Advice only: failure changes nothing but read-ahead.
  (void)::posix_fadvise(f.fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  Sha256Stream sha;
  std::unique_ptr<XXH3_state_t, XxhStateDeleter> xxh(XXH3_createState());
  if (!xxh || XXH3_128bits_reset(xxh.get()) != XXH_OK)
    return make_error(Errc::io, "out_of_memory", "cannot allocate an xxh3 state");
  std::unique_ptr<PieceLayer> layer;
  if (piece_length > 0) layer = std::make_unique<PieceLayer>(piece_length);

  std::uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(f.fd, buffer_.data(), buffer_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return unreadable(path, std::string("read failed after ") + std::to_string(total) + " bytes: " + std::strerror(errno),
                        "check the disk or file system, then publish again");
    }
    if (n == 0) break;
    auto len = static_cast<std::size_t>(n);
    sha.update(buffer_.data(), len);
    XXH3_128bits_update(xxh.get(), buffer_.data(), len);
    if (layer) layer->update(buffer_.data(), len);
    total += len;
    if (progress) progress(total);
  }
  // The manifest must describe exactly the bytes hashed: a file still being written
  // would publish a size that no replica can reproduce.
  if (total != static_cast<std::uint64_t>(st.st_size))
    return unreadable(path, "changed size while being read (" + std::to_string(st.st_size) + " bytes at open, " +
                                std::to_string(total) + " read)",
                      "wait until the file is completely written, then publish again");

  FileDigest out;
  out.size = total;
  out.sha256 = sha.finish();
  XXH128_canonical_t canon;
  XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(xxh.get()));
  std::memcpy(out.xxh3.data(), canon.digest, sizeof canon.digest);
  if (layer) out.piece_roots = layer->finish(total);
  return out;
}

}  // namespace fedswarm
