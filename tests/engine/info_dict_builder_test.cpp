// The one-pass hashing (storage/FileHasher) + InfoDictBuilder must produce exactly the
// info dict libtorrent builds when it hashes the files itself (lt::set_piece_hashes).
#include <doctest/doctest.h>
#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/torrent_info.hpp>

#include <algorithm>
#include <filesystem>
#include <random>

#include "publish/InfoDictBuilder.hpp"
#include "TestSupport.hpp"
#include "fedswarm/protocol/InfoDict.hpp"
#include "fedswarm/protocol/Manifest.hpp"
#include "fedswarm/protocol/SigningKey.hpp"
#include "fedswarm/storage/FileHasher.hpp"

using namespace fedswarm;
namespace fs = std::filesystem;

namespace {

struct FileSpec {
  std::string path;
  std::uint64_t size;
};

constexpr const char* kName = "v20190101";

// Writes the files under <dir>/<kName>/ with seeded random bytes.
void write_files(const fs::path& dir, const std::vector<FileSpec>& files, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (const auto& f : files) {
    std::string data(f.size, '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    test::write_file(dir / kName / f.path, data);
  }
}

// What libtorrent produces hashing the files itself.
Bytes libtorrent_info_dict(const fs::path& dir, const std::vector<FileSpec>& files, int piece_length) {
  lt::file_storage fs;
  for (const auto& f : files) fs.add_file(std::string(kName) + "/" + f.path, static_cast<std::int64_t>(f.size));
  lt::create_torrent ct(fs, piece_length, lt::create_torrent::v2_only);
  ct.set_priv(true);
  lt::error_code ec;
  lt::set_piece_hashes(ct, dir.string(), ec);
  REQUIRE_MESSAGE(!ec, ec.message());
  lt::entry e = ct.generate();
  Bytes out;
  lt::bencode(std::back_inserter(out), e["info"]);
  return out;
}

// What the publisher produces: one FileHasher pass per file, then InfoDictBuilder.
Bytes our_info_dict(const fs::path& dir, const std::vector<FileSpec>& files, std::uint64_t piece_length) {
  std::vector<InfoDictInput> inputs;
  for (const auto& f : files) inputs.push_back({f.path, f.size, {}});
  if (piece_length == 0) {
    auto pl = auto_piece_length(kName, inputs);
    REQUIRE(pl.ok());
    piece_length = *pl;
  }
  FileHasher hasher;
  for (auto& in : inputs) {
    auto d = hasher.hash(dir / kName / in.path, piece_length);
    REQUIRE(d.ok());
    CHECK(d->size == in.size);
    in.piece_roots = d->piece_roots;
  }
  auto built = build_info_dict(kName, piece_length, inputs);
  REQUIRE_MESSAGE(built.ok(), built.error().message);
  return *built;
}

void check_same(const std::vector<FileSpec>& files, int piece_length, std::uint64_t seed) {
  test::TempDir dir;
  write_files(dir.path(), files, seed);
  Bytes ours = our_info_dict(dir.path(), files, static_cast<std::uint64_t>(piece_length));
  Bytes theirs = libtorrent_info_dict(dir.path(), files, piece_length);
  CHECK(ours == theirs);

  // The result is a valid fedswarm info dict for a manifest listing the same files.
  auto parsed = InfoDict::parse(ours);
  REQUIRE_MESSAGE(parsed.ok(), parsed.error().message);
  CHECK(parsed->name == kName);
  CHECK(parsed->is_private);
  if (piece_length != 0) CHECK(parsed->piece_length == piece_length);
  Manifest m;
  m.version = kName;
  for (const auto& f : files) m.files.push_back(ManifestFile{f.path, f.size, {}, {}, ""});
  m.info_dict = ours;
  auto st = parsed->matches(m);
  CHECK_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message));
  for (const auto& f : parsed->files) CHECK(f.pieces_root.is_zero() == (f.size == 0));

  // libtorrent loads it, and its v2 info-hash is the manifest's.
  std::string torrent = "d4:info" + std::string(ours.begin(), ours.end()) + "e";
  lt::error_code ec;
  lt::torrent_info ti(torrent, ec, lt::from_span);
  REQUIRE_MESSAGE(!ec, ec.message());
  CHECK(ti.info_hashes().has_v2());
  CHECK_FALSE(ti.info_hashes().has_v1());
  CHECK(std::equal(ti.info_hashes().v2.begin(), ti.info_hashes().v2.end(), m.info_hash().bytes.begin()));
}

}  // namespace

