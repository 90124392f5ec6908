#include <doctest/doctest.h>

#include <filesystem>
#include <set>

#include "TestSupport.hpp"
#include "fedswarm/engine/SampleTree.hpp"
#include "fedswarm/storage/DrsScanner.hpp"
#include "fedswarm/storage/NetcdfReader.hpp"

using namespace fedswarm;
namespace fs = std::filesystem;

TEST_CASE("SampleTree: the same seed writes the same tree, byte for byte") {
  test::TempDir a, b, c;
  SampleSpec spec;
  spec.datasets = 3;
  spec.versions_per_dataset = 2;
  spec.files_per_version = 2;
  spec.file_size = 20000;
  auto ta = write_sample_tree(a.path(), 42, spec);
  auto tb = write_sample_tree(b.path(), 42, spec);
  auto tc = write_sample_tree(c.path(), 43, spec);
  REQUIRE(ta.ok());
  REQUIRE(tb.ok());
  REQUIRE(tc.ok());
  REQUIRE(ta->size() == 6);
  REQUIRE(tb->size() == 6);
  bool any_difference = false;
  for (std::size_t i = 0; i < ta->size(); ++i) {
    const auto& va = (*ta)[i];
    const auto& vb = (*tb)[i];
    CHECK(va.instance_id() == vb.instance_id());
    CHECK(fs::relative(va.directory, a.path()) == fs::relative(vb.directory, b.path()));
    CHECK(va.tracking_ids == vb.tracking_ids);
    REQUIRE(va.files == vb.files);
    for (const auto& f : va.files) CHECK(test::read_file(va.directory / f) == test::read_file(vb.directory / f));
    any_difference |= va.tracking_ids != (*tc)[i].tracking_ids;
  }
  CHECK(any_difference);
}

TEST_CASE("SampleTree: every version is a valid CMIP6 DRS directory with readable attributes") {
  test::TempDir dir;
  SampleSpec spec;
  spec.datasets = 12;
  spec.versions_per_dataset = 2;
  spec.files_per_version = 3;
  spec.file_size = 8000;
  auto tree = write_sample_tree(dir.path(), test::test_seed(), spec);
  REQUIRE(tree.ok());
  REQUIRE(tree->size() == 24);
  std::set<std::string> ids, tracking;
  for (const auto& v : *tree) {
    ids.insert(v.instance_id());
    for (const auto& t : v.tracking_ids) {
      CHECK(t.rfind("hdl:21.14100/", 0) == 0);
      CHECK(t.size() == 13 + 36);
      tracking.insert(t);
    }
  }
  CHECK(ids.size() == 24);
  CHECK(tracking.size() == 72);

  std::vector<fs::path> roots{dir.path()};
  auto scan = DrsScanner(ProjectRegistry::builtin()).scan(roots);
  std::string errors;
  for (const auto& e : scan.errors) errors += e.reason + ": " + e.message + "\n";
  INFO(errors);
  CHECK(scan.errors.empty());
  REQUIRE(scan.versions.size() == 24);

  const auto& v = tree->front();
  auto attrs = read_netcdf_attributes(v.directory / v.files[0]);
  REQUIRE(attrs.has_value());
  CHECK(attrs->tracking_id == v.tracking_ids[0]);
  CHECK_FALSE(attrs->frequency.empty());
  CHECK_FALSE(attrs->realm.empty());
  CHECK_FALSE(attrs->nominal_resolution.empty());
  CHECK_FALSE(attrs->source_type.empty());
  CHECK(attrs->variant_label == "r1i1p1f1");
  CHECK_FALSE(attrs->cf_standard_name.empty());
  CHECK_FALSE(attrs->long_name.empty());
}

TEST_CASE("SampleTree: files are about the requested size and existing versions are not overwritten") {
  test::TempDir dir;
  SampleSpec spec;
  spec.datasets = 1;
  spec.files_per_version = 1;
  for (std::uint64_t size : {50'000ull, 600'000ull, 5'000'000ull}) {
    test::TempDir d;
    spec.file_size = size;
    auto tree = write_sample_tree(d.path(), 7, spec);
    REQUIRE(tree.ok());
    auto actual = fs::file_size(tree->front().directory / tree->front().files[0]);
    CAPTURE(size);
    CAPTURE(actual);
    CHECK(actual > size * 9 / 10);
    CHECK(actual < size * 11 / 10);
  }
  spec.file_size = 4000;
  REQUIRE(write_sample_tree(dir.path(), 1, spec).ok());
  auto again = write_sample_tree(dir.path(), 1, spec);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().reason == "sample_exists");
}

TEST_CASE("SampleTree: a new version keeps its unchanged files byte for byte and can be added later") {
  test::TempDir once, split;
  SampleSpec spec;
  spec.datasets = 2;
  spec.versions_per_dataset = 2;
  spec.files_per_version = 3;
  spec.file_size = 20000;
  spec.unchanged_files = 2;
  auto tree = write_sample_tree(once.path(), 5, spec);
  REQUIRE(tree.ok());
  REQUIRE(tree->size() == 4);
  // Only the carried-over files share tracking ids: 4 versions × 3 files, 2 × 2 carried.
  std::set<std::string> tracking;
  for (const auto& v : *tree) tracking.insert(v.tracking_ids.begin(), v.tracking_ids.end());
  CHECK(tracking.size() == 8);
  for (std::size_t d = 0; d < 2; ++d) {
    const auto& v1 = (*tree)[2 * d];
    const auto& v2 = (*tree)[2 * d + 1];
    REQUIRE(v1.dataset_id == v2.dataset_id);
    CHECK(v1.version < v2.version);
    REQUIRE(v1.files == v2.files);
    for (std::size_t f = 0; f < 3; ++f) {
      CAPTURE(f);
      const bool same = test::read_file(v1.directory / v1.files[f]) == test::read_file(v2.directory / v2.files[f]);
      CHECK(same == (f < 2));
      CHECK((v1.tracking_ids[f] == v2.tracking_ids[f]) == (f < 2));
    }
  }

  // The first dataset's first version alone, then its second version added by a later
  // call: the same bytes as writing both at once.
  SampleSpec first = spec;
  first.datasets = 1;
  first.versions_per_dataset = 1;
  auto v1 = write_sample_tree(split.path(), 5, first);
  REQUIRE(v1.ok());
  REQUIRE(v1->size() == 1);
  SampleSpec next = spec;
  next.datasets = 1;
  next.first_version = 1;
  auto v2 = write_sample_tree(split.path(), 5, next);
  REQUIRE(v2.ok());
  REQUIRE(v2->size() == 1);
  CHECK((*v2)[0].instance_id() == (*tree)[1].instance_id());
  CHECK((*v2)[0].tracking_ids == (*tree)[1].tracking_ids);
  for (const auto& f : (*tree)[1].files)
    CHECK(test::read_file((*v2)[0].directory / f) == test::read_file((*tree)[1].directory / f));

  // At least one file changes, whatever is asked.
  test::TempDir all;
  spec.datasets = 1;
  spec.unchanged_files = 99;
  auto clamped = write_sample_tree(all.path(), 5, spec);
  REQUIRE(clamped.ok());
  CHECK((*clamped)[0].tracking_ids != (*clamped)[1].tracking_ids);
  CHECK((*clamped)[0].tracking_ids[2] != (*clamped)[1].tracking_ids[2]);
}
