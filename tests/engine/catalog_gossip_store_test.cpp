#include <doctest/doctest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "ManifestFactory.hpp"
#include "TestFederation.hpp"
#include "TestSupport.hpp"
#include "gossip/CatalogGossipStore.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

struct StoreWorld {
  TempDir dir{"fedswarm-gossip-store"};
  FederationKeys fed;
  SigningKey publisher = SigningKey::generate();
  std::unique_ptr<Catalog> cat;
  std::mt19937_64 rng{7};

  StoreWorld() {
    REQUIRE(crypto_init());
    CatalogOptions o;
    o.dir = dir.path() / "catalog";
    auto c = Catalog::open(o, ProjectRegistry::builtin());
    REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
    cat = std::move(*c);
    REQUIRE(cat->pin_authority(fed.authority.public_key()).ok());
    const Envelope r1 = roster(1);
    REQUIRE(cat->import_roster(r1, kTestNow).ok());
    auto in = cat->ingest(r1, kTestNow);
    REQUIRE(in.ok());
    REQUIRE(in->outcome == IngestOutcome::stored);
  }
  Envelope roster(std::uint64_t serial) const {
    return fed.roster(serial, make_roster(serial, {member(publisher, "pub")}, {grant(publisher)}, kTestNow - 100,
                                          kTestNow + 86400));
  }
  std::vector<Envelope> manifests(std::size_t n) {
    static const ManifestFactory factory(cv_dir());
    std::vector<Envelope> out;
    for (std::size_t i = 0; i < n; ++i) {
      Manifest m = factory.make(factory.random_dataset(rng), version_string(static_cast<int>(i)), 1, rng);
      out.push_back(Envelope::sign(publisher, i + 1, RecordKind::manifest, m.encode()));
    }
    return out;
  }
  CatalogGossipStoreOptions options(unsigned threads) const {
    CatalogGossipStoreOptions o;
    o.verify_threads = threads;
    o.now = [] { return kTestNow; };
    return o;
  }
};

// The owner's thread of a threaded store: the test's own, running an io_context.
struct Owner {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{boost::asio::make_work_guard(io)};
  std::function<void(std::function<void()>)> post() {
    return [this](std::function<void()> f) { boost::asio::post(io, std::move(f)); };
  }
  // Runs completions until `done` holds (or 30 s pass).
  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io.run_one_for(std::chrono::milliseconds(20));
    }
    return true;
  }
};

std::vector<IngestResult> ingest(CatalogGossipStore& store, Owner* owner, std::vector<Envelope> batch) {
  std::optional<std::vector<IngestResult>> out;
  store.ingest(std::move(batch), [&](std::vector<Envelope>, std::vector<IngestResult> r) { out = std::move(r); });
  if (owner) REQUIRE(owner->run_until([&] { return out.has_value(); }));
  REQUIRE(out.has_value());
  return *out;
}

std::vector<Envelope> read(CatalogGossipStore& store, Owner* owner, std::vector<GossipStore::Range> ranges) {
  std::optional<std::vector<Envelope>> out;
  store.read(std::move(ranges), 1000, 1 << 20, [&](std::vector<Envelope> r) { out = std::move(r); });
  if (owner) REQUIRE(owner->run_until([&] { return out.has_value(); }));
  REQUIRE(out.has_value());
  return *out;
}

}  // namespace

TEST_CASE("catalog gossip store: verifies on the writer's pool off the owner thread, refuses bad signatures before the catalog") {
  StoreWorld w;
  Owner owner;
  auto o = w.options(4);
  o.post = owner.post();
  CatalogGossipStore store(*w.cat, o);
  CHECK(store.verify_threads() == 4);
  CHECK(store.authority() == w.fed.authority.public_key());
  CHECK(store.roster_serial() == 1);
  CHECK_FALSE(store.take_roster());
  std::vector<std::string> touched;
  store.set_on_stored([&](const std::vector<std::string>& t, bool) { touched.insert(touched.end(), t.begin(), t.end()); });

  const std::vector<Envelope> genuine = w.manifests(40);
  std::vector<Envelope> batch = genuine;
  // Record 31 forged: its body changed after signing.
  batch[30].body.push_back(0);
  std::vector<IngestResult> r = ingest(store, &owner, batch);
  REQUIRE(r.size() == batch.size());
  for (std::size_t i = 0; i < 30; ++i) CHECK(r[i].outcome == IngestOutcome::stored);
  CHECK(r[30].outcome == IngestOutcome::refused);
  REQUIRE(r[30].error);
  CHECK(r[30].error->reason == "bad_signature");
  for (std::size_t i = 31; i < batch.size(); ++i) CHECK(r[i].outcome == IngestOutcome::parked);  // wait for 31
  CHECK(store.version_vector().at(w.publisher.public_key()) == 30);
  CHECK(touched.size() == 30);  // the ids the commit touched reached the owner
  CHECK(read(store, &owner, {{w.publisher.public_key(), 28, 40}}).size() == 2);

  // The genuine record 31 releases the parked ones; the rest are duplicates.
  r = ingest(store, &owner, genuine);
  REQUIRE(r.size() == genuine.size());
  for (std::size_t i = 0; i < 30; ++i) CHECK(r[i].outcome == IngestOutcome::duplicate);
  CHECK(r[30].outcome == IngestOutcome::stored);
  CHECK(r[30].released == 9);
  CHECK(store.version_vector().at(w.publisher.public_key()) == 40);
  CHECK(store.io_errors() == 0);
  CHECK(store.writer_stats().verified >= 41);
}

