// Catalog: receipt rules 3 and 5, roster handling, version status transitions, the
// read API, map growth and multi-process access.
#include <doctest/doctest.h>

#include "CatalogWorld.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

// Everything a refused record must leave untouched.
struct Snapshot {
  VersionVector vv;
  Catalog::Stats stats;
  std::uint64_t records = 0;
  std::size_t conflicts = 0;
  std::uint64_t found = 0;

  static Snapshot of(Catalog& cat) {
    Snapshot s;
    s.vv = *cat.version_vector();
    s.stats = *cat.stats();
    s.records = *cat.record_count();
    s.conflicts = cat.conflicts()->size();
    SearchQuery q;
    q.all_versions = q.include_retracted = true;
    s.found = cat.search(q)->num_found;
    return s;
  }
  void check_same(const Snapshot& o) const {
    CHECK(vv == o.vv);
    CHECK(stats.versions == o.stats.versions);
    CHECK(stats.records == o.stats.records);
    CHECK(records == o.records);
    CHECK(conflicts == o.conflicts);
    CHECK(found == o.found);
  }
};

void check_refused(const IngestResult& r, Errc code, const std::string& reason) {
  CHECK(r.outcome == IngestOutcome::refused);
  REQUIRE(r.error.has_value());
  CHECK(r.error->code == code);
  CHECK(r.error->reason == reason);
}

}  // namespace

TEST_CASE("a manifest is stored with its indexes and read back") {
  CatalogWorld w;
  Manifest m = w.manifest(ipsl_tas(), "v20180101");
  auto env = w.manifest_record(w.ipsl, m);
  auto r = w.ingest(env);
  REQUIRE(r.outcome == IngestOutcome::stored);
  CHECK(r.released == 0);

  VersionInfo v = w.version(m.instance_id());
  CHECK(v.dataset_id == m.dataset_id);
  CHECK(v.version == "v20180101");
  CHECK(v.publisher == w.ipsl.public_key());
  CHECK(v.seq == env.seq);
  CHECK(v.data_node == "ipsl");
  CHECK(v.status == VersionStatus::published);
  CHECK(v.latest);
  CHECK(v.size == m.total_size());
  CHECK(v.number_of_files == m.files.size());
  CHECK(v.published_at == m.published_at);

  auto back = w.cat->manifest(m.instance_id());
  REQUIRE(back.ok());
  CHECK(*back == m);
  CHECK(w.cat->manifest(m.dataset_id + ".v20990101").error().code == Errc::not_found);

  auto pid = w.cat->find_tracking_id(m.files[2].tracking_id);
  REQUIRE(pid.ok());
  REQUIRE(pid->size() == 1);
  CHECK((*pid)[0].instance_id == m.instance_id());
  CHECK((*pid)[0].path == m.files[2].path);
  CHECK(w.cat->find_tracking_id("hdl:21.14100/unknown")->empty());

  auto sha = w.cat->find_sha256(m.files[1].sha256);
  REQUIRE(sha.ok());
  REQUIRE(sha->size() == 1);
  CHECK((*sha)[0].path == m.files[1].path);

  CHECK(*w.cat->record_count() == 2);  // roster + manifest
  CHECK(seq_of(*w.cat, w.ipsl.public_key()) == 1);
  CHECK(seq_of(*w.cat, w.fed.authority.public_key()) == 1);

  auto names = *w.cat->facet_names();
  for (const char* f : {"project", "data_node", "version", "source_id", "variant_label", "member_id"})
    CHECK_MESSAGE(std::find(names.begin(), names.end(), f) != names.end(), f);

  auto log = w.cat->records_after(w.ipsl.public_key(), 0, 10, 1 << 20);
  REQUIRE(log.ok());
  REQUIRE(log->size() == 1);
  CHECK((*log)[0] == env);
}

TEST_CASE("a replayed record is a duplicate and changes nothing") {
  CatalogWorld w;
  auto env = w.manifest_record(w.ipsl, w.manifest(ipsl_tas(), "v20180101"));
  REQUIRE(w.ingest(env).outcome == IngestOutcome::stored);
  auto before = Snapshot::of(*w.cat);
  CHECK(w.ingest(env).outcome == IngestOutcome::duplicate);
  // An older seq with other content is a replay too: ignored, not checked.
  auto forged = env;
  forged.body[forged.body.size() / 2] ^= 1;
  CHECK(w.ingest(forged).outcome == IngestOutcome::duplicate);
  Snapshot::of(*w.cat).check_same(before);
}

