#include <doctest/doctest.h>

#include <filesystem>

#include "swarm/MoveAside.hpp"
#include "ReplicaPair.hpp"
#include "replication/RetractionActions.hpp"

using namespace fedswarm;
using fedswarm::test::local_of;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kNow = test::kTestNow + 4000;

std::optional<ReplicaLocation> replica_by(Catalog& c, const std::string& id, const PublicKey& node) {
  auto reps = c.replicas(id);
  REQUIRE(reps.ok());
  for (const auto& r : *reps)
    if (r.node == node) return r;
  return std::nullopt;
}

std::uint64_t records(Catalog& c) {
  auto n = c.record_count();
  REQUIRE(n.ok());
  return *n;
}

RetractionOutcome apply_now(RetractionActions& a, const std::string& id) {
  auto o = a.apply(id, kNow);
  REQUIRE_MESSAGE(o.ok(), o.error().message);
  REQUIRE(o->has_value());
  return **o;
}

}  // namespace

TEST_CASE("RetractionActions: keep flags a replica and changes nothing") {
  test::ReplicaPair pair(RetractionAction::keep, RetractionAction::keep);
  const auto& v = pair.sample()[0];
  fs::path dir = pair.place_replica(v);
  RetractionActions actions(*pair.holder().home, pair.holder().cat());

  // Not retracted: nothing to do.
  auto before = apply_now(actions, v.instance_id());
  CHECK(before.step == RetractionStep::none);

  pair.retract(v);
  auto d = actions.decide(v.instance_id());
  REQUIRE(d.ok());
  REQUIRE(d->has_value());
  CHECK((*d)->stop_offering);
  std::uint64_t n = records(pair.holder().cat());
  auto o = apply_now(actions, v.instance_id());
  CHECK(o.step == RetractionStep::flag);
  CHECK(o.state == LocalState::complete);
  CHECK(fs::is_directory(dir));
  CHECK(local_of(pair.holder().cat(), v.instance_id()).state == LocalState::complete);
  CHECK(records(pair.holder().cat()) == n);
  // No local replica: nothing to apply.
  auto none = actions.apply(pair.sample()[1].instance_id(), kNow);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
}

TEST_CASE("RetractionActions: quarantine moves a replica out of the DRS tree, once") {
  test::ReplicaPair pair(RetractionAction::keep, RetractionAction::quarantine);
  const auto& v = pair.sample()[0];
  fs::path dir = pair.place_replica(v);
  pair.retract(v);
  RetractionActions actions(*pair.holder().home, pair.holder().cat());
  std::uint64_t n = records(pair.holder().cat());

  auto o = apply_now(actions, v.instance_id());
  CHECK(o.step == RetractionStep::quarantine);
  CHECK(o.state == LocalState::quarantined);
  fs::path q = pair.holder().home->quarantine_dir() / v.instance_id();
  CHECK(o.path == q.string());
  CHECK_FALSE(fs::exists(dir));
  for (const auto& f : v.files) CHECK(test::read_file(q / f) == test::read_file(v.directory / f));
  LocalReplica l = local_of(pair.holder().cat(), v.instance_id());
  CHECK(l.state == LocalState::quarantined);
  CHECK(l.path == q.string());
  CHECK(l.last_error.find("wrong calendar") != std::string::npos);
  CHECK(records(pair.holder().cat()) == n);  // no record: the copy still exists here

  // Idempotent.
  auto again = apply_now(actions, v.instance_id());
  CHECK(again.step == RetractionStep::none);
  CHECK(fs::is_directory(q));
}

TEST_CASE("RetractionActions: a quarantine interrupted after the rename is finished") {
  test::ReplicaPair pair(RetractionAction::keep, RetractionAction::quarantine);
  const auto& v = pair.sample()[0];
  fs::path dir = pair.place_replica(v);
  pair.retract(v);
  // The crash: the directory was renamed, the catalog still says complete at the old path.
  auto moved = move_aside(dir, pair.holder().home->quarantine_dir(), v.instance_id());
  REQUIRE(moved.ok());
  RetractionActions actions(*pair.holder().home, pair.holder().cat());
  auto o = apply_now(actions, v.instance_id());
  CHECK(o.step == RetractionStep::quarantine);
  CHECK(o.path == moved->string());
  CHECK(local_of(pair.holder().cat(), v.instance_id()).state == LocalState::quarantined);
}

TEST_CASE("RetractionActions: delete removes a replica and signs a dropped record, once") {
  test::ReplicaPair pair(RetractionAction::keep, RetractionAction::remove);
  const auto& v = pair.sample()[0];
  fs::path dir = pair.place_replica(v);
  pair.retract(v);
  RetractionActions actions(*pair.holder().home, pair.holder().cat());
  std::uint64_t n = records(pair.holder().cat());

  auto o = apply_now(actions, v.instance_id());
  CHECK(o.step == RetractionStep::remove);
  CHECK(o.state == LocalState::dropped);
  CHECK(o.dropped_record_seq > 0);
  CHECK_FALSE(fs::exists(dir));
  CHECK(fs::is_directory(dir.parent_path()));  // only the version directory goes
  LocalReplica l = local_of(pair.holder().cat(), v.instance_id());
  CHECK(l.state == LocalState::dropped);
  CHECK(l.path.empty());
  CHECK(records(pair.holder().cat()) == n + 1);
  auto rep = replica_by(pair.holder().cat(), v.instance_id(), pair.holder().home->key().public_key());
  REQUIRE(rep);
  CHECK(rep->state == ReplicaState::dropped);
  CHECK(rep->site == "DKRZ");

  auto again = apply_now(actions, v.instance_id());
  CHECK(again.step == RetractionStep::none);
  CHECK(records(pair.holder().cat()) == n + 1);
}

