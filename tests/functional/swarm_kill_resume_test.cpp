// Functional: a downloading `fedswarm node run` is SIGKILLed at 20 random points of a
// swarm transfer, then 3 more times around its verification and placement (the points
// come from test_seed(); FEDSWARM_SEED reproduces them). The transfer is slowed by the
// [swarm] rate limits of config.toml — the seeder's upload limit for the first half of
// the kills, the downloader's download limit after — which must therefore apply to
// loopback peers. After every kill the DRS tree holds nothing of the version or all of
// it, byte-identical; after every restart the transfer goes on from the pieces it had
// (re-checked, since the stop was unclean, by itself: the merkle trees were stored by
// the first life) instead of starting over; the last run completes it, and no honest
// peer is banned on the way.
#include <doctest/doctest.h>

#include <algorithm>
#include <thread>

#include "SwarmKit.hpp"
#include "fedswarm/engine/NodeHome.hpp"

using namespace fedswarm;
using namespace fedswarm::test;
using namespace fedswarm::test::swarmkit;

namespace {

constexpr int kKills = 20;        // in the middle of the download
constexpr int kFinishKills = 3;   // around verification and placement
// The transfer's speed: first the primary's [swarm] upload_rate_limit, then (from the
// middle of the kills on) the downloader's download_rate_limit.
constexpr std::int64_t kRate = 384 * 1024;

// What one life of the downloader showed through `transfers --json`.
struct Run {
  std::string kind;               // how its kill point was chosen
  std::uint64_t target = 0;       // verified bytes to see while downloading before the kill
  std::optional<std::uint64_t> carried;  // then: verified bytes not downloaded in this life (a lower bound)
  std::uint64_t best = 0;         // the most verified bytes seen while downloading
  std::uint64_t downloaded = 0;   // payload received in this life, last seen
  std::uint64_t hash_failures = 0;  // pieces that failed their merkle check in this life, last seen
  std::string last;               // last row seen
};

}  // namespace