TEST_CASE("records after a gap are parked and released in order when it fills") {
  CatalogWorld w;
  std::vector<Envelope> envs;
  for (int i = 0; i < 4; ++i)
    envs.push_back(w.manifest_record(w.ipsl, w.manifest(ipsl_tas(), version_string(100 * i))));
  CHECK(w.ingest(envs[3]).outcome == IngestOutcome::parked);
  CHECK(w.ingest(envs[1]).outcome == IngestOutcome::parked);
  CHECK(w.ingest(envs[1]).outcome == IngestOutcome::parked);  // parked twice: still one copy
  CHECK(seq_of(*w.cat, w.ipsl.public_key()) == 0);
  CHECK(w.cat->stats()->versions == 0);

  auto r = w.ingest(envs[0]);
  CHECK(r.outcome == IngestOutcome::stored);
  CHECK(r.released == 1);  // seq 2; seq 4 still waits for 3
  CHECK(seq_of(*w.cat, w.ipsl.public_key()) == 2);

  r = w.ingest(envs[2]);
  CHECK(r.outcome == IngestOutcome::stored);
  CHECK(r.released == 1);
  CHECK(seq_of(*w.cat, w.ipsl.public_key()) == 4);
  CHECK(w.cat->stats()->versions == 4);
  // Released in order: the newest version is latest.
  CHECK(w.version(ipsl_tas().dataset_id() + "." + version_string(300)).latest);
  CHECK(w.version(ipsl_tas().dataset_id() + "." + version_string(200)).status == VersionStatus::superseded);
}

