// Functional: who may use a node's swarm port, and seeding on demand (issue 14), with
// real `fedswarm node run` processes.
// - A BitTorrent client outside the federation (python3-libtorrent) that knows a
//   version's torrent is refused with [swarm] peers = "members" and counted; with
//   "anyone" it is served and counted; it is never dialled back.
// - A publisher with max_active_torrents = 2 holding 5 versions serves all of them to a
//   subscriber in turn: never more than 2 loaded, each loaded on the subscriber's
//   request from its stored merkle trees (no second full check).
#include <doctest/doctest.h>

#include "FunctionalFixture.hpp"
#include "GossipCluster.hpp"
#include "SwarmKit.hpp"

using namespace fedswarm;
using namespace fedswarm::test;
using namespace fedswarm::test::swarmkit;

namespace {

namespace fs = std::filesystem;

nlohmann::json swarm_of(GossipCluster& c, std::size_t i) { return c.status(i)["swarm"]; }

// Runs tests/functional/foreign_client.py from `ip`; its JSON answer.
nlohmann::json foreign_client(CliWorld& w, const fs::path& torrent, const std::string& node, const std::string& ip,
                              const fs::path& out, int timeout_s, int watch_s, bool partial) {
  fs::create_directories(out);
  std::vector<std::string> argv{"/usr/bin/python3", FEDSWARM_SOURCE_DIR "/tests/functional/foreign_client.py",
                                torrent.string(), node, ip, out.string(), std::to_string(timeout_s),
                                std::to_string(watch_s)};
  if (partial) argv.push_back("partial");
  Process py(argv, w.logs() / ("foreign-" + out.filename().string()));
  auto r = py.wait(std::chrono::seconds(timeout_s + watch_s + 60));
  REQUIRE(r.has_value());
  INFO("foreign client stdout:\n" << r->out << "\nstderr:\n" << r->err);
  REQUIRE(r->exit_code == 0);
  auto j = nlohmann::json::parse(r->out, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

}  // namespace

TEST_CASE("swarm - a client outside the federation is refused with peers members, served with anyone, never dialled") {
  CliWorld w;
  GossipCluster c(w, 85, 0);
  c.add_member("IPSL", "2", {"IPSL"});
  c.issue_roster();
  c.start(0);
  write_version(w.dir() / "archive", test_seed(), 2, 256 * 1024);
  w.must({"--home", c.home(0), "publish", (w.dir() / "archive").string()});
  // The publisher's version is checked once (its merkle trees are stored), then held.
  REQUIRE(wait_until([&] { return swarm_of(c, 0).value("held", 0) == 1 && swarm_of(c, 0).value("full_checks", 0) == 1; },
                     std::chrono::seconds(30), std::chrono::milliseconds(100)));
  const fs::path torrent = w.dir() / "v.torrent";
  w.must({"--home", c.home(0), "export-torrent", kInstance, "-o", torrent.string()});
  const std::string node = swarm_of(c, 0).value("listen", "");
  REQUIRE_FALSE(node.empty());
  const std::string outsider = "127.0.85.9";

  // Members only (the default): refused before the handshake, counted, in health.
  auto refused = foreign_client(w, torrent, node, outsider, w.dir() / "refused", 6, 0, false);
  CHECK(refused["bytes"] == 0);
  CHECK_FALSE(refused["complete"].get<bool>());
  CHECK(swarm_of(c, 0).value("foreign_refused", 0) >= 1);
  CHECK(c.refused(0, "swarm_foreign_peer") >= 1);
  auto health = w.json({"--home", c.home(0), "health"});
  CHECK(health.dump().find("swarm_foreign_peer") != std::string::npos);

  // Anyone: served and counted; once it stops (not a seed, so libtorrent would like to
  // dial it again), the node never connects to it.
  c.stop(0);
  set_config(c.home(0), {{"peers", "\"anyone\""}});
  c.start(0);
  auto partial = foreign_client(w, torrent, node, outsider, w.dir() / "partial", 30, 15, true);
  CHECK(partial["bytes"].get<std::uint64_t>() > 0);
  CHECK(partial["incoming_from_node"] == 0);
  auto served = swarm_of(c, 0);
  CHECK(served.value("foreign_served", 0) >= 1);
  CHECK(served.value("foreign_dials_refused", 0) == 0);
  auto full = foreign_client(w, torrent, node, outsider, w.dir() / "full", 60, 0, false);
  CHECK(full["complete"].get<bool>());
  c.stop(0);
}

TEST_CASE("swarm - a publisher with max_active_torrents 2 serves 5 held versions in turn, loading each on request") {
  CliWorld w;
  GossipCluster c(w, 86, 0);
  c.add_member("IPSL", "2", {"IPSL"});
  c.add_member("NCAR", "2", {"NCAR"});
  c.issue_roster();
  set_config(c.home(0), {{"max_active_torrents", "2"}, {"seed_idle_s", "1"}});
  c.start_all();
  const std::vector<std::string> vars{"tas", "pr", "psl", "uas", "vas"};
  const fs::path archive = w.dir() / "archive";
  std::mt19937_64 rng(test_seed());
  MESSAGE("seed " << test_seed());
  auto rel = [](const std::string& var) {
    return "CMIP6/CMIP/IPSL/IPSL-CM6A-LR/historical/r1i1p1f1/Amon/" + var + "/gr/v20190101";
  };
  auto file = [](const std::string& var) { return var + "_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_185001-189912.nc"; };
  for (const auto& var : vars) {
    fs::create_directories(archive / rel(var));
    std::string bytes(200 * 1024 + rng() % 65536, '\0');
    for (auto& ch : bytes) ch = static_cast<char>(rng());
    write_file(archive / rel(var) / file(var), bytes);
  }
  w.must({"--home", c.home(0), "publish", archive.string()});

  std::uint64_t most_loaded = 0;
  nlohmann::json last;
  auto sample = [&] {
    auto s = swarm_of(c, 0);
    last = s;
    most_loaded = std::max<std::uint64_t>(most_loaded, s.value("loaded", 0));
    return s;
  };
  // Each version is checked once (two at a time), then unloaded when idle: none loaded.
  INFO("the publisher's swarm status: " << last.dump());
  REQUIRE(wait_until(
      [&] {
        auto s = sample();
        return s.value("held", 0) == 5 && s.value("full_checks", 0) == 5 && s.value("loaded", 1) == 0;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(100)));

  // The subscriber wants all five at once; the publisher loads them on request.
  w.must({"--home", c.home(1), "subscribe", "add", "source_id=IPSL-CM6A-LR table_id=Amon"});
  auto all_placed = [&] {
    for (const auto& var : vars)
      if (!fs::exists(fs::path(c.home(1)) / "data" / rel(var) / file(var))) return false;
    return true;
  };
  REQUIRE(wait_until(
      [&] {
        sample();
        return all_placed();
      },
      std::chrono::seconds(120), std::chrono::milliseconds(100)));
  for (const auto& var : vars) {
    INFO(var);
    CHECK(read_file(fs::path(c.home(1)) / "data" / rel(var) / file(var)) == read_file(archive / rel(var) / file(var)));
  }
  auto s = sample();
  CHECK(most_loaded <= 2);
  CHECK(s.value("on_demand_loads", 0) >= 5);
  CHECK(s.value("full_checks", 0) == 5);  // a cold version flows without a re-hash
  for (std::size_t i = 0; i < c.size(); ++i) c.stop(i);
}
