// What the catalog maintains for the one-Tier-1-copy rule and for health as records
// arrive — node totals, the node → versions index, the ids each ingest touched, version
// cases — checked against a brute-force recount of replication_state after every record
// of random streams (records of any kind in any order, replicas before their manifests,
// drops, re-publications, claims, retractions).
#include <doctest/doctest.h>
#include <lmdb.h>

#include <map>
#include <set>

#include "CatalogWorld.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

// NodeTotals recomputed from scratch with the semantics of Catalog.hpp.
std::map<PublicKey, NodeTotals> brute_totals(const ReplicationState& s) {
  std::map<std::string, const VersionInfo*> versions;
  for (const auto& v : s.versions) versions[v.instance_id()] = &v;
  std::map<std::pair<PublicKey, std::string>, ReplicaState> latest;
  for (const auto& r : s.replicas) latest[{r.location.node, r.instance_id}] = r.location.state;
  std::map<PublicKey, NodeTotals> out;
  auto size_of = [&](const std::string& id) { return versions.count(id) ? versions.at(id)->size : 0; };
  for (const auto& [key, state] : latest) {
    NodeTotals& t = out[key.first];
    const bool publisher = versions.count(key.second) && versions.at(key.second)->publisher == key.first;
    const std::uint64_t size = size_of(key.second);
    if (state == ReplicaState::complete) {
      t.complete_versions += 1;
      t.complete_bytes += size;
    }
    if (state == ReplicaState::complete || (publisher && state != ReplicaState::dropped)) {
      t.held_versions += 1;
      t.held_bytes += size;
    }
  }
  for (const auto& v : s.versions) {
    if (latest.count({v.publisher, v.instance_id()})) continue;
    NodeTotals& t = out[v.publisher];
    t.held_versions += 1;
    t.held_bytes += v.size;
  }
  return out;
}

}  // namespace