TEST_CASE("parking is bounded per author and refused for strangers and bad signatures") {
  CatalogWorld w;
  ReplicaRecord rr;
  rr.dataset_id = ipsl_tas().dataset_id();
  rr.version = "v20180101";
  Bytes body = rr.encode();
  w.last_seq[w.dkrz.public_key()] = 1;  // leave seq 1 missing
  std::vector<Envelope> envs;
  for (int i = 0; i < 10'000; ++i) envs.push_back(w.sign(w.dkrz, RecordKind::replica, body));
  auto results = w.cat->ingest_batch(envs, CatalogWorld::kNow);
  REQUIRE(results.ok());
  for (const auto& r : *results) REQUIRE(r.outcome == IngestOutcome::parked);
  check_refused(w.ingest(w.sign(w.dkrz, RecordKind::replica, body)), Errc::conflict, "gap_too_large");

  w.last_seq[w.stranger.public_key()] = 5;
  check_refused(w.ingest(w.sign(w.stranger, RecordKind::replica, body)), Errc::unauthorized, "author_unknown");
  auto bad = w.sign(w.ncar, RecordKind::replica, body);
  bad.seq = 7;  // out of order and the signature no longer matches
  check_refused(w.ingest(bad), Errc::unauthorized, "bad_signature");

  // The gap fills: every parked record is released.
  w.last_seq[w.dkrz.public_key()] = 0;
  auto r = w.ingest(w.sign(w.dkrz, RecordKind::replica, body));
  CHECK(r.outcome == IngestOutcome::stored);
  CHECK(r.released == 10'000);
  CHECK(seq_of(*w.cat, w.dkrz.public_key()) == 10'001);
}

TEST_CASE("a refused record changes nothing") {
  CatalogWorld w;
  REQUIRE(w.publish(w.ipsl, w.manifest(ipsl_tas(), "v20180101")).outcome == IngestOutcome::stored);
  auto before = Snapshot::of(*w.cat);

  SUBCASE("bad signature") {
    auto env = w.manifest_record(w.ipsl, w.manifest(ipsl_tas(), "v20190101"));
    env.signature.bytes[5] ^= 0x20;
    check_refused(w.ingest(env), Errc::unauthorized, "bad_signature");
  }
  SUBCASE("author not in the roster") {
    check_refused(w.publish(w.stranger, w.manifest(ipsl_tas(), "v20190101")), Errc::unauthorized,
                  "publisher_not_granted");
  }
  SUBCASE("publisher not granted the institution") {
    check_refused(w.publish(w.ipsl, w.manifest(ncar_pr(), "v20190101")), Errc::unauthorized, "publisher_not_granted");
  }
  SUBCASE("claim by a Tier-2 node") {
    Claim c;
    c.dataset_id = ipsl_tas().dataset_id();
    c.version = "v20180101";
    c.deadline = CatalogWorld::kNow + 3600;
    check_refused(w.ingest(w.sign(w.ncar, RecordKind::claim, c.encode())), Errc::unauthorized, "not_tier1");
  }
  SUBCASE("retraction by another publisher") {
    check_refused(w.ingest(w.retraction_record(w.ncar, ipsl_tas().dataset_id(), "v20180101")), Errc::unauthorized,
                  "not_version_publisher");
  }
  SUBCASE("malformed manifest") {
    Manifest m = w.manifest(ipsl_tas(), "v20190101");
    m.files[0].path = "../escape.nc";
    auto r = w.publish(w.ipsl, m);
    CHECK(r.outcome == IngestOutcome::refused);
    CHECK(r.error->code == Errc::invalid);
  }
  Snapshot::of(*w.cat).check_same(before);
}

TEST_CASE("a second, different manifest for a version is refused and recorded as a conflict") {
  CatalogWorld w;
  Manifest first = w.manifest(ipsl_tas(), "v20180101");
  REQUIRE(w.publish(w.ipsl, first).outcome == IngestOutcome::stored);
  auto before = Snapshot::of(*w.cat);

  Manifest other = w.manifest(ipsl_tas(), "v20180101");  // same id and version, other files
  auto env = w.manifest_record(w.ncar, Manifest{other});
  auto r = w.ingest(env);
  check_refused(r, Errc::conflict, "manifest_conflict");
  CHECK(seq_of(*w.cat, w.ncar.public_key()) == 0);
  CHECK(w.cat->stats()->versions == before.stats.versions);
  auto conflicts = *w.cat->conflicts();
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0].instance_id == first.instance_id());
  CHECK(conflicts[0].author == w.ncar.public_key());
  CHECK(conflicts[0].seq == env.seq);
  CHECK(conflicts[0].refused_digest == env.digest());
  CHECK(conflicts[0].seen_at == CatalogWorld::kNow);
  // Offered again (gossip does): refused again, still one conflict.
  check_refused(w.ingest(env), Errc::conflict, "manifest_conflict");
  CHECK(w.cat->conflicts()->size() == 1);
  CHECK(*w.cat->manifest(first.instance_id()) == first);

  // The same manifest again under a new seq is not a conflict.
  w.last_seq[w.ncar.public_key()] = 0;
  auto same = w.publish(w.ncar, first);
  CHECK(same.outcome == IngestOutcome::stored);
  CHECK(w.cat->stats()->versions == before.stats.versions);
  CHECK(w.version(first.instance_id()).publisher == w.ipsl.public_key());
}

TEST_CASE("a retraction that arrives before its manifest retracts it at birth") {
  CatalogWorld w;
  Manifest m = w.manifest(ipsl_tas(), "v20180101");
  REQUIRE(w.ingest(w.retraction_record(w.fed.authority, m.dataset_id, m.version)).outcome == IngestOutcome::stored);
  REQUIRE(w.publish(w.ipsl, m).outcome == IngestOutcome::stored);
  VersionInfo v = w.version(m.instance_id());
  CHECK(v.status == VersionStatus::retracted);
  CHECK_FALSE(v.latest);
  REQUIRE(v.retraction.has_value());
  CHECK(v.retraction->author == w.fed.authority.public_key());
  CHECK(v.retraction->reason == "wrong units");
  SearchQuery q;
  CHECK(w.cat->search(q)->num_found == 0);
  q.all_versions = true;
  CHECK(w.cat->search(q)->num_found == 0);
  q.include_retracted = true;
  CHECK(w.cat->search(q)->num_found == 1);

  // A publisher may not retract what it has not published (it is unknown here).
  Manifest n = w.manifest(ncar_pr(), "v20180101");
  check_refused(w.ingest(w.retraction_record(w.ncar, n.dataset_id, n.version)), Errc::invalid,
                "retraction_unknown_version");
}

TEST_CASE("latest, superseded and retracted follow the versions of a dataset") {
  CatalogWorld w;
  const std::string ds = ipsl_tas().dataset_id();
  auto status = [&](const std::string& v) { return w.version(ds + "." + v); };
  REQUIRE(w.publish(w.ipsl, w.manifest(ipsl_tas(), "v20180101")).outcome == IngestOutcome::stored);
  CHECK(status("v20180101").latest);

  REQUIRE(w.publish(w.ipsl, w.manifest(ipsl_tas(), "v20190101")).outcome == IngestOutcome::stored);
  CHECK_FALSE(status("v20180101").latest);
  CHECK(status("v20180101").status == VersionStatus::superseded);
  CHECK(status("v20180101").superseded_by == "v20190101");
  CHECK(status("v20190101").latest);
  CHECK(status("v20190101").status == VersionStatus::published);

  // An older version arriving late is superseded at once.
  REQUIRE(w.publish(w.ipsl, w.manifest(ipsl_tas(), "v20170101")).outcome == IngestOutcome::stored);
  CHECK(status("v20170101").status == VersionStatus::superseded);
  CHECK(status("v20170101").superseded_by == "v20180101");
  CHECK(status("v20190101").latest);

  // Retracting the newest leaves no latest version (ESGF: retracted => latest=false).
  REQUIRE(w.ingest(w.retraction_record(w.ipsl, ds, "v20190101")).outcome == IngestOutcome::stored);
  CHECK(status("v20190101").status == VersionStatus::retracted);
  CHECK_FALSE(status("v20190101").latest);
  CHECK_FALSE(status("v20180101").latest);
  SearchQuery q;
  CHECK(w.cat->search(q)->num_found == 0);
  q.all_versions = true;
  CHECK(w.cat->search(q)->num_found == 2);

  // A retraction repeated by the authority changes nothing further.
  REQUIRE(w.ingest(w.retraction_record(w.fed.authority, ds, "v20190101")).outcome == IngestOutcome::stored);
  CHECK(status("v20190101").retraction->author == w.ipsl.public_key());

  // A newer version becomes latest again.
  REQUIRE(w.publish(w.ipsl, w.manifest(ipsl_tas(), "v20200101")).outcome == IngestOutcome::stored);
  CHECK(status("v20200101").latest);
  CHECK(status("v20190101").status == VersionStatus::retracted);
  CHECK(status("v20190101").superseded_by == "v20200101");

  // Retracting an older version does not touch the latest.
  REQUIRE(w.ingest(w.retraction_record(w.ipsl, ds, "v20170101")).outcome == IngestOutcome::stored);
  CHECK(status("v20200101").latest);

  auto all = *w.cat->versions_of(ds);
  REQUIRE(all.size() == 4);
  CHECK(all[0].version == "v20170101");
  CHECK(all[3].version == "v20200101");
  CHECK(w.cat->versions_of("CMIP6.no.such.dataset")->empty());
  q = SearchQuery{};
  auto res = *w.cat->search(q);
  REQUIRE(res.num_found == 1);
  CHECK(res.docs[0].version == "v20200101");
}

TEST_CASE("rosters: serials, expiry, out-of-band import and the authority") {
  CatalogWorld w(64u << 20, /*with_roster=*/false);
  const auto authority = w.fed.authority.public_key();

  // Before any roster only roster records are accepted.
  check_refused(w.publish(w.ipsl, w.manifest(ipsl_tas(), "v20180101")), Errc::unauthorized, "no_roster");
  w.last_seq.clear();
  // A roster not signed by the authority is refused.
  auto fake = Envelope::sign(w.ncar, 1, RecordKind::roster, w.roster(9).encode());
  check_refused(w.ingest(fake), Errc::unauthorized, "not_authority");

  REQUIRE(w.ingest(w.roster_record(w.roster(2))).outcome == IngestOutcome::stored);
  CHECK(w.cat->roster()->value().serial == 2);
  // Older and expired rosters are stored inert: the authority's log goes on.
  CHECK(w.ingest(w.roster_record(w.roster(1))).outcome == IngestOutcome::stored);
  CHECK(w.ingest(w.roster_record(w.roster(5, CatalogWorld::kNow - 1))).outcome == IngestOutcome::stored);
  CHECK(w.cat->roster()->value().serial == 2);
  CHECK(seq_of(*w.cat, authority) == 3);

  // Out-of-band import: becomes current without entering the log.
  auto imported = Envelope::sign(w.fed.authority, 4, RecordKind::roster, w.roster(3).encode());
  REQUIRE(w.cat->import_roster(imported, CatalogWorld::kNow).ok());
  CHECK(w.cat->roster()->value().serial == 3);
  CHECK(seq_of(*w.cat, authority) == 3);
  // ... and enters the log in sequence later, inert (same serial).
  CHECK(w.ingest(imported).outcome == IngestOutcome::stored);
  CHECK(seq_of(*w.cat, authority) == 4);
  CHECK(w.cat->roster()->value().serial == 3);

  auto stale = Envelope::sign(w.fed.authority, 9, RecordKind::roster, w.roster(3).encode());
  CHECK(w.cat->import_roster(stale, CatalogWorld::kNow).error().reason == "roster_stale");
  auto expired = Envelope::sign(w.fed.authority, 9, RecordKind::roster, w.roster(7, CatalogWorld::kNow).encode());
  CHECK(w.cat->import_roster(expired, CatalogWorld::kNow).error().reason == "roster_expired");
  auto foreign = Envelope::sign(w.ncar, 1, RecordKind::roster, w.roster(8).encode());
  CHECK(w.cat->import_roster(foreign, CatalogWorld::kNow).error().code == Errc::unauthorized);
  CHECK(w.cat->roster()->value().serial == 3);

  // A second authority cannot be pinned.
  CHECK(w.cat->pin_authority(w.ncar.public_key()).error().code == Errc::conflict);
  CHECK(w.cat->pin_authority(authority).ok());
  CHECK(*w.cat->authority() == authority);

  // With a roster, manifests flow.
  w.last_seq.erase(w.ipsl.public_key());
  CHECK(w.publish(w.ipsl, w.manifest(ipsl_tas(), "v20180101")).outcome == IngestOutcome::stored);
}

TEST_CASE("replica records and claims are kept per node with the site at receipt") {
  CatalogWorld w;
  Manifest m = w.manifest(ipsl_tas(), "v20180101");
  REQUIRE(w.publish(w.ipsl, m).outcome == IngestOutcome::stored);
  ReplicaRecord rr{m.dataset_id, m.version, ReplicaState::complete, CatalogWorld::kNow};
  REQUIRE(w.ingest(w.sign(w.dkrz, RecordKind::replica, rr.encode())).outcome == IngestOutcome::stored);
  REQUIRE(w.ingest(w.sign(w.ncar, RecordKind::replica, rr.encode())).outcome == IngestOutcome::stored);
  rr.state = ReplicaState::dropped;
  rr.at += 10;
  REQUIRE(w.ingest(w.sign(w.ncar, RecordKind::replica, rr.encode())).outcome == IngestOutcome::stored);
  auto reps = *w.cat->replicas(m.instance_id());
  REQUIRE(reps.size() == 2);
  for (const auto& r : reps) {
    if (r.node == w.dkrz.public_key()) {
      CHECK(r.site == "dkrz");
      CHECK(r.state == ReplicaState::complete);
    } else {
      CHECK(r.site == "ncar");
      CHECK(r.state == ReplicaState::dropped);
      CHECK(r.at == CatalogWorld::kNow + 10);
    }
  }
  CHECK(w.cat->replicas(m.dataset_id + ".v20990101")->empty());
  check_refused(w.ingest(w.sign(w.stranger, RecordKind::replica, rr.encode())), Errc::unauthorized, "author_not_member");

  Claim c{m.dataset_id, m.version, ClaimAction::take, CatalogWorld::kNow + 3600, CatalogWorld::kNow};
  REQUIRE(w.ingest(w.sign(w.dkrz, RecordKind::claim, c.encode())).outcome == IngestOutcome::stored);
  auto claims = *w.cat->claims(m.instance_id());
  REQUIRE(claims.size() == 1);
  CHECK(claims[0].node == w.dkrz.public_key());
  CHECK(claims[0].deadline == CatalogWorld::kNow + 3600);

  // The whole replication state at once: every version, the latest record per node.
  Manifest other = w.manifest(ipsl_tas(), "v20190101");
  REQUIRE(w.publish(w.ipsl, other).outcome == IngestOutcome::stored);
  auto state = w.cat->replication_state();
  REQUIRE(state.ok());
  REQUIRE(state->versions.size() == 2);
  CHECK(state->versions[0].instance_id() == m.instance_id());
  CHECK(state->versions[1].instance_id() == other.instance_id());
  CHECK(state->versions[0].status == VersionStatus::superseded);
  REQUIRE(state->replicas.size() == 2);
  for (const auto& r : state->replicas) {
    CHECK(r.instance_id == m.instance_id());
    CHECK((r.location.node == w.ncar.public_key()) == (r.location.state == ReplicaState::dropped));
  }
  REQUIRE(state->claims.size() == 1);
  CHECK(state->claims[0].instance_id == m.instance_id());
  CHECK(state->claims[0].claim.node == w.dkrz.public_key());
}

TEST_CASE("append_local signs the next record and stores it only if every rule holds") {
  CatalogWorld w;
  Manifest m = w.manifest(ipsl_tas(), "v20180101");
  auto env = w.cat->append_local(w.ipsl, RecordKind::manifest, m.encode(), CatalogWorld::kNow);
  REQUIRE(env.ok());
  CHECK(env->seq == 1);
  CHECK(env->verify());
  CHECK(w.version(m.instance_id()).latest);
  auto before = Snapshot::of(*w.cat);
  auto refused = w.cat->append_local(w.ipsl, RecordKind::manifest, w.manifest(ncar_pr(), "v20180101").encode(),
                                     CatalogWorld::kNow);
  CHECK(refused.error().reason == "publisher_not_granted");
  // A conflicting local manifest is refused without a conflict entry.
  auto conflict = w.cat->append_local(w.ipsl, RecordKind::manifest, w.manifest(ipsl_tas(), "v20180101").encode(),
                                      CatalogWorld::kNow);
  CHECK(conflict.error().reason == "manifest_conflict");
  Snapshot::of(*w.cat).check_same(before);
  auto next = w.cat->append_local(w.ipsl, RecordKind::manifest, w.manifest(ipsl_tas(), "v20190101").encode(),
                                  CatalogWorld::kNow);
  REQUIRE(next.ok());
  CHECK(next->seq == 2);
}

TEST_CASE("append_local writes the local replica row in the same transaction as the record") {
  CatalogWorld w;
  auto local_for = [](const Manifest& m) {
    LocalReplica l;
    l.instance_id = m.instance_id();
    l.state = LocalState::complete;
    l.path = "/data/" + m.instance_id();
    l.bytes_done = m.total_size();
    l.updated_at = CatalogWorld::kNow;
    return l;
  };
  Manifest ok = w.manifest(ipsl_tas(), "v20180101");
  LocalReplica l = local_for(ok);
  REQUIRE(w.cat->append_local(w.ipsl, RecordKind::manifest, ok.encode(), CatalogWorld::kNow, &l).ok());
  auto back = w.cat->local(ok.instance_id());
  REQUIRE(back->has_value());
  CHECK((*back)->path == l.path);
  // A refused record leaves no local row behind.
  Manifest refused = w.manifest(ncar_pr(), "v20180101");
  LocalReplica r = local_for(refused);
  CHECK(w.cat->append_local(w.ipsl, RecordKind::manifest, refused.encode(), CatalogWorld::kNow, &r).error().reason ==
        "publisher_not_granted");
  CHECK_FALSE(w.cat->local(refused.instance_id())->has_value());
  // A bad local row refuses the record too.
  LocalReplica bad;
  CHECK(w.cat->append_local(w.ipsl, RecordKind::manifest, w.manifest(ipsl_tas(), "v20190101").encode(),
                            CatalogWorld::kNow, &bad).error().code == Errc::invalid);
  CHECK_FALSE(w.cat->version(ipsl_tas().dataset_id() + ".v20190101")->has_value());
}

TEST_CASE("append_local_batch stores every record in one transaction, or none") {
  CatalogWorld w;
  Manifest a = w.manifest(ipsl_tas(), "v20180101");
  Manifest b = w.manifest(ipsl_tas(), "v20190101");
  Manifest theirs = w.manifest(ncar_pr(), "v20180101");
  REQUIRE(w.cat->append_local(w.ipsl, RecordKind::manifest, a.encode(), CatalogWorld::kNow).ok());
  REQUIRE(w.cat->append_local(w.ipsl, RecordKind::manifest, b.encode(), CatalogWorld::kNow).ok());
  REQUIRE(w.publish(w.ncar, theirs).outcome == IngestOutcome::stored);
  auto retraction = [](const Manifest& m) {
    Retraction r;
    r.dataset_id = m.dataset_id;
    r.version = m.version;
    r.reason = "Versioning errors for 1pctCO2 and abrupt-4xCO2";
    r.errata_id = "6838a44b-48eb-89a3-8090-c9315a79f3de";
    r.retracted_at = CatalogWorld::kNow;
    return r.encode();
  };

  // The last record is not the key's to sign (another publisher's version): the two
  // valid ones before it are not stored either.
  auto before = Snapshot::of(*w.cat);
  std::vector<Bytes> bad{retraction(a), retraction(b), retraction(theirs)};
  auto refused = w.cat->append_local_batch(w.ipsl, RecordKind::retraction, bad, CatalogWorld::kNow);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("record 3 of 3") != std::string::npos);
  Snapshot::of(*w.cat).check_same(before);
  CHECK(w.version(a.instance_id()).status == VersionStatus::superseded);
  CHECK(w.version(b.instance_id()).status == VersionStatus::published);

  std::vector<Bytes> good{retraction(a), retraction(b)};
  auto stored = w.cat->append_local_batch(w.ipsl, RecordKind::retraction, good, CatalogWorld::kNow);
  REQUIRE(stored.ok());
  REQUIRE(stored->size() == 2);
  CHECK((*stored)[0].seq == 3);
  CHECK((*stored)[1].seq == 4);
  CHECK((*stored)[1].verify());
  CHECK(seq_of(*w.cat, w.ipsl.public_key()) == 4);
  for (const auto& m : {a, b}) {
    auto v = w.version(m.instance_id());
    CHECK(v.status == VersionStatus::retracted);
    REQUIRE(v.retraction.has_value());
    CHECK(v.retraction->errata_id == "6838a44b-48eb-89a3-8090-c9315a79f3de");
  }
  CHECK(w.cat->append_local_batch(w.ipsl, RecordKind::retraction, {}, CatalogWorld::kNow)->empty());
  CHECK(seq_of(*w.cat, w.ipsl.public_key()) == 4);
}