TEST_CASE("InfoDictBuilder: single files around block boundaries, automatic piece size") {
  const std::uint64_t seed = test::test_seed();
  MESSAGE("seed " << seed);
  for (std::uint64_t size : {1ull, 100ull, 16383ull, 16384ull, 16385ull, 3 * 16384ull + 1}) {
    CAPTURE(size);
    check_same({{"tas_Amon_x_185001-189912.nc", size}}, 0, seed + size);
  }
}

TEST_CASE("InfoDictBuilder: one piece plus or minus one, for several piece lengths") {
  const std::uint64_t seed = test::test_seed();
  MESSAGE("seed " << seed);
  for (int pl : {16384, 32768, 65536, 262144}) {
    CAPTURE(pl);
    const std::uint64_t p = static_cast<std::uint64_t>(pl);
    // Small files in large pieces pad only to a power of two of their blocks.
    for (std::uint64_t size : std::vector<std::uint64_t>{1, 16385, 3 * 16384, p - 1, p, p + 1, 2 * p - 1, 2 * p + 16385}) {
      CAPTURE(size);
      check_same({{"a.nc", size}}, pl, seed ^ size);
    }
    // All of them in one torrent, with an empty file and nested directories.
    check_same({{"one_less.nc", p - 1},
                {"exact.nc", p},
                {"sub/one_more.nc", p + 1},
                {"sub/deeper/two.nc", 2 * p + 16385},
                {"empty.nc", 0},
                {"sub/tiny.nc", 1}},
               pl, seed + p);
  }
}

TEST_CASE("InfoDictBuilder: automatic piece sizes above 16 KiB match libtorrent's choice") {
  const std::uint64_t seed = test::test_seed();
  MESSAGE("seed " << seed);
  // Totals just past libtorrent's first two size-table steps (2,684,355 and 10,737,418
  // bytes) select 32 KiB and 64 KiB pieces.
  for (std::uint64_t pl : {32768ull, 65536ull}) {
    const std::uint64_t threshold = pl == 32768 ? 2684355 : 10737418;
    std::vector<FileSpec> files{{"a/one_less.nc", pl - 1}, {"a/exact.nc", pl}, {"b/one_more.nc", pl + 1}};
    std::uint64_t so_far = 3 * pl;
    files.push_back({"big.nc", threshold + 1000 - so_far});
    std::vector<InfoDictInput> inputs;
    for (const auto& f : files) inputs.push_back({f.path, f.size, {}});
    auto chosen = auto_piece_length(kName, inputs);
    REQUIRE(chosen.ok());
    CHECK(*chosen == pl);
    check_same(files, 0, seed + pl);
  }
}

TEST_CASE("InfoDictBuilder: input order does not matter (libtorrent canonicalizes)") {
  test::TempDir dir;
  std::vector<FileSpec> files{{"z.nc", 40000}, {"a/b/c.nc", 20000}, {"a/d.nc", 5}, {"m.nc", 0}};
  write_files(dir.path(), files, 99);
  Bytes one = our_info_dict(dir.path(), files, 16384);
  std::reverse(files.begin(), files.end());
  Bytes two = our_info_dict(dir.path(), files, 16384);
  CHECK(one == two);
  CHECK(one == libtorrent_info_dict(dir.path(), files, 16384));
}

TEST_CASE("InfoDictBuilder: refuses empty datasets and inconsistent inputs") {
  std::vector<InfoDictInput> none;
  auto e = build_info_dict(kName, 16384, none);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().reason == "empty_dataset");

  std::vector<InfoDictInput> zeros{{"a.nc", 0, {}}, {"b.nc", 0, {}}};
  auto z = build_info_dict(kName, 16384, zeros);
  REQUIRE_FALSE(z.ok());
  CHECK(z.error().reason == "empty_dataset");
  auto zp = auto_piece_length(kName, zeros);
  REQUIRE_FALSE(zp.ok());
  CHECK(zp.error().reason == "empty_dataset");

  std::vector<InfoDictInput> missing_roots{{"a.nc", 20000, {Sha256{}}}};  // needs 2 pieces
  auto m = build_info_dict(kName, 16384, missing_roots);
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().reason == "info_dict_build");

  std::vector<InfoDictInput> dup{{"a.nc", 1, {Sha256{}}}, {"a.nc", 1, {Sha256{}}}};
  auto d = build_info_dict(kName, 16384, dup);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().reason == "info_dict_build");

  std::vector<InfoDictInput> one{{"a.nc", 1, {Sha256{}}}};
  auto bad_pl = build_info_dict(kName, 10000, one);
  REQUIRE_FALSE(bad_pl.ok());
  CHECK(bad_pl.error().reason == "info_dict_build");
}
