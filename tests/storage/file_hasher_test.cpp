#include <doctest/doctest.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cstring>
#include <filesystem>
#include <random>

#include "TestSupport.hpp"
#include "fedswarm/protocol/SigningKey.hpp"
#include "fedswarm/storage/FileHasher.hpp"

using namespace fedswarm;
namespace fs = std::filesystem;

namespace {

std::string random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// Reference implementation written from BEP 52 and libtorrent's create_torrent.cpp,
// independently of FileHasher's streaming code: hash all blocks first, then group.
std::vector<Sha256> reference_roots(const std::string& data, std::uint64_t piece_length) {
  std::vector<Sha256> blocks;
  for (std::size_t off = 0; off < data.size(); off += kV2BlockSize) {
    std::size_t n = std::min<std::size_t>(kV2BlockSize, data.size() - off);
    blocks.push_back(sha256(as_bytes(std::string_view(data).substr(off, n))));
  }
  if (blocks.empty()) return {};
  const std::size_t per_piece = piece_length / kV2BlockSize;
  std::vector<Sha256> roots;
  for (std::size_t first = 0; first < blocks.size(); first += per_piece) {
    std::vector<Sha256> leaves(blocks.begin() + static_cast<std::ptrdiff_t>(first),
                               blocks.begin() + static_cast<std::ptrdiff_t>(std::min(blocks.size(), first + per_piece)));
    std::size_t pad = per_piece;
    if (data.size() < piece_length) {
      pad = 1;
      while (pad < leaves.size()) pad *= 2;
    }
    leaves.resize(pad);
    while (leaves.size() > 1) {
      std::vector<Sha256> up;
      for (std::size_t i = 0; i < leaves.size(); i += 2) {
        Bytes pair(leaves[i].bytes.begin(), leaves[i].bytes.end());
        pair.insert(pair.end(), leaves[i + 1].bytes.begin(), leaves[i + 1].bytes.end());
        up.push_back(sha256(pair));
      }
      leaves = std::move(up);
    }
    roots.push_back(leaves[0]);
  }
  return roots;
}

Xxh128 reference_xxh3(const std::string& data) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits(data.data(), data.size()));
  Xxh128 out;
  std::memcpy(out.data(), c.digest, 16);
  return out;
}

}  // namespace