TEST_CASE("a replay changes nothing, a different record under a taken seq is refused") {
  CatalogWorld w;
  Envelope first = w.manifest_record(w.ipsl, w.manifest(ipsl_tas(), "v20180101"));
  REQUIRE(w.ingest(first).outcome == IngestOutcome::stored);
  auto before = Snapshot::of(*w.cat);
  CHECK(w.ingest(first).outcome == IngestOutcome::duplicate);
  Envelope other = Envelope::sign(w.ipsl, first.seq, RecordKind::manifest, w.manifest(ipsl_tas(), "v20190101").encode());
  auto r = w.ingest(other);
  CHECK(r.outcome == IngestOutcome::refused);
  CHECK(r.error->reason == "seq_conflict");
  Snapshot::of(*w.cat).check_same(before);
}

TEST_CASE("records_after pages through an author's log") {
  CatalogWorld w;
  std::vector<Envelope> sent;
  for (int i = 0; i < 25; ++i) {
    sent.push_back(w.manifest_record(w.ncar, w.manifest(ncar_pr(), version_string(i))));
    REQUIRE(w.ingest(sent.back()).outcome == IngestOutcome::stored);
  }
  std::vector<Envelope> got;
  std::uint64_t after = 0;
  for (;;) {
    auto page = w.cat->records_after(w.ncar.public_key(), after, 10, 1 << 20);
    REQUIRE(page.ok());
    if (page->empty()) break;
    CHECK(page->size() <= 10);
    after = page->back().seq;
    got.insert(got.end(), page->begin(), page->end());
  }
  CHECK(got == sent);
  // A byte budget smaller than one record still yields one.
  CHECK(w.cat->records_after(w.ncar.public_key(), 3, 10, 1)->size() == 1);
  CHECK(w.cat->records_after(w.stranger.public_key(), 0, 10, 1 << 20)->empty());
}

