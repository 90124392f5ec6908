// Functional: a `fedswarm node run` whose data root is a 6 MB tmpfs subscribes to a
// 9 MB version. The fetch pauses with an error that says the disk is full and what to
// do, shown by `transfers --json` and `status --json`; nothing appears in the DRS tree.
// Once the file system has room (remounted at 64 MB) and the transfer is resumed
// through the control socket (the request a CLI command sends), it completes and the
// version is placed. Needs root for the mount; skipped with a message otherwise. The
// tmpfs is unmounted in all cases, after the nodes have stopped.
#include <doctest/doctest.h>
#include <unistd.h>

#include "SwarmKit.hpp"

using namespace fedswarm;
using namespace fedswarm::test;
using namespace fedswarm::test::swarmkit;

TEST_CASE("swarm - a full data root pauses the fetch with a clear error and it completes once there is room") {
  if (::geteuid() != 0) {
    MESSAGE("full-disk test skipped: it mounts a tmpfs as the data root, which needs root (euid is " << ::geteuid() << ")");
    return;
  }
  const std::uint64_t seed = test_seed();
  MESSAGE("seed " << seed);
  CliWorld w;
  std::optional<TmpfsMount> disk;  // outlives the cluster: unmounted once its nodes are gone
  GossipCluster c(w, 43, 0);
  c.add_member("primary", "2", {"IPSL"});
  c.add_member("downloader", "1", {"NCAR"});
  c.issue_roster();
  const std::size_t kPrimary = 0, kDownloader = 1;
  const auto data_root = std::filesystem::path(c.home(kDownloader)) / "data";  // [node] data_root = "data"
  disk.emplace(data_root, "6m");
  if (!disk->mounted()) {
    MESSAGE("full-disk test skipped: cannot mount a tmpfs on " << data_root.string() << ": " << disk->error());
    return;
  }

  const auto archive = w.dir() / "archive";
  write_version(archive, seed, 3, 3'000'000);  // ~9 MB
  w.must({"--home", c.home(kDownloader), "subscribe", "add", "source_id=IPSL-CM6A-LR table_id=Amon"});
  c.start(kPrimary);
  c.start(kDownloader);
  w.must({"--home", c.home(kPrimary), "publish", archive.string()});

  bool paused = wait_until(
      [&] {
        auto t = transfer(w, c.home(kDownloader));
        return t && (*t)["state"] == "paused";
      },
      std::chrono::seconds(180), std::chrono::milliseconds(100));
  auto t = transfer(w, c.home(kDownloader));
  INFO(describe(t));
  INFO("transfers: " << w.run({"--json", "--home", c.home(kDownloader), "transfers"}).err);
  INFO("the downloader's log:\n" << log_tail(c.home(kDownloader)));
  REQUIRE(paused);
  const std::string error = (*t)["last_error"];
  MESSAGE("last_error: " << error);
  CHECK(error.find("No space left on device") != std::string::npos);
  CHECK(error.find("free space") != std::string::npos);
  CHECK(error.find("resume the transfer") != std::string::npos);
  CHECK(error.find("retried") != std::string::npos);
  CHECK((*t)["activity"] == "paused");
  auto status = c.status(kDownloader);
  CHECK(status["swarm"]["paused"] == 1);
  CHECK(status["swarm"]["banned_peers"].empty());  // a full disk is no peer's fault
  // Nothing in the DRS tree: the data root holds only the staging area.
  for (const auto& e : std::filesystem::directory_iterator(data_root)) {
    INFO(e.path().string());
    CHECK(e.path().filename().string().front() == '.');
  }
  CHECK(drs_state(c.home(kDownloader), archive) == "absent");

  // Room again; the operator resumes now rather than wait for the periodic retry.
  REQUIRE(disk->resize("64m"));
  auto resumed = w.run({"--home", c.home(kDownloader), "transfers", "--resume", kInstance});
  REQUIRE(resumed.exit_code == 0);
  CHECK(resumed.out.find("resumed " + kInstance) != std::string::npos);
  bool done = wait_until([&] { return seeding(w, c.home(kDownloader)); }, std::chrono::seconds(60),
                         std::chrono::milliseconds(100));
  INFO(describe(transfer(w, c.home(kDownloader))));
  REQUIRE(done);
  CHECK(drs_state(c.home(kDownloader), archive) == "complete");
  auto after = transfer(w, c.home(kDownloader));
  REQUIRE(after);
  CHECK((*after)["last_error"] == "");
  CHECK(c.status(kDownloader)["swarm"]["paused"] == 0);
  CHECK(c.status(kDownloader)["swarm"]["banned_peers"].empty());
  CHECK_FALSE(std::filesystem::exists(data_root / ".staging" / kInstance));
  c.stop(kDownloader);
  c.stop(kPrimary);
}
