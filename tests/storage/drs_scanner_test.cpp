#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "TestSupport.hpp"
#include "fedswarm/storage/DrsScanner.hpp"

using namespace fedswarm;
namespace fs = std::filesystem;

namespace {

const char* kDir = "CMIP6/CMIP/IPSL/IPSL-CM6A-LR/historical/r1i1p1f1/Amon/tas/gr";
const char* kId = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr";
const char* kFile1 = "tas_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_185001-189912.nc";
const char* kFile2 = "tas_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_190001-194912.nc";

fs::path version_dir(const fs::path& root, const std::string& version = "v20180803") {
  return root / kDir / version;
}

ScanReport scan(std::initializer_list<fs::path> paths) {
  std::vector<fs::path> v(paths);
  return DrsScanner(ProjectRegistry::builtin()).scan(v);
}

bool has_error(const ScanReport& r, const std::string& reason, const std::string& needle = "") {
  return std::any_of(r.errors.begin(), r.errors.end(), [&](const Error& e) {
    return e.reason == reason && (needle.empty() || e.message.find(needle) != std::string::npos);
  });
}

std::string reasons(const ScanReport& r) {
  std::string s;
  for (const auto& e : r.errors) s += e.reason + ": " + e.message + "\n";
  return s;
}

}  // namespace

TEST_CASE("DrsScanner: a version directory is found from the root, a subtree or itself") {
  test::TempDir tmp;
  fs::path v = version_dir(tmp.path());
  test::write_file(v / kFile2, "second");
  test::write_file(v / kFile1, "first!!");
  for (fs::path start : {tmp.path(), tmp.path() / "CMIP6" / "CMIP" / "IPSL", v}) {
    CAPTURE(start);
    auto r = scan({start});
    INFO(reasons(r));
    REQUIRE(r.errors.empty());
    REQUIRE(r.versions.size() == 1);
    const auto& sv = r.versions[0];
    CHECK(sv.id.dataset.id == kId);
    CHECK(sv.id.dataset.project == "CMIP6");
    CHECK(sv.id.version == "v20180803");
    CHECK(sv.instance_id() == std::string(kId) + ".v20180803");
    CHECK(sv.directory == fs::canonical(v));
    CHECK(sv.drs_root == fs::canonical(tmp.path()));
    REQUIRE(sv.files.size() == 2);
    CHECK(sv.files[0].path == kFile1);  // sorted
    CHECK(sv.files[0].size == 7);
    CHECK(sv.files[1].path == kFile2);
    CHECK(sv.total_size() == 13);
  }
  // The same version reached twice is listed once.
  auto twice = scan({tmp.path(), v});
  CHECK(twice.versions.size() == 1);
}

TEST_CASE("DrsScanner: several versions and datasets come out sorted and subdirectories of a version hold files") {
  test::TempDir tmp;
  test::write_file(version_dir(tmp.path(), "v20190101") / kFile1, "b");
  test::write_file(version_dir(tmp.path(), "v20180803") / kFile1, "a");
  test::write_file(version_dir(tmp.path(), "v20180803") / "extra" / kFile2, "c");
  fs::path other = tmp.path() / "CMIP6/CMIP/NCAR/CESM2/historical/r1i1p1f1/Amon/pr/gn/v20190308";
  test::write_file(other / "pr_Amon_CESM2_historical_r1i1p1f1_gn_185001-201412.nc", "p");
  auto r = scan({tmp.path()});
  INFO(reasons(r));
  REQUIRE(r.errors.empty());
  REQUIRE(r.versions.size() == 3);
  for (std::size_t i = 1; i < r.versions.size(); ++i)
    CHECK(r.versions[i - 1].directory.native() < r.versions[i].directory.native());
  const auto& first = *std::find_if(r.versions.begin(), r.versions.end(),
                                    [](const auto& v) { return v.id.version == "v20180803"; });
  REQUIRE(first.files.size() == 2);
  CHECK(first.files[0].path == std::string("extra/") + kFile2);  // byte order: "e" < "t"
  CHECK(first.files[1].path == kFile1);
}

TEST_CASE("DrsScanner: fedswarm's own leftovers are skipped") {
  test::TempDir tmp;
  fs::path v = version_dir(tmp.path());
  test::write_file(v / kFile1, "x");
  test::write_file(v / (std::string(kFile2) + ".part"), "partial");
  test::write_file(v / "download.tmp", "t");
  test::write_file(v / ".staging" / "whatever", "s");
  test::write_file(tmp.path() / ".staging" / kDir / "v20200101" / kFile1, "staged");
  test::write_file(tmp.path() / ".quarantine" / kDir / "v20200102" / kFile1, "bad");
  auto r = scan({tmp.path()});
  INFO(reasons(r));
  REQUIRE(r.errors.empty());
  REQUIRE(r.versions.size() == 1);
  REQUIRE(r.versions[0].files.size() == 1);
  CHECK(r.versions[0].files[0].path == kFile1);
}