TEST_CASE("Catalog: node totals, the node index, touched ids and version cases follow every record") {
  const std::uint64_t seed = test_seed();
  MESSAGE("seed " << seed);
  std::mt19937_64 rng(seed);
  CatalogWorld w;
  const std::vector<const SigningKey*> nodes = {&w.ipsl, &w.ncar, &w.dkrz};
  std::vector<Manifest> pool;  // manifests signed or still to sign, by dataset
  std::map<std::string, const SigningKey*> publisher_of;
  std::vector<std::string> published;
  for (int i = 0; i < 12; ++i) {
    DatasetSpec spec = i % 2 ? ipsl_tas() : ncar_pr();
    spec.variable = i % 2 ? "tas" : "pr";
    spec.variant = "r" + std::to_string(1 + i / 2) + "i1p1f1";
    for (int v = 0; v < 2; ++v) {
      pool.push_back(factory().make(spec, v == 0 ? "v20190101" : "v20200101", 2, w.rng, {}, v == 1 ? "v20190101" : ""));
    }
  }
  std::set<std::string> expect_touched;
  for (int step = 0; step < 300; ++step) {
    const int what = static_cast<int>(rng() % 10);
    expect_touched.clear();
    std::optional<Envelope> env;
    if (what < 3 && !pool.empty()) {
      std::size_t k = rng() % pool.size();
      const Manifest m = pool[k];
      pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(k));
      const bool ipsl = m.dataset_id.find(".IPSL.") != std::string::npos;
      const SigningKey* key = ipsl && rng() % 2 ? &w.ipsl : &w.ncar;
      env = w.manifest_record(*key, m);
      publisher_of[m.instance_id()] = key;
      published.push_back(m.instance_id());
    } else if (what < 7) {
      // A replica record for a version, known or not yet.
      std::string id = !published.empty() && rng() % 4 ? published[rng() % published.size()]
                                                       : (pool.empty() ? std::string() : pool[rng() % pool.size()].instance_id());
      if (id.empty()) continue;
      const auto dot = id.rfind('.');
      ReplicaRecord r{id.substr(0, dot), id.substr(dot + 1), rng() % 3 ? ReplicaState::complete : ReplicaState::dropped,
                      CatalogWorld::kNow + step};
      env = w.sign(*nodes[rng() % nodes.size()], RecordKind::replica, r.encode());
    } else if (what < 9 && !published.empty()) {
      const std::string id = published[rng() % published.size()];
      const auto dot = id.rfind('.');
      Claim c{id.substr(0, dot), id.substr(dot + 1), rng() % 2 ? ClaimAction::take : ClaimAction::release,
              CatalogWorld::kNow + 1000, CatalogWorld::kNow + step};
      env = w.sign(w.dkrz, RecordKind::claim, c.encode());
    } else if (!published.empty()) {
      const std::string id = published[rng() % published.size()];
      const auto dot = id.rfind('.');
      env = w.retraction_record(*publisher_of[id], id.substr(0, dot), id.substr(dot + 1));
    }
    if (!env) continue;
    IngestResult r = w.ingest(*env);
    INFO("step " << step << " kind " << to_string(env->kind));
    if (r.outcome != IngestOutcome::stored) continue;
    CHECK_FALSE(r.touched.empty());

    auto state = w.cat->replication_state();
    REQUIRE(state.ok());
    // Totals of every node equal the recount.
    auto brute = brute_totals(*state);
    for (const auto* n : nodes) {
      auto t = w.cat->node_totals(n->public_key());
      REQUIRE(t.ok());
      CHECK(*t == brute[n->public_key()]);
    }
    // The node index lists exactly the versions with a replica record or a claim.
    for (const auto* n : nodes) {
      std::set<std::string> expect;
      for (const auto& rep : state->replicas)
        if (rep.location.node == n->public_key()) expect.insert(rep.instance_id);
      for (const auto& c : state->claims)
        if (c.claim.node == n->public_key()) expect.insert(c.instance_id);
      auto got = w.cat->versions_of_node(n->public_key());
      REQUIRE(got.ok());
      CHECK(std::set<std::string>(got->begin(), got->end()) == expect);
    }
  }

  // Every version's case equals what the whole-catalog snapshot says, by id and by doc.
  auto state = w.cat->replication_state();
  REQUIRE(state.ok());
  auto count = w.cat->doc_count();
  REQUIRE(count.ok());
  CHECK(*count == state->versions.size());
  auto all = w.cat->version_cases(0, 1000);
  REQUIRE(all.ok());
  CHECK(all->size() == state->versions.size());
  for (const auto& v : state->versions) {
    auto c = w.cat->version_case(v.instance_id());
    REQUIRE(c.ok());
    REQUIRE(c->has_value());
    CHECK((*c)->version.status == v.status);
    CHECK((*c)->version.size == v.size);
    auto by_doc = w.cat->version_case((*c)->version.doc);
    REQUIRE(by_doc.ok());
    REQUIRE(by_doc->has_value());
    CHECK((*by_doc)->version.instance_id() == v.instance_id());
    std::size_t reps = 0, claims = 0;
    for (const auto& r : state->replicas) reps += r.instance_id == v.instance_id();
    for (const auto& c2 : state->claims) claims += c2.instance_id == v.instance_id();
    CHECK((*c)->replicas.size() == reps);
    CHECK((*c)->claims.size() == claims);
    std::set<PublicKey> prev;
    if (!v.supersedes.empty())
      for (const auto& r : state->replicas)
        if (r.instance_id == v.dataset_id + "." + v.supersedes && r.location.state == ReplicaState::complete)
          prev.insert(r.location.node);
    CHECK(std::set<PublicKey>((*c)->previous_holders.begin(), (*c)->previous_holders.end()) == prev);
  }
  auto none = w.cat->version_case(std::string("CMIP6.no.such.v20200101"));
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
}

