// Functional: an evil seeder next to honest ones, between real `fedswarm node run`
// processes. Two nodes, "evil" and "honest", hold verified copies of a published
// version (copied in, then verified and adopted when their subscription asks for it);
// once the evil one seeds, its files are overwritten with garbage on disk, so it serves
// corrupt blocks. A fresh downloader subscribes while the evil node is the only seeder
// up, so it must receive the garbage: it bans the evil address. The primary, an honest
// seeder, comes back (after the downloader failed to reach it for a while; it cannot
// dial the downloader itself) and the download completes from it, byte-identical, with
// nothing corrupt accepted and no honest address banned.
#include <doctest/doctest.h>

#include "SwarmKit.hpp"

using namespace fedswarm;
using namespace fedswarm::test;
using namespace fedswarm::test::swarmkit;

TEST_CASE("swarm - an evil seeder is banned and the download completes byte-identical from honest seeders") {
  const std::uint64_t seed = test_seed();
  MESSAGE("seed " << seed);
  CliWorld w;
  GossipCluster c(w, 41, 0);
  c.add_member("primary", "2", {"IPSL"});
  c.add_member("evil", "1", {"NCAR"});
  c.add_member("honest", "1", {"NCAR"});
  c.add_member("downloader", "2", {"NCAR"});
  c.issue_roster();
  const std::size_t kPrimary = 0, kEvil = 1, kHonest = 2, kDownloader = 3;

  // Files of ~2 MB: pieces longer than one 16 KiB block (libtorrent 2.0.8 can wedge a
  // v2 torrent of one-block pieces after a corrupt piece; see SwarmEngineOptions).
  const auto archive = w.dir() / "archive";
  const auto names = write_version(archive, seed, 3, 2'000'000);
  for (std::size_t i : {kEvil, kHonest}) {
    std::filesystem::create_directories(version_dir(c.home(i)).parent_path());
    std::filesystem::copy(archive / kRel, version_dir(c.home(i)), std::filesystem::copy_options::recursive);
    w.must({"--home", c.home(i), "subscribe", "add", "source_id=IPSL-CM6A-LR table_id=Amon"});
  }
  for (std::size_t i : {kPrimary, kEvil, kHonest}) c.start(i);
  w.must({"--home", c.home(kPrimary), "publish", archive.string()});
  const auto torrent = w.dir() / "v.torrent";
  w.must({"--home", c.home(kPrimary), "export-torrent", kInstance, "-o", torrent.string()});
  INFO("piece length " << piece_length_of(torrent));
  REQUIRE(piece_length_of(torrent) > 16 * 1024);

  // Both holders verify their copies against the manifest and seed them.
  REQUIRE(wait_until([&] { return seeding(w, c.home(kEvil)) && seeding(w, c.home(kHonest)); }, std::chrono::seconds(60),
                     std::chrono::milliseconds(100)));
  // Only the evil seeder stays up; its data turns to garbage under libtorrent, which
  // checked it already and serves it without reading it twice.
  c.stop(kHonest);
  c.stop(kPrimary);
  std::mt19937_64 rng(seed + 1);
  for (const auto& n : names) {
    std::string garbage(std::filesystem::file_size(version_dir(c.home(kEvil)) / n), '\0');
    for (auto& ch : garbage) ch = static_cast<char>(rng());
    overwrite(version_dir(c.home(kEvil)) / n, 0, garbage);
  }

  w.must({"--home", c.home(kDownloader), "subscribe", "add", "source_id=IPSL-CM6A-LR table_id=Amon"});
  c.start(kDownloader);
  const std::string evil_ip = c.address(kEvil);
  bool banned = wait_until(
      [&] {
        auto t = transfers(w, c.home(kDownloader));
        return t && contains((*t)["counters"]["banned_peers"], evil_ip);
      },
      std::chrono::seconds(60), std::chrono::milliseconds(100));
  {
    INFO(describe(transfers(w, c.home(kDownloader))));
    REQUIRE(banned);
  }
  // It did receive the evil blocks, and placed nothing.
  auto during = transfer(w, c.home(kDownloader));
  REQUIRE(during);
  CHECK((*during)["hash_failures"].get<std::uint64_t>() > 0);
  CHECK(drs_state(c.home(kDownloader), archive) == "absent");
  auto evil_row = transfer(w, c.home(kEvil));
  REQUIRE(evil_row);
  CHECK((*evil_row)["bytes_uploaded"].get<std::uint64_t>() > 0);

  // The primary, an honest seeder, comes back after the downloader has found it
  // unreachable for a few seconds (5 failed gossip dials, backoff doubling from 200 ms);
  // its swarm dials failed too. The primary never learnt the downloader's address (it
  // subscribes to nothing, and the downloader never reached it), so it cannot dial it:
  // the downloader must keep retrying by itself, and completes from it.
  bool unreachable = wait_until(
      [&] {
        const auto peers = c.peers(kDownloader);
        for (const auto& p : peers["peers"])
          if (p.value("site", "") == "primary") return p.value("failures", 0) >= 5;
        return false;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(100));
  {
    INFO(c.peers(kDownloader).dump());
    REQUIRE(unreachable);
  }
  c.start(kPrimary);
  bool done = wait_until([&] { return seeding(w, c.home(kDownloader)); }, std::chrono::seconds(90),
                         std::chrono::milliseconds(100));
  {
    INFO(describe(transfer(w, c.home(kDownloader))));
    REQUIRE(done);
  }
  CHECK(drs_state(c.home(kDownloader), archive) == "complete");
  auto answer = transfers(w, c.home(kDownloader));
  REQUIRE(answer);
  auto row = row_of(*answer);
  REQUIRE(row);
  CHECK((*row)["verify_failures"] == 0);  // no corrupt byte reached the SHA-256 check
  const auto& counters = (*answer)["counters"];
  CHECK(counters["verify_failures"] == 0);
  CHECK(counters["hash_failures"].get<std::uint64_t>() > 0);
  CHECK(counters["banned_peers"] == nlohmann::json::array({evil_ip}));  // no honest address
  // `status` shows the ban too.
  auto status = c.status(kDownloader);
  CHECK(status["swarm"]["banned_peers"] == nlohmann::json::array({evil_ip}));
  // The primary banned nobody either.
  auto primary = transfers(w, c.home(kPrimary));
  REQUIRE(primary);
  CHECK((*primary)["counters"]["banned_peers"].empty());

  for (std::size_t i : {kPrimary, kEvil, kDownloader}) c.stop(i);
}
