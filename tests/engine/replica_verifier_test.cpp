#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "ReplicaPair.hpp"
#include "fedswarm/engine/ReplicaVerifier.hpp"

using namespace fedswarm;
using fedswarm::test::local_of;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kNow = test::kTestNow + 5000;

// Flips one byte in the middle of the file (the size stays the same).
void flip_byte(const fs::path& file) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f);
  f.seekg(0, std::ios::end);
  auto size = static_cast<std::streamoff>(f.tellg());
  REQUIRE(size > 2);
  f.seekg(size / 2);
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x01);
  f.seekp(size / 2);
  f.write(&c, 1);
}

std::optional<ReplicaLocation> replica_by(Catalog& c, const std::string& id, const PublicKey& node) {
  auto reps = c.replicas(id);
  REQUIRE(reps.ok());
  for (const auto& r : *reps)
    if (r.node == node) return r;
  return std::nullopt;
}

}  // namespace

TEST_CASE("ReplicaVerifier: intact replicas pass in both modes, with progress, and nothing changes") {
  test::ReplicaPair pair;
  const auto& v = pair.sample()[0];
  pair.place_replica(v);
  // A file the manifest does not list is not the verifier's business.
  test::write_file(pair.holder_dir(v) / "README", "notes");
  ReplicaVerifier verifier(*pair.holder().home, pair.holder().cat());
  LocalReplica l = local_of(pair.holder().cat(), v.instance_id());
  for (VerifyMode mode : {VerifyMode::fast, VerifyMode::full}) {
    std::uint64_t last = 0, total = 0;
    auto r = verifier.verify(l, mode, kNow, [&](const VerifyProgress& p) {
      CHECK(p.bytes_done >= last);
      last = p.bytes_done;
      total = p.bytes_total;
    });
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    CHECK(r->ok);
    CHECK(r->problems.empty());
    CHECK(r->files_checked == v.files.size());
    CHECK(r->bytes_checked > 0);
    CHECK(last == total);
    CHECK_FALSE(r->withdrawn);
  }
  CHECK(local_of(pair.holder().cat(), v.instance_id()).state == LocalState::complete);
  // The publisher's own tree verifies too.
  ReplicaVerifier at_publisher(*pair.publisher().home, pair.publisher().cat());
  auto r = at_publisher.check(local_of(pair.publisher().cat(), v.instance_id()), VerifyMode::full);
  REQUIRE(r.ok());
  CHECK(r->ok);
}

TEST_CASE("ReplicaVerifier: a flipped byte fails, the replica is moved aside, dropped and wanted again") {
  for (VerifyMode mode : {VerifyMode::fast, VerifyMode::full}) {
    CAPTURE(static_cast<int>(mode));
    test::ReplicaPair pair;
    const auto& v = pair.sample()[0];
    fs::path dir = pair.place_replica(v);
    flip_byte(dir / v.files[1]);
    ReplicaVerifier verifier(*pair.holder().home, pair.holder().cat());
    LocalReplica l = local_of(pair.holder().cat(), v.instance_id());

    // check alone changes nothing.
    auto checked = verifier.check(l, mode);
    REQUIRE(checked.ok());
    CHECK_FALSE(checked->ok);
    CHECK(fs::is_directory(dir));

    auto r = verifier.verify(l, mode, kNow);
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    CHECK_FALSE(r->ok);
    REQUIRE(r->problems.size() == 1);
    CHECK(r->problems[0].file == v.files[1]);
    CHECK(r->problems[0].reason == (mode == VerifyMode::fast ? "xxh3_mismatch" : "sha256_mismatch"));
    CHECK(r->withdrawn);
    CHECK(r->dropped_record_seq > 0);
    CHECK(r->record_error.empty());
    CHECK(r->new_state == LocalState::wanted);
    fs::path q = pair.holder().home->quarantine_dir() / v.instance_id();
    CHECK(r->moved_to == q.string());
    CHECK_FALSE(fs::exists(dir));
    CHECK(fs::exists(q / v.files[1]));
    LocalReplica after = local_of(pair.holder().cat(), v.instance_id());
    CHECK(after.state == LocalState::wanted);
    CHECK(after.path.empty());
    CHECK(after.last_error.find(v.files[1]) != std::string::npos);
    auto rep = replica_by(pair.holder().cat(), v.instance_id(), pair.holder().home->key().public_key());
    REQUIRE(rep);
    CHECK(rep->state == ReplicaState::dropped);
  }
}

TEST_CASE("ReplicaVerifier: missing, truncated and replaced files and a missing directory are reported") {
  test::ReplicaPair pair;
  const auto& v = pair.sample()[0];
  fs::path dir = pair.place_replica(v);
  ReplicaVerifier verifier(*pair.holder().home, pair.holder().cat());
  LocalReplica l = local_of(pair.holder().cat(), v.instance_id());

  fs::resize_file(dir / v.files[0], 100);
  fs::remove(dir / v.files[1]);
  fs::create_directory(dir / v.files[1]);
  auto r = verifier.check(l, VerifyMode::fast);
  REQUIRE(r.ok());
  REQUIRE(r->problems.size() == 2);
  CHECK(r->problems[0].reason == "size_mismatch");
  CHECK(r->problems[1].reason == "not_regular_file");
  fs::remove(dir / v.files[1]);
  r = verifier.check(l, VerifyMode::fast);
  REQUIRE(r.ok());
  CHECK(r->problems[1].reason == "missing_file");

  fs::remove_all(dir);
  r = verifier.verify(l, VerifyMode::fast, kNow);
  REQUIRE(r.ok());
  REQUIRE(r->problems.size() == 1);
  CHECK(r->problems[0].reason == "missing_directory");
  CHECK(r->withdrawn);
  CHECK(r->moved_to.empty());
  CHECK(local_of(pair.holder().cat(), v.instance_id()).state == LocalState::wanted);
}

TEST_CASE("ReplicaVerifier: a failed replica of a retracted version is dropped, not wanted") {
  test::ReplicaPair pair;
  const auto& v = pair.sample()[0];
  fs::path dir = pair.place_replica(v);
  pair.retract(v);
  flip_byte(dir / v.files[0]);
  ReplicaVerifier verifier(*pair.holder().home, pair.holder().cat());
  auto r = verifier.verify(local_of(pair.holder().cat(), v.instance_id()), VerifyMode::fast, kNow);
  REQUIRE(r.ok());
  CHECK(r->withdrawn);
  CHECK(r->new_state == LocalState::dropped);
  LocalReplica after = local_of(pair.holder().cat(), v.instance_id());
  CHECK(after.state == LocalState::dropped);
  CHECK(after.path.empty());  // not "deletion unfinished" for RetractionActions
}

TEST_CASE("ReplicaVerifier: a corrupt file in the publisher's own tree is withdrawn too") {
  test::ReplicaPair pair;
  const auto& v = pair.sample()[0];
  flip_byte(v.directory / v.files[0]);
  ReplicaVerifier verifier(*pair.publisher().home, pair.publisher().cat());
  auto r = verifier.verify(local_of(pair.publisher().cat(), v.instance_id()), VerifyMode::fast, kNow);
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK_FALSE(r->ok);
  CHECK(r->withdrawn);
  CHECK(r->dropped_record_seq > 0);
  CHECK_FALSE(fs::exists(v.directory));
  CHECK(fs::exists(fs::path(r->moved_to) / v.files[0]));
  CHECK(fs::is_directory(pair.sample()[1].directory));
}
