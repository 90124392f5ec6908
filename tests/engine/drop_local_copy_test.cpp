// DropLocalCopy: a placed copy deleted with its signed "dropped" record (one
// transaction with the row), and a deletion a crash interrupted finished at start.
#include <doctest/doctest.h>

#include <filesystem>

#include "ReplicaPair.hpp"
#include "replication/DropLocalCopy.hpp"

using namespace fedswarm;
using fedswarm::test::local_of;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kNow = test::kTestNow + 4000;

std::optional<ReplicaLocation> own_replica(test::ReplicaPair& pair, const std::string& id) {
  auto reps = pair.holder().cat().replicas(id);
  REQUIRE(reps.ok());
  for (const auto& r : *reps)
    if (r.node == pair.holder().home->key().public_key()) return r;
  return std::nullopt;
}

VersionInfo version_of(test::ReplicaPair& pair, const std::string& id) {
  auto v = pair.holder().cat().version(id);
  REQUIRE(v.ok());
  REQUIRE(v->has_value());
  return **v;
}

}  // namespace

TEST_CASE("drop_local_copy: the record and the dropped row together, then the directory, then the path") {
  test::ReplicaPair pair;
  const auto& v = pair.sample()[0];
  const fs::path dir = pair.place_replica(v);
  const LocalReplica before = local_of(pair.holder().cat(), v.instance_id());
  auto seq = drop_local_copy(pair.holder().cat(), pair.holder().home->key(), before, version_of(pair, v.instance_id()),
                             true, "surplus Tier-1 copy released: test", kNow);
  REQUIRE_MESSAGE(seq.ok(), seq.error().message);
  CHECK(*seq > 0);
  CHECK_FALSE(fs::exists(dir));
  CHECK(fs::is_directory(dir.parent_path()));  // only the version directory goes
  const LocalReplica after = local_of(pair.holder().cat(), v.instance_id());
  CHECK(after.state == LocalState::dropped);
  CHECK(after.path.empty());
  CHECK(after.last_error == "surplus Tier-1 copy released: test");
  auto rep = own_replica(pair, v.instance_id());
  REQUIRE(rep);
  CHECK(rep->state == ReplicaState::dropped);
  CHECK(rep->at == kNow);
  // Again with the dropped row: nothing more is signed.
  auto again = drop_local_copy(pair.holder().cat(), pair.holder().home->key(), after, version_of(pair, v.instance_id()),
                               true, "again", kNow + 1);
  REQUIRE(again.ok());
  CHECK(*again == 0);
}

TEST_CASE("finish_local_drops: a dropped row that still names its directory is finished, nothing else is touched") {
  test::ReplicaPair pair;
  const auto& dropped = pair.sample()[0];
  const auto& kept = pair.sample()[1];
  const fs::path dir = pair.place_replica(dropped);
  const fs::path kept_dir = pair.place_replica(kept);
  // The crash: record and "dropped, path kept" written, the directory still there.
  LocalReplica l = local_of(pair.holder().cat(), dropped.instance_id());
  l.state = LocalState::dropped;
  ReplicaRecord r{dropped.dataset_id, dropped.version, ReplicaState::dropped, kNow};
  REQUIRE(pair.holder().cat().append_local(pair.holder().home->key(), RecordKind::replica, r.encode(), kNow, &l).ok());
  auto count = pair.holder().cat().record_count();
  REQUIRE(count.ok());

  auto done = finish_local_drops(pair.holder().cat(), kNow + 10);
  REQUIRE_MESSAGE(done.ok(), done.error().message);
  CHECK(*done == std::vector<std::string>{dropped.instance_id()});
  CHECK_FALSE(fs::exists(dir));
  CHECK(local_of(pair.holder().cat(), dropped.instance_id()).path.empty());
  CHECK(fs::is_directory(kept_dir));
  CHECK(local_of(pair.holder().cat(), kept.instance_id()).state == LocalState::complete);
  auto after = pair.holder().cat().record_count();
  REQUIRE(after.ok());
  CHECK(*after == *count);  // no second record
  // Nothing left to finish.
  auto twice = finish_local_drops(pair.holder().cat(), kNow + 20);
  REQUIRE(twice.ok());
  CHECK(twice->empty());
}
