// Functional: real `fedswarm node run` processes on their own loopback addresses keep
// their catalogs converged by gossip — publish at one reaches all, a stopped node catches
// up, a retraction reaches everyone.
#include <doctest/doctest.h>

#include "GossipCluster.hpp"
#include "fedswarm/engine/SampleTree.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

std::vector<SampleVersion> sample(const std::filesystem::path& root, std::uint64_t seed, std::size_t datasets) {
  SampleSpec spec;
  spec.datasets = datasets;
  spec.files_per_version = 2;
  spec.file_size = 8 * 1024;
  auto written = write_sample_tree(root, seed, spec);
  REQUIRE(written.ok());
  return *written;
}

bool retracted_everywhere(CliWorld& w, GossipCluster& c, const std::string& instance) {
  for (std::size_t i = 0; i < c.size(); ++i) {
    auto r = w.run({"--json", "--home", c.home(i), "show", instance});
    if (r.exit_code != 0) return false;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded() || j.value("status", "") != "retracted") return false;
  }
  return true;
}

}  // namespace

TEST_CASE("5 nodes converge after a publish at one, and a retraction reaches all") {
  CliWorld w;
  GossipCluster c(w, 11, 5);
  c.start_all();
  auto versions = sample(w.dir() / "archive", 3, 4);
  w.must({"--home", c.home(0), "publish", (w.dir() / "archive").string()});
  const std::uint64_t n = c.records(0);
  CHECK(n == 1 + versions.size());  // the roster and the manifests
  REQUIRE(c.wait_records(c.all(), n));
  for (std::size_t i = 1; i < c.size(); ++i) {
    auto found = w.json({"--home", c.home(i), "search"});
    CHECK(found["response"]["numFound"] == versions.size());
  }
  // Everyone sees everyone.
  REQUIRE(wait_until([&] { return c.status(0)["peers"].value("up", 0) == 4; }, std::chrono::seconds(20)));
  auto peers = c.peers(0)["peers"];
  CHECK(peers.size() == 4);
  for (const auto& p : peers) {
    CHECK(p["connected"] == true);
    CHECK(p["heartbeat"]["software_version"].get<std::string>().find("fedswarm") == 0);
  }

  // A retraction published at node 0 while everything runs.
  w.must({"--home", c.home(0), "retract", versions[1].instance_id(), "--reason", "wrong units", "--errata", "e-42"});
  REQUIRE(wait_until([&] { return retracted_everywhere(w, c, versions[1].instance_id()); }, std::chrono::seconds(30),
                     std::chrono::milliseconds(100)));
  auto shown = w.json({"--home", c.home(3), "show", versions[1].instance_id()});
  CHECK(shown["retraction"]["errata_id"] == "e-42");
  CHECK(c.status(2)["refused"].empty());
  for (std::size_t i = 0; i < c.size(); ++i) c.stop(i);
}

TEST_CASE("a stopped node misses records and catches up when back, and so does a killed node") {
  CliWorld w;
  GossipCluster c(w, 12, 4);
  c.start_all();
  REQUIRE(c.wait_records(c.all(), 1));

  // Frozen (SIGSTOP): the others go on without it.
  c.signal(3, SIGSTOP);
  sample(w.dir() / "a", 5, 3);
  w.must({"--home", c.home(0), "publish", (w.dir() / "a").string()});
  const std::uint64_t n1 = c.records(0);
  REQUIRE(c.wait_records({0, 1, 2}, n1));
  // Its catalog (read directly, the process is frozen) has none of them.
  CHECK(w.json({"--home", c.home(3), "search", "--all-versions"})["response"]["numFound"] == 0);
  c.signal(3, SIGCONT);
  REQUIRE(c.wait_records(c.all(), n1));

  // Killed (SIGKILL) and restarted: it catches up from its catalog on disk.
  c.signal(2, SIGKILL);
  c.process(2).wait(std::chrono::seconds(10));
  c.forget(2);
  sample(w.dir() / "b", 6, 3);
  w.must({"--home", c.home(1), "publish", (w.dir() / "b").string()});
  const std::uint64_t n2 = c.records(1);
  REQUIRE(n2 > n1);
  REQUIRE(c.wait_records({0, 1, 3}, n2));
  CHECK(c.records(2) == n1);
  c.start(2);
  REQUIRE(c.wait_records(c.all(), n2));
  // The survivors noticed it was gone and took it back.
  REQUIRE(wait_until([&] { return c.status(0)["peers"].value("up", 0) == 3; }, std::chrono::seconds(20)));
  for (std::size_t i = 0; i < c.size(); ++i) c.stop(i);
}

TEST_CASE("a newer roster reaches running nodes by gossip and admits a new member") {
  CliWorld w;
  GossipCluster c(w, 13, 3);
  c.start_all();
  REQUIRE(c.wait_records(c.all(), 1));
  // A fourth member joins: the new roster is imported at node 0 only.
  c.add_member("late", "2", {});
  std::string roster = (w.dir() / "roster-late.fsr").string();
  w.must({"federation", "roster", "--dir", w.authority_dir(), "-o", roster});
  w.must({"--home", c.home(0), "federation", "import", roster});
  w.must({"--home", c.home(3), "federation", "import", roster});
  // Nodes 1 and 2 learn the roster from node 0 by gossip.
  REQUIRE(c.wait_records({0, 1, 2}, 2));
  REQUIRE(wait_until([&] { return c.status(1).value("roster_serial", 0) == 2; }, std::chrono::seconds(20)));
  c.start(3);
  REQUIRE(wait_until(
      [&] {
        for (std::size_t i = 0; i < 4; ++i)
          if (c.status(i)["peers"].value("up", 0) != 3) return false;
        return true;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(100)));
  for (std::size_t i = 0; i < c.size(); ++i) c.stop(i);
}
