// Functional: swarm transfer between real `fedswarm node run` processes, each on its
// own loopback address — subscriptions fetch a published version to every subscriber,
// byte-identical and verified, placed in each DRS tree; a retraction reaches the dark
// repository, whose configured action (quarantine) moves its copy aside.
#include <doctest/doctest.h>

#include "GossipCluster.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

const std::string kRel = "CMIP6/CMIP/IPSL/IPSL-CM6A-LR/historical/r1i1p1f1/Amon/tas/gr/v20190101";
const std::string kInstance = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr.v20190101";

// A version of 3 files of ~3 MB of random bytes under `root`.
std::vector<std::string> write_version(const std::filesystem::path& root, std::uint64_t seed) {
  std::filesystem::create_directories(root / kRel);
  std::mt19937_64 rng(seed);
  std::vector<std::string> names;
  for (int y : {1850, 1900, 1950}) {
    std::string name = "tas_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_" + std::to_string(y) + "01-" + std::to_string(y + 49) + "12.nc";
    std::string bytes(3'000'000 + static_cast<std::size_t>(rng() % 100'000), '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    write_file(root / kRel / name, bytes);
    names.push_back(name);
  }
  return names;
}

bool placed(const std::string& home) { return std::filesystem::is_directory(std::filesystem::path(home) / "data" / kRel); }

}  // namespace

TEST_CASE("a published version reaches three subscribers by swarm, byte-identical, and a retraction reaches the dark copy") {
  CliWorld w;
  GossipCluster c(w, 31, 0);
  c.add_member("primary", "2", {"IPSL"});
  c.add_member("tier1-a", "1", {"NCAR"});
  c.add_member("tier1-b", "1", {"NCAR"});
  c.add_member("dark", "dark", {"NCAR"});
  c.issue_roster();
  set_config(c.home(3), {{"action", "\"quarantine\""}});
  for (std::size_t i = 1; i < 4; ++i) w.must({"--home", c.home(i), "subscribe", "add", "source_id=IPSL-CM6A-LR table_id=Amon"});
  c.start_all();
  auto names = write_version(w.dir() / "archive", test_seed());
  MESSAGE("seed " << test_seed());
  w.must({"--home", c.home(0), "publish", (w.dir() / "archive").string()});

  REQUIRE(wait_until([&] { return placed(c.home(1)) && placed(c.home(2)) && placed(c.home(3)); }, std::chrono::seconds(90),
                     std::chrono::milliseconds(100)));
  for (std::size_t i = 1; i < 4; ++i)
    for (const auto& n : names) {
      INFO("node " << i << " file " << n);
      CHECK(read_file(std::filesystem::path(c.home(i)) / "data" / kRel / n) == read_file(w.dir() / "archive" / kRel / n));
    }
  // Nothing left in staging; every copy is announced by a replica record everywhere.
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(c.home(1)) / "data" / ".staging" / kInstance));
  REQUIRE(wait_until(
      [&] {
        auto shown = w.json({"--home", c.home(0), "show", kInstance, "--no-files"});
        // The two Tier-1 copies are replicas; the dark repository's is listed apart.
        return shown["replicas"].size() >= 2 && shown["dark_copies"].size() >= 1;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(100)));
  auto t = w.json({"--home", c.home(1), "transfers", "--all"});
  REQUIRE(t["transfers"].size() == 1);
  CHECK(t["transfers"][0]["kind"] == "seed");

  // The primary retracts; the dark repository quarantines its copy; check says retracted.
  w.must({"--home", c.home(0), "retract", kInstance, "--reason", "wrong units", "--errata", "e-7"});
  const auto quarantined = std::filesystem::path(c.home(3)) / "data" / ".quarantine" / kInstance;
  REQUIRE(wait_until([&] { return std::filesystem::exists(quarantined); }, std::chrono::seconds(30),
                     std::chrono::milliseconds(100)));
  CHECK_FALSE(placed(c.home(3)));
  auto r = w.run({"--home", c.home(3), "check", (quarantined / names[0]).string()});
  CHECK(r.exit_code == 11);
  CHECK(r.out.find("e-7") != std::string::npos);
  // The Tier-1 copies are kept and flagged (default action).
  CHECK(placed(c.home(1)));
  for (std::size_t i = 0; i < c.size(); ++i) c.stop(i);
}
