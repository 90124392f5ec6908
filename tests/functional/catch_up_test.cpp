// A node catching up on a large catalog stays live: one real node holding 200,000
// signed records, a fresh one started beside it that fetches them all through gossip.
// While the stream runs, the fresh node answers `status` every time it is asked, and
// neither node ever sees the other as suspect or down — its heartbeats keep arriving
// although its io thread carries the stream (the catalog writes and signature checks
// run on other threads, and the writer's backpressure pauses reading without anyone
// taking the silence for death).
#include <doctest/doctest.h>

#include "GossipCluster.hpp"
#include "ManifestFactory.hpp"
#include "fedswarm/engine/NodeHome.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

constexpr std::size_t kRecords = 200'000;

// kRecords small manifests signed by `home`'s key, written straight into its catalog
// (in batches, signatures known good): what a publisher that published for years holds.
void fill(const std::string& home_dir) {
  auto home = NodeHome::open(home_dir);
  REQUIRE_MESSAGE(home.ok(), home.error().message);
  auto catalog = home->open_catalog(false);
  REQUIRE_MESSAGE(catalog.ok(), catalog.error().message);
  static const ManifestFactory factory(cv_dir());
  std::mt19937_64 rng(99);
  std::vector<Envelope> batch;
  std::uint64_t seq = 0;
  auto vv = (*catalog)->version_vector();
  REQUIRE(vv.ok());
  if (auto it = vv->find(home->key().public_key()); it != vv->end()) seq = it->second;
  for (std::size_t i = 0; i < kRecords; ++i) {
    DatasetSpec spec = factory.random_dataset(rng);
    spec.variant = "r" + std::to_string(1 + i) + "i1p1f1";  // a dataset of its own: no supersession
    Manifest m = factory.make(spec, "v20200101", 1, rng);
    batch.push_back(Envelope::sign(home->key(), ++seq, RecordKind::manifest, m.encode()));
    if (batch.size() == 5000 || i + 1 == kRecords) {
      auto r = (*catalog)->ingest_batch(batch, static_cast<std::int64_t>(std::time(nullptr)), true);
      REQUIRE_MESSAGE(r.ok(), r.error().message);
      for (const auto& x : *r) REQUIRE_MESSAGE(x.outcome == IngestOutcome::stored, (x.error ? x.error->message : ""));
      batch.clear();
    }
  }
}

}  // namespace

TEST_CASE("catch-up: 200,000 records stream to a fresh node while it answers status and no link goes suspect") {
  CliWorld w;
  GossipCluster c(w, 78, 2);
  fill(c.home(0));
  const std::uint64_t total = c.records(0);
  REQUIRE(total >= kRecords);
  c.start(0);
  c.start(1);

  std::size_t asked = 0, answered = 0, samples = 0;
  std::uint64_t most_queued = 0;
  bool saturated_seen = false;
  std::vector<std::string> trouble;
  auto peer_state = [&](std::size_t at, const std::string& site) -> std::string {
    auto p = w.run({"--json", "--home", c.home(at), "peers"});
    if (p.exit_code != 0) return "no answer (" + p.err + ")";
    auto j = nlohmann::json::parse(p.out, nullptr, false);
    if (j.is_discarded()) return "bad answer";
    for (const auto& x : j["peers"])
      if (x.value("site", "") == site) return x.value("state", "?");
    return "absent";
  };
  bool done = wait_until(
      [&] {
        ++asked;
        auto s = c.running_status(1);
        if (s) {
          ++answered;
          most_queued = std::max(most_queued, (*s)["pipeline"].value("queued_records", std::uint64_t{0}));
          saturated_seen |= (*s)["pipeline"].value("saturated", false);
        }
        // Each side's view of the other, as its peers answer says.
        ++samples;
        const std::string at1 = peer_state(1, "node0"), at0 = peer_state(0, "node1");
        if (samples > 3 && at1 != "up") trouble.push_back("node1 saw node0 " + at1);
        if (samples > 3 && at0 != "up") trouble.push_back("node0 saw node1 " + at0);
        return s && (*s).value("records", std::uint64_t{0}) >= total;
      },
      std::chrono::seconds(900), std::chrono::milliseconds(250));
  INFO("asked status " << asked << " times, answered " << answered << "; most records queued " << most_queued
                       << (saturated_seen ? std::string(" (reading paused at least once)") : std::string()));
  MESSAGE("status answered " << answered << " of " << asked << " times during the catch-up; most records queued for "
                             "the writer " << most_queued << (saturated_seen ? std::string(", backpressure engaged") : std::string()));
  REQUIRE(done);
  CHECK(answered == asked);
  std::string seen;
  for (const auto& t : trouble) seen += t + "\n";
  INFO(seen);
  CHECK(trouble.empty());
  // Every record verified and stored: the same version vectors.
  auto s0 = c.status(0), s1 = c.status(1);
  CHECK(s1["records"] == s0["records"]);
  INFO("refused at node1: " << s1["refused"].dump());
  CHECK(s1["refused"].empty());
  c.stop(1);
  c.stop(0);
}
