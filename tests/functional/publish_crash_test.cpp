// Functional: a publish process killed with SIGKILL at random moments (>= 50 times)
// leaves a catalog that opens, and each dataset version either fully present or absent.
#include <doctest/doctest.h>
#include <signal.h>

#include <random>
#include <set>

#include "FunctionalFixture.hpp"
#include "fedswarm/engine/NodeHome.hpp"
#include "fedswarm/engine/SampleTree.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

// Checks every invariant a half-done publish could break; returns the versions present.
std::set<std::string> check_consistent(const NodeHome& home, const std::vector<SampleVersion>& sample) {
  auto catalog = home.open_catalog();
  REQUIRE_MESSAGE(catalog.ok(), (catalog.ok() ? "" : catalog.error().message));
  auto& cat = **catalog;
  std::set<std::string> present;
  for (const auto& v : sample) {
    auto info = cat.version(v.instance_id());
    REQUIRE(info.ok());
    auto first_pid = cat.find_tracking_id(v.tracking_ids.front());
    REQUIRE(first_pid.ok());
    if (!*info) {
      // Absent: no trace in any index.
      CHECK(first_pid->empty());
      continue;
    }
    present.insert(v.instance_id());
    auto m = cat.manifest(v.instance_id());
    REQUIRE(m.ok());
    CHECK(m->files.size() == v.files.size());
    for (const auto& pid : v.tracking_ids) {
      auto ref = cat.find_tracking_id(pid);
      REQUIRE(ref.ok());
      CHECK(!ref->empty());
    }
    auto local = cat.local(v.instance_id());
    REQUIRE(local.ok());
    CHECK(local->has_value());
    SearchQuery q;
    q.constraints = {{"variable_id", std::string(m->facet("variable_id")->front())}};
    q.all_versions = true;
    q.limit = 1000;
    auto found = cat.search(q);
    REQUIRE(found.ok());
    bool listed = false;
    for (const auto& d : found->docs) listed = listed || d.instance_id() == v.instance_id();
    CHECK(listed);
  }
  // Versions are committed oldest first, so a newer version implies its predecessor,
  // which it names as superseded.
  for (std::size_t i = 1; i < sample.size(); ++i) {
    if (sample[i].dataset_id != sample[i - 1].dataset_id || !present.count(sample[i].instance_id())) continue;
    CHECK(present.count(sample[i - 1].instance_id()));
    CHECK(cat.manifest(sample[i].instance_id())->supersedes == sample[i - 1].version);
  }
  auto vv = cat.version_vector();
  REQUIRE(vv.ok());
  auto own = vv->find(home.key().public_key());
  CHECK((own == vv->end() ? 0u : own->second) == present.size());
  return present;
}

}  // namespace

TEST_CASE("publish killed at random moments leaves each version fully present or absent") {
  CliWorld w;
  auto seed = test_seed();
  MESSAGE("seed " << seed << " (FEDSWARM_SEED=" << seed << " reproduces the kill points)");
  std::mt19937_64 rng(seed);

  SampleSpec spec;
  spec.datasets = 12;
  spec.versions_per_dataset = 2;
  spec.files_per_version = 2;
  spec.file_size = 48 * 1024;
  auto sample = write_sample_tree(w.dir() / "archive", 11, spec);
  REQUIRE(sample.ok());
  auto template_home = w.node("IPSL");

  constexpr int kKills = 50;
  int killed_mid_commit = 0;
  for (int i = 0; i < kKills; ++i) {
    // A fresh copy of the admitted home for each run.
    auto home_dir = w.dir() / ("home" + std::to_string(i));
    std::filesystem::copy(template_home, home_dir, std::filesystem::copy_options::recursive);
    // Kill when the catalog holds `target` versions (0 = during the scan/hash phase),
    // polling the catalog as a second process would.
    std::size_t target = std::uniform_int_distribution<std::size_t>(0, sample->size())(rng);
    auto home = NodeHome::open(home_dir);
    REQUIRE(home.ok());
    auto watcher = home->open_catalog(true);
    REQUIRE(watcher.ok());
    Process p({FEDSWARM_BIN, "--home", home_dir.string(), "publish", (w.dir() / "archive").string()}, w.logs());
    wait_until(
        [&] {
          if (!p.running() || target == 0) return true;
          auto stats = (*watcher)->stats();
          return stats && stats->versions >= target;
        },
        std::chrono::seconds(60), std::chrono::microseconds(200));
    p.kill(SIGKILL);
    auto ended = p.wait(std::chrono::seconds(30));
    REQUIRE(ended.has_value());
    auto present = check_consistent(*home, *sample);
    if (ended->signal == SIGKILL && !present.empty() && present.size() < sample->size()) ++killed_mid_commit;

    // A second publish completes the job without redoing what is there.
    if (i % 10 == 0) {
      auto again = w.run({"--home", home_dir.string(), "publish", (w.dir() / "archive").string()});
      REQUIRE(again.exit_code == 0);
      CHECK(check_consistent(*home, *sample).size() == sample->size());
    }
  }
  MESSAGE(killed_mid_commit << " of " << kKills << " kills landed between versions of the commit phase");
  CHECK(killed_mid_commit > 0);
}