TEST_CASE("FileHasher: SHA-256 and xxh3-128 of known inputs") {
  test::TempDir dir;
  test::write_file(dir / "abc", "abc");
  test::write_file(dir / "empty", "");
  FileHasher hasher;
  auto abc = hasher.hash(dir / "abc", 0);
  REQUIRE(abc.ok());
  CHECK(abc->size == 3);
  CHECK(to_hex(abc->sha256) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(abc->xxh3 == reference_xxh3("abc"));
  CHECK(abc->piece_roots.empty());

  auto empty = hasher.hash(dir / "empty", 16384);
  REQUIRE(empty.ok());
  CHECK(empty->size == 0);
  CHECK(to_hex(empty->sha256) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // XXH3-128 of the empty input, canonical (big-endian) form.
  CHECK(to_hex(empty->xxh3) == "99aa06d3014798d86001c324468d497f");
  CHECK(empty->piece_roots.empty());
}

TEST_CASE("FileHasher: piece roots match the reference for boundary sizes and piece lengths") {
  test::TempDir dir;
  const std::uint64_t seed = test::test_seed();
  MESSAGE("seed " << seed);
  for (std::uint64_t piece : {16384ull, 32768ull, 65536ull, 262144ull}) {
    std::vector<std::size_t> sizes{1, 100, 16383, 16384, 16385, 32767, 32768, 32769, 49152 + 7};
    for (std::size_t s : {piece - 1, piece, piece + 1, 2 * piece - 1, 2 * piece + 16385, 3 * piece + 1})
      sizes.push_back(static_cast<std::size_t>(s));
    for (std::size_t size : sizes) {
      CAPTURE(piece);
      CAPTURE(size);
      std::string data = random_bytes(size, seed + size);
      test::write_file(dir / "f", data);
      // Odd buffer sizes: chunk boundaries must not matter.
      for (std::size_t buffer : {std::size_t{4096}, std::size_t{5000}, FileHasher::kDefaultBufferBytes}) {
        FileHasher hasher(buffer);
        auto d = hasher.hash(dir / "f", piece);
        REQUIRE(d.ok());
        CHECK(d->size == size);
        CHECK(d->sha256 == sha256(as_bytes(data)));
        CHECK(d->xxh3 == reference_xxh3(data));
        CHECK(d->piece_roots == reference_roots(data, piece));
        CHECK(d->piece_roots.size() == (size + piece - 1) / piece);
      }
      CHECK(v2_piece_roots(as_bytes(data), piece) == reference_roots(data, piece));
    }
  }
}

TEST_CASE("FileHasher: a file shorter than a piece has one root, the block hash when one block") {
  std::string data = random_bytes(1000, 7);
  auto roots = v2_piece_roots(as_bytes(data), 65536);
  REQUIRE(roots.size() == 1);
  CHECK(roots[0] == sha256(as_bytes(data)));  // merkle root of a single leaf is the leaf
  // Three blocks pad to four leaves, not to the piece's four blocks... and not to 1 MiB.
  std::string three = random_bytes(3 * 16384, 8);
  auto r3 = v2_piece_roots(as_bytes(three), 1 << 20);
  std::vector<Sha256> leaves;
  for (int i = 0; i < 3; ++i) leaves.push_back(sha256(as_bytes(std::string_view(three).substr(i * 16384, 16384))));
  leaves.push_back(Sha256{});
  REQUIRE(r3.size() == 1);
  CHECK(r3[0] == merkle_root_pow2(leaves));
}

TEST_CASE("FileHasher: progress reports each chunk and ends at the file size") {
  test::TempDir dir;
  std::string data = random_bytes(3 * 4096 + 17, 1);
  test::write_file(dir / "f", data);
  FileHasher hasher(4096);
  std::vector<std::uint64_t> seen;
  auto d = hasher.hash(dir / "f", 16384, [&](std::uint64_t done) { seen.push_back(done); });
  REQUIRE(d.ok());
  REQUIRE(seen.size() == 4);
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(seen.back() == data.size());
}

TEST_CASE("FileHasher: errors are values naming the path") {
  test::TempDir dir;
  FileHasher hasher;
  auto missing = hasher.hash(dir / "missing.nc", 16384);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == Errc::io);
  CHECK(missing.error().reason == "unreadable_file");
  CHECK(missing.error().message.find("missing.nc") != std::string::npos);

  fs::create_directories(dir / "a_dir");
  auto d = hasher.hash(dir / "a_dir", 16384);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().reason == "unreadable_file");

  fs::create_symlink(dir / "nowhere", dir / "dangling");
  auto dangling = hasher.hash(dir / "dangling", 16384);
  REQUIRE_FALSE(dangling.ok());
  CHECK(dangling.error().reason == "unreadable_file");

  test::write_file(dir / "f", "x");
  auto bad_piece = hasher.hash(dir / "f", 20000);
  REQUIRE_FALSE(bad_piece.ok());
  CHECK(bad_piece.error().code == Errc::invalid);
  CHECK(bad_piece.error().reason == "bad_piece_length");
}

TEST_CASE("FileHasher: a file without read permission is unreadable_file") {
  if (::geteuid() == 0) {
    MESSAGE("running as root: chmod 000 does not stop reads, skipped (dangling links cover the path)");
    return;
  }
  test::TempDir dir;
  test::write_file(dir / "secret.nc", "data");
  fs::permissions(dir / "secret.nc", fs::perms::none);
  FileHasher hasher;
  auto r = hasher.hash(dir / "secret.nc", 16384);
  fs::permissions(dir / "secret.nc", fs::perms::owner_all);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().reason == "unreadable_file");
  CHECK(r.error().message.find("secret.nc") != std::string::npos);
}