TEST_CASE("Catalog: an ingest names what it touched - the superseded newest version too") {
  CatalogWorld w;
  Manifest v1 = w.manifest(ipsl_tas(), "v20190101", 2);
  Manifest v2 = factory().make(ipsl_tas(), "v20200101", 2, w.rng, {}, "v20190101");
  IngestResult r1 = w.publish(w.ipsl, v1);
  CHECK(r1.touched == std::vector<std::string>{v1.instance_id()});
  IngestResult r2 = w.publish(w.ipsl, v2);
  CHECK(r2.touched == std::vector<std::string>{v2.instance_id(), v1.instance_id()});
  // A roster that becomes current says so.
  IngestResult r3 = w.ingest(w.roster_record(w.roster(2)));
  CHECK(r3.roster_changed);
  CHECK(r3.touched.empty());
  // Released successors' ids come with the record that released them.
  Envelope a = w.retraction_record(w.ipsl, v1.dataset_id, v1.version);
  Envelope b = w.retraction_record(w.ipsl, v2.dataset_id, v2.version);
  CHECK(w.ingest(b).outcome == IngestOutcome::parked);
  IngestResult ra = w.ingest(a);
  CHECK(ra.released == 1);
  CHECK(ra.touched == std::vector<std::string>{v1.instance_id(), v2.instance_id()});
}

TEST_CASE("Catalog: a layout-1 catalog gets its node tables when first opened for writing") {
  CatalogWorld w;
  Manifest m = w.manifest(ipsl_tas(), "v20190101", 2);
  REQUIRE(w.publish(w.ipsl, m).outcome == IngestOutcome::stored);
  ReplicaRecord r{m.dataset_id, m.version, ReplicaState::complete, CatalogWorld::kNow};
  REQUIRE(w.ingest(w.sign(w.dkrz, RecordKind::replica, r.encode())).outcome == IngestOutcome::stored);
  auto before_ipsl = w.cat->node_totals(w.ipsl.public_key());
  auto before_dkrz = w.cat->node_totals(w.dkrz.public_key());
  REQUIRE(before_ipsl.ok());
  REQUIRE(before_dkrz.ok());
  CHECK(before_dkrz->complete_bytes == m.total_size());
  CHECK(before_ipsl->held_versions == 1);
  const auto dir = w.dir.path() / "catalog";
  w.cat.reset();

  // Turn it into what an older fedswarm left: layout 1, no node tables' rows.
  {
    MDB_env* env = nullptr;
    REQUIRE(mdb_env_create(&env) == 0);
    mdb_env_set_maxdbs(env, 64);
    mdb_env_set_mapsize(env, 64u << 20);
    REQUIRE(mdb_env_open(env, dir.c_str(), 0, 0640) == 0);
    MDB_txn* txn = nullptr;
    REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
    MDB_dbi meta, nodes, index;
    REQUIRE(mdb_dbi_open(txn, "meta", 0, &meta) == 0);
    REQUIRE(mdb_dbi_open(txn, "nodes", 0, &nodes) == 0);
    REQUIRE(mdb_dbi_open(txn, "node_versions", 0, &index) == 0);
    REQUIRE(mdb_drop(txn, nodes, 0) == 0);
    REQUIRE(mdb_drop(txn, index, 0) == 0);
    std::string key = "format";
    std::uint32_t one = 1;
    MDB_val k{key.size(), key.data()}, v{sizeof(one), &one};
    REQUIRE(mdb_put(txn, meta, &k, &v, 0) == 0);
    REQUIRE(mdb_txn_commit(txn) == 0);
    mdb_env_close(env);
  }
  CatalogOptions ro;
  ro.dir = dir;
  ro.read_only = true;
  auto refused = Catalog::open(ro, ProjectRegistry::builtin());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("start the node") != std::string::npos);

  CatalogOptions rw;
  rw.dir = dir;
  auto c = Catalog::open(rw, ProjectRegistry::builtin());
  REQUIRE_MESSAGE(c.ok(), c.error().message);
  auto ipsl = (*c)->node_totals(w.ipsl.public_key());
  auto dkrz = (*c)->node_totals(w.dkrz.public_key());
  REQUIRE(ipsl.ok());
  REQUIRE(dkrz.ok());
  CHECK(*ipsl == *before_ipsl);
  CHECK(*dkrz == *before_dkrz);
  auto idx = (*c)->versions_of_node(w.dkrz.public_key());
  REQUIRE(idx.ok());
  CHECK(*idx == std::vector<std::string>{m.instance_id()});
}