TEST_CASE("catalog gossip store: records queued for writing count as held in the advertised version vector") {
  StoreWorld w;
  Owner owner;
  auto o = w.options(1);
  o.post = owner.post();
  CatalogGossipStore store(*w.cat, o);
  bool done = false;
  store.ingest(w.manifests(20), [&](std::vector<Envelope>, std::vector<IngestResult>) { done = true; });
  // Not written yet (the completion has not run on this thread): advertised anyway, so
  // the peer's next digest does not ask for them again.
  CHECK(store.version_vector().at(w.publisher.public_key()) == 20);
  REQUIRE(owner.run_until([&] { return done; }));
  CHECK(store.committed().at(w.publisher.public_key()) == 20);
  CHECK(store.version_vector().at(w.publisher.public_key()) == 20);
}

TEST_CASE("catalog gossip store: replays are duplicates, a different record under a held seq is refused (inline)") {
  StoreWorld w;
  CatalogGossipStore store(*w.cat, w.options(1));
  CHECK(store.verify_threads() == 1);
  std::vector<Envelope> batch = w.manifests(5);
  for (const auto& r : ingest(store, nullptr, batch)) CHECK(r.outcome == IngestOutcome::stored);
  std::vector<IngestResult> r = ingest(store, nullptr, batch);
  for (const auto& x : r) CHECK(x.outcome == IngestOutcome::duplicate);
  // Forged under a held seq: refused as a bad signature.
  batch[2].signature.bytes[0] ^= 1;
  r = ingest(store, nullptr, batch);
  CHECK(r[1].outcome == IngestOutcome::duplicate);
  REQUIRE(r[2].outcome == IngestOutcome::refused);
  CHECK(r[2].error->reason == "bad_signature");
  // Validly signed by the author, but a different record under seq 1: equivocation.
  std::vector<Envelope> other = w.manifests(1);
  r = ingest(store, nullptr, other);
  REQUIRE(r[0].outcome == IngestOutcome::refused);
  CHECK(r[0].error->reason == "seq_conflict");
  CHECK(ingest(store, nullptr, {}).empty());
}

TEST_CASE("catalog gossip store: a newer roster by gossip is handed over once") {
  StoreWorld w;
  Owner owner;
  auto o = w.options(2);
  o.post = owner.post();
  CatalogGossipStore store(*w.cat, o);
  bool roster_news = false;
  store.set_on_stored([&](const std::vector<std::string>&, bool roster) { roster_news |= roster; });
  std::vector<IngestResult> r = ingest(store, &owner, {w.roster(2)});
  REQUIRE(r.size() == 1);
  CHECK(r[0].outcome == IngestOutcome::stored);
  CHECK(roster_news);
  CHECK(store.roster_serial() == 2);
  auto given = store.take_roster();
  REQUIRE(given);
  CHECK(given->serial == 2);
  CHECK_FALSE(store.take_roster());
  // A roster record from anyone else is refused.
  SigningKey impostor = SigningKey::generate();
  Envelope fake = Envelope::sign(impostor, 1, RecordKind::roster, w.roster(3).body);
  r = ingest(store, &owner, {fake});
  CHECK(r[0].outcome == IngestOutcome::refused);
  REQUIRE(r[0].error);
  CHECK(r[0].error->reason == "not_authority");
  CHECK(store.roster_serial() == 2);
  CHECK_FALSE(store.take_roster());
}

TEST_CASE("catalog gossip store: over the queue cap it says so, and again when the writer caught up") {
  StoreWorld w;
  Owner owner;
  auto o = w.options(1);
  o.post = owner.post();
  o.max_queued_records = 30;
  CatalogGossipStore store(*w.cat, o);
  std::vector<bool> levels;
  store.set_on_saturation([&](bool s) { levels.push_back(s); });
  const auto all = w.manifests(90);
  int done = 0;
  for (int b = 0; b < 3; ++b)
    store.ingest(std::vector<Envelope>(all.begin() + b * 30, all.begin() + (b + 1) * 30),
                 [&](std::vector<Envelope>, std::vector<IngestResult>) { ++done; });
  REQUIRE(owner.run_until([&] { return done == 3 && levels.size() >= 2; }));
  CHECK(levels.front() == true);
  CHECK(levels.back() == false);
  CHECK_FALSE(store.saturated());
  CHECK(store.committed().at(w.publisher.public_key()) == 90);
}

TEST_CASE("catalog gossip store: stopping answers what is still queued") {
  StoreWorld w;
  Owner owner;
  auto o = w.options(1);
  o.post = owner.post();
  auto store = std::make_unique<CatalogGossipStore>(*w.cat, o);
  store->stop();
  std::optional<std::vector<IngestResult>> out;
  store->ingest(w.manifests(3), [&](std::vector<Envelope>, std::vector<IngestResult> r) { out = std::move(r); });
  REQUIRE(owner.run_until([&] { return out.has_value(); }));
  for (const auto& r : *out) {
    CHECK(r.outcome == IngestOutcome::refused);
    CHECK(r.error->reason == "writer_stopped");
  }
}