TEST_CASE("local replica state round-trips") {
  CatalogWorld w;
  LocalReplica l;
  l.instance_id = ipsl_tas().dataset_id() + ".v20180101";
  l.state = LocalState::transferring;
  l.path = "/data/staging/x";
  l.resume_data = {1, 2, 3, 0, 255};
  l.bytes_done = 12345;
  l.updated_at = CatalogWorld::kNow;
  REQUIRE(w.cat->put_local(l).ok());
  auto back = w.cat->local(l.instance_id);
  REQUIRE(back.ok());
  REQUIRE(back->has_value());
  CHECK((*back)->state == LocalState::transferring);
  CHECK((*back)->resume_data == l.resume_data);
  CHECK((*back)->bytes_done == 12345);
  l.state = LocalState::complete;
  l.resume_data.clear();
  REQUIRE(w.cat->put_local(l).ok());
  auto all = *w.cat->locals();
  REQUIRE(all.size() == 1);
  CHECK(all[0].state == LocalState::complete);
  CHECK_FALSE(w.cat->local("nothing.v20180101")->has_value());
  CHECK(w.cat->put_local(LocalReplica{}).error().code == Errc::invalid);
}

TEST_CASE("local rows are read in pages without resume data, and by what changed since a point") {
  CatalogWorld w;
  auto id = [](int i) { return "x.y.z.ds" + std::to_string(100 + i) + ".v20180101"; };  // id order = index order
  CHECK(*w.cat->local_change_seq() == 0);
  for (int i = 0; i < 10; ++i) {
    LocalReplica l;
    l.instance_id = id(i);
    l.state = LocalState::complete;
    l.path = "/data/" + std::to_string(i);
    l.resume_data = Bytes(static_cast<std::size_t>(i) * 100, 7);
    REQUIRE(w.cat->put_local(l).ok());
  }
  CHECK(*w.cat->local_change_seq() == 10);
  // Pages of 4, in id order, resume data left out but its size reported.
  std::vector<LocalReplica> seen;
  std::string after;
  for (;;) {
    auto page = w.cat->locals_after(after, 4, false);
    REQUIRE(page.ok());
    if (page->empty()) break;
    CHECK(page->size() <= 4);
    after = page->back().instance_id;
    seen.insert(seen.end(), page->begin(), page->end());
  }
  REQUIRE(seen.size() == 10);
  for (int i = 0; i < 10; ++i) {
    CHECK(seen[static_cast<std::size_t>(i)].instance_id == id(i));
    CHECK(seen[static_cast<std::size_t>(i)].resume_data.empty());
    CHECK(seen[static_cast<std::size_t>(i)].resume_size == static_cast<std::uint64_t>(i) * 100);
    CHECK(seen[static_cast<std::size_t>(i)].path == "/data/" + std::to_string(i));
  }
  auto with = w.cat->locals_after(id(2), 1, true);
  REQUIRE(with->size() == 1);
  CHECK((*with)[0].instance_id == id(3));
  CHECK((*with)[0].resume_data.size() == 300);
  CHECK((*with)[0].resume_size == 300);
  CHECK(w.cat->locals_after(id(9), 4, false)->empty());
  // What changed since change 10: a rewritten row (listed once, at its newest change) and a new one.
  const std::uint64_t mark = *w.cat->local_change_seq();
  CHECK(w.cat->local_changes_after(mark, 100)->instance_ids.empty());
  CHECK(w.cat->local_changes_after(mark, 100)->last == mark);
  LocalReplica l = **w.cat->local(id(3));
  l.state = LocalState::quarantined;
  REQUIRE(w.cat->put_local(l).ok());
  REQUIRE(w.cat->put_local(l).ok());
  LocalReplica n;
  n.instance_id = id(20);
  n.state = LocalState::wanted;
  REQUIRE(w.cat->put_local(n).ok());
  auto changes = w.cat->local_changes_after(mark, 100);
  REQUIRE(changes.ok());
  CHECK(changes->instance_ids == std::vector<std::string>{id(3), id(20)});
  CHECK(changes->last == mark + 3);
  auto first = w.cat->local_changes_after(mark, 1);
  CHECK(first->instance_ids == std::vector<std::string>{id(3)});
  CHECK(w.cat->local_changes_after(first->last, 1)->instance_ids == std::vector<std::string>{id(20)});
  // The whole sequence holds one entry per row however often rows are rewritten.
  CHECK(w.cat->local_changes_after(0, 1000)->instance_ids.size() == 11);
  // A row written with a record (append_local) is a change too.
  LocalReplica p;
  p.instance_id = ipsl_tas().dataset_id() + ".v20180101";
  p.state = LocalState::complete;
  REQUIRE(w.cat->append_local(w.ipsl, RecordKind::manifest, w.manifest(ipsl_tas(), "v20180101").encode(),
                              CatalogWorld::kNow, &p).ok());
  CHECK(w.cat->local_changes_after(mark + 3, 10)->instance_ids == std::vector<std::string>{p.instance_id});
}

