// Functional: an evil seeder next to honest ones, between real `fedswarm node run`
// processes. Two nodes, "evil" and "honest", hold verified copies of a published
// version (copied in, then verified and adopted when their subscription asks for it).
// Then the evil member turns evil: its node is replaced, at its address and swarm port,
// by a BitTorrent client that serves garbage with its hash checks off
// (tests/functional/evil_seeder.py — a fedswarm seed verifies each piece before it first
// sends it, so a rotten copy of its own is not served). A fresh downloader subscribes
// while the evil seeder is the only one up, so it must receive the garbage: it bans the
// evil address. The primary, an honest
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
  // Only the evil seeder stays up: the evil member's node gives way to a client that
  // serves garbage at the same address and swarm port.
  c.stop(kHonest);
  c.stop(kPrimary);
  // The downloader learns the records from the evil member while its node still runs
  // (it wants nothing yet).
  c.start(kDownloader);
  REQUIRE(c.wait_records({kEvil, kDownloader}, c.records(kEvil)));
  const std::string evil_swarm = c.status(kEvil)["swarm"].value("listen", "");
  REQUIRE_FALSE(evil_swarm.empty());
  c.stop(kEvil);
  test::Process evil({"/usr/bin/python3", FEDSWARM_SOURCE_DIR "/tests/functional/evil_seeder.py", torrent.string(), evil_swarm,
                      (w.dir() / "evil-client").string(), std::to_string(seed + 1)},
                     w.logs() / "evil-client");
  REQUIRE(wait_until([&] { return evil.out().find("listening") != std::string::npos || !evil.running(); },
                     std::chrono::seconds(30), std::chrono::milliseconds(50)));
  INFO("evil seeder stderr: " << evil.err());
  REQUIRE(evil.running());

  w.must({"--home", c.home(kDownloader), "subscribe", "add", "source_id=IPSL-CM6A-LR table_id=Amon"});
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

  for (std::size_t i : {kPrimary, kDownloader}) c.stop(i);
}