TEST_CASE("RetractionActions: a deletion interrupted after its record is finished without a second record") {
  test::ReplicaPair pair(RetractionAction::keep, RetractionAction::remove);
  const auto& v = pair.sample()[0];
  fs::path dir = pair.place_replica(v);
  pair.retract(v);
  // The crash: record and state written (path kept), directory not yet removed.
  LocalReplica l = local_of(pair.holder().cat(), v.instance_id());
  l.state = LocalState::dropped;
  ReplicaRecord r{v.dataset_id, v.version, ReplicaState::dropped, kNow};
  REQUIRE(pair.holder().cat().append_local(pair.holder().home->key(), RecordKind::replica, r.encode(), kNow, &l).ok());
  std::uint64_t n = records(pair.holder().cat());

  RetractionActions actions(*pair.holder().home, pair.holder().cat());
  auto o = apply_now(actions, v.instance_id());
  CHECK(o.step == RetractionStep::remove);
  CHECK(o.dropped_record_seq == 0);
  CHECK_FALSE(fs::exists(dir));
  CHECK(local_of(pair.holder().cat(), v.instance_id()).path.empty());
  CHECK(records(pair.holder().cat()) == n);
}

TEST_CASE("RetractionActions: a path that is not the version directory is never deleted") {
  test::ReplicaPair pair(RetractionAction::keep, RetractionAction::remove);
  const auto& v = pair.sample()[0];
  pair.place_replica(v);
  pair.retract(v);
  LocalReplica l = local_of(pair.holder().cat(), v.instance_id());
  const fs::path data_root = pair.holder().home->config().data_root;
  l.path = data_root.string();  // a corrupt row
  REQUIRE(pair.holder().cat().put_local(l).ok());
  RetractionActions actions(*pair.holder().home, pair.holder().cat());
  auto o = actions.apply(v.instance_id(), kNow);
  REQUIRE_FALSE(o.ok());
  CHECK(o.error().reason == "remove_refused");
  CHECK(fs::is_directory(pair.holder_dir(v)));
  CHECK(remove_version_directory("relative/v20190101", v.instance_id()).error().reason == "remove_refused");
}

TEST_CASE("RetractionActions: the publisher keeps its tree unless the action is delete") {
  SUBCASE("quarantine: kept in place") {
    test::ReplicaPair pair(RetractionAction::quarantine, RetractionAction::keep);
    const auto& v = pair.sample()[0];
    pair.retract(v);
    RetractionActions actions(*pair.publisher().home, pair.publisher().cat());
    auto o = apply_now(actions, v.instance_id());
    CHECK(o.step == RetractionStep::flag);
    CHECK(fs::is_directory(v.directory));
    CHECK(local_of(pair.publisher().cat(), v.instance_id()).state == LocalState::complete);
  }
  SUBCASE("delete: removed, with a dropped record") {
    test::ReplicaPair pair(RetractionAction::remove, RetractionAction::keep);
    const auto& v = pair.sample()[0];
    pair.retract(v);
    RetractionActions actions(*pair.publisher().home, pair.publisher().cat());
    auto o = apply_now(actions, v.instance_id());
    CHECK(o.step == RetractionStep::remove);
    CHECK_FALSE(fs::exists(v.directory));
    CHECK(fs::is_directory(pair.sample()[1].directory));  // the other version of the dataset stays
    auto rep = replica_by(pair.publisher().cat(), v.instance_id(), pair.publisher().home->key().public_key());
    REQUIRE(rep);
    CHECK(rep->state == ReplicaState::dropped);
  }
}

TEST_CASE("RetractionActions: unfinished transfers are cancelled and apply_all sweeps every retracted replica") {
  test::ReplicaPair pair(RetractionAction::keep, RetractionAction::quarantine);
  const auto& a = pair.sample()[0];
  const auto& b = pair.sample()[2];
  const auto& c = pair.sample()[3];
  fs::path dir_a = pair.place_replica(a);
  pair.place_replica(c);  // not retracted
  LocalReplica wanted;
  wanted.instance_id = b.instance_id();
  wanted.state = LocalState::transferring;
  wanted.path = (pair.holder().home->staging_dir() / b.instance_id()).string();
  wanted.resume_data = {1, 2, 3};
  REQUIRE(pair.holder().cat().put_local(wanted).ok());
  pair.retract(a);
  pair.retract(b);

  RetractionActions actions(*pair.holder().home, pair.holder().cat());
  auto all = actions.apply_all(kNow);
  REQUIRE_MESSAGE(all.ok(), all.error().message);
  REQUIRE(all->size() == 2);
  for (const auto& o : *all) {
    if (o.instance_id == a.instance_id()) CHECK(o.step == RetractionStep::quarantine);
    else CHECK(o.step == RetractionStep::cancel);
  }
  LocalReplica lb = local_of(pair.holder().cat(), b.instance_id());
  CHECK(lb.state == LocalState::dropped);
  CHECK(lb.path.empty());
  CHECK(lb.resume_data.empty());
  CHECK_FALSE(fs::exists(dir_a));
  CHECK(local_of(pair.holder().cat(), c.instance_id()).state == LocalState::complete);
  // Nothing left to do.
  auto again = actions.apply_all(kNow);
  REQUIRE(again.ok());
  CHECK(again->empty());
}