TEST_CASE("DrsScanner: symlinks inside the DRS root are read through, outside ones escape") {
  test::TempDir tmp;
  fs::path drs = tmp.path() / "archive";
  fs::path v1 = version_dir(drs, "v20180803");
  fs::path v2 = version_dir(drs, "v20190101");
  test::write_file(v1 / kFile1, "shared bytes");
  test::write_file(v2 / kFile2, "new");
  // ESGF data nodes link unchanged files of a new version to the previous one.
  fs::create_symlink(v1 / kFile1, v2 / kFile1);
  auto ok = scan({v2});
  INFO(reasons(ok));
  REQUIRE(ok.errors.empty());
  REQUIRE(ok.versions.size() == 1);
  REQUIRE(ok.versions[0].files.size() == 2);
  CHECK(ok.versions[0].files[0].path == kFile1);
  CHECK(ok.versions[0].files[0].size == 12);

  test::write_file(tmp.path() / "outside.nc", "elsewhere");
  fs::path v3 = version_dir(drs, "v20200101");
  fs::create_directories(v3);
  fs::create_symlink(tmp.path() / "outside.nc", v3 / kFile1);
  auto bad = scan({v3});
  CHECK(bad.versions.empty());
  CHECK(has_error(bad, "symlink_escapes", kFile1));

  // A relative link climbing out with .. escapes too.
  fs::path v4 = version_dir(drs, "v20200202");
  fs::create_directories(v4);
  fs::create_symlink("../../../../../../../../../../../outside.nc", v4 / kFile1);
  auto climb = scan({v4});
  CHECK(has_error(climb, "symlink_escapes"));
}

TEST_CASE("DrsScanner: dangling links, symlinked directories and special files") {
  test::TempDir tmp;
  fs::path v = version_dir(tmp.path());
  test::write_file(v / kFile1, "x");
  fs::create_symlink(v / "gone.nc", v / kFile2);
  auto dangling = scan({v});
  CHECK(has_error(dangling, "unreadable_file", kFile2));
  CHECK(dangling.versions.empty());
  fs::remove(v / kFile2);

  fs::create_directories(tmp.path() / "elsewhere");
  fs::create_directory_symlink(tmp.path() / "CMIP6", v / "linked_dir");
  fs::create_directory_symlink(tmp.path() / "elsewhere", tmp.path() / "CMIP6" / "linked_tree");
  auto linked = scan({tmp.path()});
  INFO(reasons(linked));
  REQUIRE(linked.errors.empty());
  REQUIRE(linked.versions.size() == 1);
  CHECK(linked.versions[0].files.size() == 1);
  CHECK(linked.warnings.size() == 2);
  fs::remove(v / "linked_dir");

  REQUIRE(::mkfifo((v / kFile2).c_str(), 0600) == 0);
  auto fifo = scan({v});
  CHECK(has_error(fifo, "not_regular_file", kFile2));
  CHECK(fifo.versions.empty());
}

TEST_CASE("DrsScanner: empty datasets, non-DRS paths, unknown terms, bad dates and file names") {
  test::TempDir tmp;
  fs::path empty = version_dir(tmp.path(), "v20180803");
  fs::create_directories(empty / "sub");
  auto e = scan({empty});
  CHECK(has_error(e, "empty_dataset", empty.string()));

  fs::path not_drs = tmp.path() / "scratch" / "v20180803";
  test::write_file(not_drs / kFile1, "x");
  auto n = scan({not_drs});
  CHECK(has_error(n, "not_a_drs_path", "CMIP6"));

  fs::path unknown = tmp.path() / "CMIP6/CMIP/FOO/IPSL-CM6A-LR/historical/r1i1p1f1/Amon/tas/gr/v20180803";
  test::write_file(unknown / kFile1, "x");
  auto u = scan({unknown});
  INFO(reasons(u));
  REQUIRE(u.errors.size() == 1);
  CHECK(u.errors[0].reason.rfind("drs_", 0) == 0);
  CHECK(u.errors[0].message.find("FOO") != std::string::npos);

  fs::path bad_date = version_dir(tmp.path(), "v20191345");
  test::write_file(bad_date / kFile1, "x");
  auto d = scan({bad_date});
  CHECK(has_error(d, "version_date"));

  fs::path v = version_dir(tmp.path(), "v20200101");
  test::write_file(v / "pr_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_185001-189912.nc", "x");
  auto f = scan({v});
  INFO(reasons(f));
  REQUIRE(f.errors.size() == 1);
  CHECK(f.errors[0].reason.rfind("filename_", 0) == 0);
  CHECK(f.errors[0].message.find("pr_Amon") != std::string::npos);

  auto missing = scan({tmp.path() / "nope"});
  CHECK(has_error(missing, "no_such_path", "nope"));
}

TEST_CASE("DrsScanner: an unreadable file is reported before hashing") {
  if (::geteuid() == 0) {
    MESSAGE("running as root: chmod 000 does not stop reads, skipped (dangling links cover the path)");
    return;
  }
  test::TempDir tmp;
  fs::path v = version_dir(tmp.path());
  test::write_file(v / kFile1, "x");
  fs::permissions(v / kFile1, fs::perms::none);
  auto r = scan({v});
  fs::permissions(v / kFile1, fs::perms::owner_all);
  CHECK(has_error(r, "unreadable_file", kFile1));
}

TEST_CASE("DrsScanner: looks_like_version") {
  CHECK(looks_like_version("v20190101"));
  CHECK(looks_like_version("v20191345"));  // form only; the template checks the date
  CHECK_FALSE(looks_like_version("20190101"));
  CHECK_FALSE(looks_like_version("v2019010"));
  CHECK_FALSE(looks_like_version("v2019010a"));
  CHECK_FALSE(looks_like_version("latest"));
}