TEST_CASE("the map grows from 256 KiB without losing a record") {
  CatalogWorld w(256u << 10);
  auto start = w.cat->stats()->map_bytes;
  std::mt19937_64 rng(7);
  std::size_t expected = 0;
  std::vector<Envelope> batch;
  for (int round = 0; round < 30; ++round) {
    batch.clear();
    std::size_t n = round % 3 == 0 ? 1 : 50 + round * 7;
    for (std::size_t i = 0; i < n; ++i, ++expected) {
      // A fresh version per record, so random ids never collide into a conflict.
      DatasetSpec spec = factory().random_dataset(rng);
      batch.push_back(w.manifest_record(w.ncar, factory().make(spec, version_string(static_cast<int>(expected)), 4, rng)));
    }
    auto results = w.cat->ingest_batch(batch, CatalogWorld::kNow);
    REQUIRE_MESSAGE(results.ok(), results.error().message);
    for (const auto& r : *results) REQUIRE(r.outcome == IngestOutcome::stored);
  }
  auto stats = *w.cat->stats();
  CHECK(stats.map_bytes > start);
  CHECK(stats.versions == expected);
  CHECK(expected > 2000);
  SearchQuery q;
  q.all_versions = q.include_retracted = true;
  CHECK(w.cat->search(q)->num_found == expected);
  q.constraints = {{"data_node", "ncar"}};
  CHECK(w.cat->search(q)->num_found == expected);
}

TEST_CASE("a catalog reopens with everything it committed") {
  TempDir dir;
  Manifest m;
  {
    CatalogWorld w;
    m = w.manifest(ipsl_tas(), "v20180101");
    REQUIRE(w.publish(w.ipsl, m).outcome == IngestOutcome::stored);
    w.cat.reset();
    std::filesystem::copy(w.dir.path() / "catalog", dir.path() / "copy");
  }
  CatalogOptions o;
  o.dir = dir.path() / "copy";
  auto cat = Catalog::open(o, ProjectRegistry::builtin());
  REQUIRE(cat.ok());
  CHECK(*(*cat)->manifest(m.instance_id()) == m);
  CHECK((*cat)->roster()->has_value());
  CHECK((*cat)->search(SearchQuery{})->num_found == 1);
}
