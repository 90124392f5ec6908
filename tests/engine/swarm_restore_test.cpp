// SwarmEngine::restore (start-up, paged) and restore_changed (a CLI notify): the second
// reads only the local rows written since, counted in RestoreReport::rows_read.
// Loopback nets 127.0.73.x and 127.0.75.x.
#include "SwarmFixture.hpp"

using namespace fedswarm;
using namespace fedswarm::swarm_test;
namespace fs = std::filesystem;

TEST_CASE("swarm restore: a notify's restore_changed reads only the local rows that changed") {
  Swarm swarm(73);
  Node& pub = swarm.add("IPSL");
  swarm.add("DKRZ");
  swarm.admit();
  constexpr std::size_t kHeld = 5;
  SampleSpec spec;
  spec.datasets = kHeld + 2;
  spec.files_per_version = 1;
  spec.file_size = 4096;
  auto tree = write_sample_tree(swarm.dir() / "archive", 1, spec);
  REQUIRE(tree.ok());
  REQUIRE(tree->size() == kHeld + 2);
  std::vector<fs::path> dirs;
  for (std::size_t i = 0; i < kHeld; ++i) dirs.push_back((*tree)[i].directory);
  const std::vector<Manifest> first = swarm.publish(dirs);
  REQUIRE(first.size() == kHeld);

  pub.start();
  auto restored = pub.engine().restore();
  REQUIRE(restored.ok());
  CHECK(restored->seeding == kHeld);
  CHECK(restored->rows_read == kHeld);
  CHECK(restored->errors.empty());
  CHECK(pub.engine().counters().held == kHeld);

  // Nothing changed: nothing read.
  auto none = pub.engine().restore_changed();
  REQUIRE(none.ok());
  CHECK(none->rows_read == 0);
  CHECK(none->seeding == 0);

  // A new version published (its local row written with its record): one row read.
  const std::vector<Manifest> second = swarm.publish({(*tree)[kHeld].directory});
  REQUIRE(second.size() == 1);
  auto changed = pub.engine().restore_changed();
  REQUIRE(changed.ok());
  CHECK(changed->rows_read == 1);
  CHECK(changed->seeding == 1);
  CHECK(changed->errors.empty());
  CHECK(pub.engine().counters().held == kHeld + 1);

  // A held version's row rewritten: read again, held once.
  LocalReplica l = pub.local(first[2].instance_id());
  l.updated_at += 1;
  REQUIRE(pub.catalog().put_local(l).ok());
  auto rewritten = pub.engine().restore_changed();
  REQUIRE(rewritten.ok());
  CHECK(rewritten->rows_read == 1);
  CHECK(rewritten->seeding == 0);
  CHECK(pub.engine().counters().held == kHeld + 1);
  CHECK(pub.engine().restore_changed()->rows_read == 0);

  // A version wanted by a CLI command (a row in state wanted): fetched.
  const std::vector<Manifest> third = swarm.publish({(*tree)[kHeld + 1].directory});
  REQUIRE(third.size() == 1);
  Node& other = swarm[1];
  other.start();
  REQUIRE(other.engine().restore().ok());
  LocalReplica wanted;
  wanted.instance_id = third[0].instance_id();
  wanted.state = LocalState::wanted;
  REQUIRE(other.catalog().put_local(wanted).ok());
  auto fetched = other.engine().restore_changed();
  REQUIRE(fetched.ok());
  CHECK(fetched->rows_read == 1);
  CHECK(fetched->fetching == 1);
  CHECK(other.transfer(wanted.instance_id).has_value());
}

TEST_CASE("swarm restore: start-up reads the local rows in pages, none of them twice") {
  Swarm swarm(75);
  Node& pub = swarm.add("IPSL");
  swarm.admit();
  // More rows than one page: rows of versions this catalog has no manifest of count as
  // read and are reported, one error each.
  const std::size_t rows = SwarmEngine::kRestorePage + 3;
  for (std::size_t i = 0; i < rows; ++i) {
    LocalReplica l;
    l.instance_id = "CMIP6.x.y.ds" + std::to_string(10000 + i) + ".v20190101";
    l.state = LocalState::complete;
    l.path = (swarm.dir() / "nowhere" / std::to_string(i)).string();
    REQUIRE(pub.catalog().put_local(l).ok());
  }
  pub.start();
  auto restored = pub.engine().restore();
  REQUIRE(restored.ok());
  CHECK(restored->rows_read == rows);
  CHECK(restored->errors.size() == rows);
  CHECK(restored->seeding == 0);
  CHECK(pub.engine().restore_changed()->rows_read == 0);
}
