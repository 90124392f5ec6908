#include <doctest/doctest.h>

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

}  // namespace

TEST_CASE("catalog gossip store: verifies on the pool, refuses bad signatures before the catalog") {
  StoreWorld w;
  CatalogGossipStore store(*w.cat, w.options(4));
  CHECK(store.verify_threads() == 4);
  CHECK(store.authority() == w.fed.authority.public_key());
  CHECK(store.roster_serial() == 1);
  CHECK_FALSE(store.roster_changed());

  const std::vector<Envelope> genuine = w.manifests(40);
  std::vector<Envelope> batch = genuine;
  // Record 31 forged: its body changed after signing.
  batch[30].body.push_back(0);
  std::vector<IngestResult> r = store.ingest(batch);
  REQUIRE(r.size() == batch.size());
  for (std::size_t i = 0; i < 30; ++i) CHECK(r[i].outcome == IngestOutcome::stored);
  CHECK(r[30].outcome == IngestOutcome::refused);
  REQUIRE(r[30].error);
  CHECK(r[30].error->reason == "bad_signature");
  for (std::size_t i = 31; i < batch.size(); ++i) CHECK(r[i].outcome == IngestOutcome::parked);  // wait for 31
  CHECK(store.version_vector().at(w.publisher.public_key()) == 30);
  CHECK(store.records_after(w.publisher.public_key(), 28, 10, 1 << 20).size() == 2);

  // The genuine record 31 releases the parked ones; the rest are duplicates.
  r = store.ingest(genuine);
  REQUIRE(r.size() == genuine.size());
  for (std::size_t i = 0; i < 30; ++i) CHECK(r[i].outcome == IngestOutcome::duplicate);
  CHECK(r[30].outcome == IngestOutcome::stored);
  CHECK(r[30].released == 9);
  CHECK(store.version_vector().at(w.publisher.public_key()) == 40);
  CHECK(store.io_errors() == 0);
}

TEST_CASE("catalog gossip store: replays are duplicates, a different record under a held seq is refused") {
  StoreWorld w;
  CatalogGossipStore store(*w.cat, w.options(1));
  CHECK(store.verify_threads() == 1);
  std::vector<Envelope> batch = w.manifests(5);
  for (const auto& r : store.ingest(batch)) CHECK(r.outcome == IngestOutcome::stored);
  std::vector<IngestResult> r = store.ingest(batch);
  for (const auto& x : r) CHECK(x.outcome == IngestOutcome::duplicate);
  // Forged under a held seq: refused as a bad signature.
  batch[2].signature.bytes[0] ^= 1;
  r = store.ingest(batch);
  CHECK(r[1].outcome == IngestOutcome::duplicate);
  REQUIRE(r[2].outcome == IngestOutcome::refused);
  CHECK(r[2].error->reason == "bad_signature");
  // Validly signed by the author, but a different record under seq 1: equivocation.
  std::vector<Envelope> other = w.manifests(1);
  r = store.ingest(other);
  REQUIRE(r[0].outcome == IngestOutcome::refused);
  CHECK(r[0].error->reason == "seq_conflict");
  CHECK(store.ingest({}).empty());
}

TEST_CASE("catalog gossip store: a newer roster by gossip is reported once") {
  StoreWorld w;
  CatalogGossipStore store(*w.cat, w.options(2));
  std::vector<IngestResult> r = store.ingest({w.roster(2)});
  REQUIRE(r.size() == 1);
  CHECK(r[0].outcome == IngestOutcome::stored);
  CHECK(store.roster_serial() == 2);
  CHECK(store.roster_changed());
  CHECK_FALSE(store.roster_changed());
  auto current = w.cat->roster();
  REQUIRE(current.ok());
  REQUIRE(current->has_value());
  CHECK((*current)->serial == 2);
  // A roster record from anyone else is refused.
  SigningKey impostor = SigningKey::generate();
  Envelope fake = Envelope::sign(impostor, 1, RecordKind::roster, w.roster(3).body);
  r = store.ingest({fake});
  CHECK(r[0].outcome == IngestOutcome::refused);
  REQUIRE(r[0].error);
  CHECK(r[0].error->reason == "not_authority");
  CHECK(store.roster_serial() == 2);
  CHECK_FALSE(store.roster_changed());
}