TEST_CASE("swarm - a downloader SIGKILLed at 20 random points resumes each time and never places unverified data") {
  const std::uint64_t seed = test_seed();
  MESSAGE("seed " << seed << " (FEDSWARM_SEED=" << seed << " reproduces the kill points)");
  CliWorld w;
  GossipCluster c(w, 42, 0);
  c.add_member("primary", "2", {"IPSL"});
  c.add_member("downloader", "1", {"NCAR"});
  c.issue_roster();
  set_config(c.home(0), {{"upload_rate_limit", std::to_string(kRate)}});
  w.must({"--home", c.home(1), "subscribe", "add", "source_id=IPSL-CM6A-LR table_id=Amon"});
  const auto archive = w.dir() / "archive";
  const auto names = write_version(archive, seed, 3, 2'000'000);
  std::uint64_t total = 0;
  for (const auto& n : names) total += std::filesystem::file_size(archive / kRel / n);
  c.start(0);
  w.must({"--home", c.home(0), "publish", archive.string()});

  std::mt19937_64 rng(seed);
  // Kill points by progress, below 80% so that no life can finish the transfer before
  // its kill (the rest takes seconds at kRate); one kill in four is "early":
  // after a random delay from the spawn, in whatever phase the node is (starting,
  // re-checking, preparing, downloading).
  std::vector<std::uint64_t> targets(kKills);
  for (auto& t : targets) t = rng() % (total * 8 / 10);
  std::sort(targets.begin(), targets.end());

  std::vector<Run> runs;
  std::uint64_t best_so_far = 0;      // over all earlier lives
  std::uint64_t best_at_restart = 0;  // when the primary was restarted
  std::unique_ptr<Process> node;
  auto spawn = [&](std::string kind) {
    node = std::make_unique<Process>(
        std::vector<std::string>{FEDSWARM_BIN, "--home", c.home(1), "node", "run", "--log-level", "debug"},
        w.logs() / ("downloader-" + std::to_string(runs.size())));
    runs.emplace_back();
    runs.back().kind = std::move(kind);
  };
  // Reads the downloader's row; true once it downloads with at least `target` verified bytes.
  auto observe = [&](std::uint64_t target) {
    Run& run = runs.back();
    auto t = transfer(w, c.home(1));
    if (!t) return false;
    run.last = t->dump();
    const auto downloaded = (*t)["bytes_downloaded"].get<std::uint64_t>();
    run.downloaded = std::max(run.downloaded, downloaded);
    run.hash_failures = std::max(run.hash_failures, (*t)["hash_failures"].get<std::uint64_t>());
    if ((*t)["kind"] != "fetch" || (*t)["activity"] != "downloading") return false;
    const auto done = (*t)["bytes_done"].get<std::uint64_t>();
    run.best = std::max(run.best, done);
    if (done < target) return false;
    run.carried = done > downloaded ? done - downloaded : 0;
    return true;
  };
  // A random kill point `delay` after the spawn (not a synchronisation).
  auto after = [&](std::chrono::milliseconds delay) {
    wait_until([&] { return !node->running(); }, delay, std::chrono::milliseconds(20));
  };
  // SIGKILL; then the DRS tree holds nothing of the version or all of it, verified.
  // Returns that state.
  auto kill = [&](std::size_t life) {
    {
      INFO("life " << life << " stderr: " << node->err());
      REQUIRE(node->running());  // it must not have stopped by itself
    }
    node->kill(SIGKILL);
    REQUIRE(node->wait(std::chrono::seconds(10)).has_value());
    node.reset();
    const Run& run = runs[life];
    const std::string state = drs_state(c.home(1), archive);
    INFO("life " << life << " (" << run.kind << "): " << run.last);
    CHECK((state == "absent" || state == "complete"));
    MESSAGE("life " << life << " (" << run.kind << "): carried over "
                    << (run.carried ? std::to_string(*run.carried) : std::string("?")) << " of " << best_so_far
                    << " verified before, reached " << run.best << " of " << total << ", downloaded " << run.downloaded
                    << ", " << run.hash_failures << " hash failures; DRS tree: " << state);
    best_so_far = std::max(best_so_far, run.best);
    return state;
  };

  for (std::size_t k = 0; k < kKills; ++k) {
    if (k == kKills / 2) {
      // The other limit: the downloader's own. Either must hold for loopback peers, or
      // the transfer would be complete at the next kill.
      best_at_restart = best_so_far;
      c.stop(0);
      set_config(c.home(0), {{"upload_rate_limit", "0"}});
      set_config(c.home(1), {{"download_rate_limit", std::to_string(kRate)}});
      c.start(0);
    }
    const bool early = k > 0 && rng() % 4 == 0;
    spawn(k == 0 ? "kill once the merkle trees are stored"
                 : early ? "early kill" : "kill at " + std::to_string(targets[k]) + " bytes");
    Run& run = runs.back();
    if (k == 0) {
      // The first life runs until its resume data is in the catalog: the first save of
      // a fetch holds the merkle trees (piece layers) received from the seeder.
      auto home = NodeHome::open(c.home(1));
      REQUIRE(home.ok());
      auto catalog = home->open_catalog(true);
      REQUIRE(catalog.ok());
      bool stored = wait_until(
          [&] {
            observe(total + 1);
            auto l = (*catalog)->local(kInstance);
            return !node->running() || (l.ok() && l->has_value() && !(*l)->resume_data.empty());
          },
          std::chrono::seconds(60), std::chrono::milliseconds(20));
      INFO("life 0: last row " << run.last);
      REQUIRE(stored);
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 300));  // a random kill point
    } else if (early) {
      after(std::chrono::milliseconds(rng() % 1200));
      observe(total + 1);
    } else {
      run.target = targets[k];
      bool reached = wait_until([&] { return observe(run.target) || !node->running(); }, std::chrono::seconds(60),
                                std::chrono::milliseconds(20));
      INFO("life " << k << ": last row " << run.last);
      REQUIRE(reached);
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 300));  // a random kill point
    }
    // A restart goes on from the verified pieces of earlier lives (re-checked): at most
    // the pieces in flight at a kill may be lost.
    if (run.carried) CHECK(*run.carried + total / 10 >= best_so_far);
    // With the trees stored, each re-check verifies the staged pieces by itself: an
    // incomplete one is simply not counted, never a "hash failure" (which is what it
    // becomes when the trees must come from a peer again).
    if (k > 0) CHECK(run.hash_failures == 0);
    const std::uint64_t before = best_so_far;
    // With a transfer this slow the version cannot be complete yet, else the rate
    // limit did not hold.
    REQUIRE(kill(k) == "absent");
    CHECK(best_so_far >= before);
  }
  CHECK(best_so_far * 2 >= total);  // the kills did fall in the middle of the transfer

  // Finish line: a kill as soon as the version is seen being verified, then kills at
  // random points of restarts that re-check, verify, place (or adopt) it.
  for (int k = 0; k < kFinishKills; ++k) {
    spawn(k == 0 ? "kill while verifying" : "early kill near the end");
    if (k == 0) {
      bool seen = wait_until(
          [&] {
            observe(total + 1);
            auto t = transfer(w, c.home(1));
            return !node->running() || (t && ((*t)["activity"] == "verifying" || (*t)["kind"] == "seed"));
          },
          std::chrono::seconds(60), std::chrono::milliseconds(5));
      INFO("last row " << runs.back().last);
      REQUIRE(seen);
    } else {
      after(std::chrono::milliseconds(rng() % 3000));
    }
    kill(runs.size() - 1);
    CHECK(runs.back().hash_failures == 0);
  }

  // The last life completes the transfer, placed byte-identical, without downloading
  // again what earlier lives had verified.
  spawn("last");
  bool done = wait_until(
      [&] {
        observe(total + 1);
        return seeding(w, c.home(1));
      },
      std::chrono::seconds(90), std::chrono::milliseconds(50));
  INFO("last row " << runs.back().last << "\nstderr: " << node->err());
  REQUIRE(done);
  CHECK(drs_state(c.home(1), archive) == "complete");
  // An early kill may have fallen after the placement's commit: then the last life only
  // holds the version (seeding on demand) and has no transfer of its own to report.
  auto t = transfer(w, c.home(1));
  if (!t) t = nlohmann::json{{"bytes_downloaded", 0}, {"hash_failures", 0}, {"verify_failures", 0}};
  const auto last_downloaded = (*t)["bytes_downloaded"].get<std::uint64_t>();
  MESSAGE("last life: downloaded " << last_downloaded << " of " << total << " bytes, " << (*t)["hash_failures"]
                                    << " hash failures");
  CHECK(last_downloaded + best_so_far <= total + total / 10);
  CHECK((*t)["verify_failures"] == 0);
  CHECK((*t)["hash_failures"] == 0);
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(c.home(1)) / "data" / ".staging" / kInstance));
  auto answer = transfers(w, c.home(1));
  REQUIRE(answer);
  CHECK((*answer)["counters"]["banned_peers"].empty());  // the only peer is honest
  // Since its restart half-way, the seeder sent little more than what was missing then
  // (starting over at each restart would have cost about the sum of the kill points).
  auto seed_row = transfer(w, c.home(0));
  REQUIRE(seed_row);
  MESSAGE("the primary uploaded " << (*seed_row)["bytes_uploaded"] << " bytes");
  CHECK((*seed_row)["bytes_uploaded"].get<std::uint64_t>() < (total - best_at_restart) + total);
  node->kill(SIGTERM);
  REQUIRE(node->wait(std::chrono::seconds(20)).has_value());
  c.stop(0);
}
