#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>

#include "TestFederation.hpp"
#include "TestSupport.hpp"
#include "fedswarm/engine/NodeHome.hpp"
#include "fedswarm/engine/Publisher.hpp"
#include "fedswarm/engine/SampleTree.hpp"
#include "fedswarm/protocol/InfoDict.hpp"
#include "fedswarm/protocol/SigningKey.hpp"

using namespace fedswarm;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kPublishTime = test::kTestNow + 1000;
const char* kIpslDir = "CMIP6/CMIP/IPSL/IPSL-CM6A-LR/historical/r1i1p1f1/Amon/tas/gr";
const char* kIpslId = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr";

std::string ipsl_file(int i) {
  return "tas_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_" + std::to_string(1850 + 50 * i) + "01-" +
         std::to_string(1899 + 50 * i) + "12.nc";
}

// A version directory of plain (non-netCDF) files with valid CMIP6 names.
fs::path write_ipsl_version(const fs::path& root, const std::string& version, int files = 2,
                            const std::string& salt = "") {
  fs::path dir = root / kIpslDir / version;
  for (int i = 0; i < files; ++i) test::write_file(dir / ipsl_file(i), "data of file " + std::to_string(i) + salt);
  return dir;
}

// Everything a refused publish must leave untouched.
struct Snapshot {
  std::uint64_t versions = 0, records = 0;
  VersionVector vv;
  std::size_t locals = 0;
  bool operator==(const Snapshot&) const = default;
};

class Node {
 public:
  explicit Node(bool admit = true, std::vector<std::string> institutions = {}) {
    auto h = NodeHome::init(tmp_ / "home", Config::defaults("IPSL", Tier::tier2));
    REQUIRE_MESSAGE(h.ok(), h.error().message);
    home_.emplace(std::move(*h));
    auto c = home_->open_catalog();
    REQUIRE_MESSAGE(c.ok(), c.error().message);
    catalog_ = std::move(*c);
    if (admit) {
      auto st = fed_.admit(*catalog_, home_->key(), "IPSL", std::move(institutions));
      REQUIRE_MESSAGE(st.ok(), st.error().message);
    }
  }

  fs::path archive() const { return tmp_ / "archive"; }
  const fs::path& tmp() const { return tmp_.path(); }
  Catalog& catalog() { return *catalog_; }
  NodeHome& home() { return *home_; }
  test::TestFederation& federation() { return fed_; }

  PublishReport publish(std::vector<fs::path> paths, bool dry_run = false,
                        std::function<void(const PublishProgress&)> progress = {}) {
    PublishOptions o;
    o.paths = std::move(paths);
    o.dry_run = dry_run;
    o.now = kPublishTime;
    o.progress = std::move(progress);
    auto r = Publisher(*home_, *catalog_).run(o);
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    return std::move(*r);
  }

  Snapshot snapshot() {
    Snapshot s;
    auto st = catalog_->stats();
    REQUIRE(st.ok());
    s.versions = st->versions;
    s.records = st->records;
    auto vv = catalog_->version_vector();
    REQUIRE(vv.ok());
    s.vv = *vv;
    auto locals = catalog_->locals();
    REQUIRE(locals.ok());
    s.locals = locals->size();
    return s;
  }

 private:
  test::TempDir tmp_{"fedswarm-publish"};
  std::optional<NodeHome> home_;
  std::unique_ptr<Catalog> catalog_;
  test::TestFederation fed_;
};

std::string describe(const PublishReport& r) {
  std::string s;
  for (const auto& e : r.errors) s += "[" + e.reason + "] " + e.message + "\n";
  return s;
}

// Publishes `paths` expecting refusal with `reason` (message containing `needle`) and
// a catalog exactly as before.
void expect_refused(Node& node, std::vector<fs::path> paths, const std::string& reason, const std::string& needle = "") {
  Snapshot before = node.snapshot();
  PublishReport r = node.publish(std::move(paths));
  INFO(describe(r));
  CHECK(r.versions.empty());
  CHECK(std::any_of(r.errors.begin(), r.errors.end(), [&](const Error& e) {
    return e.reason == reason && (needle.empty() || e.message.find(needle) != std::string::npos);
  }));
  CHECK(node.snapshot() == before);
}

const std::vector<std::string>* facet(const Manifest& m, const std::string& name) { return m.facet(name); }

}  // namespace

TEST_CASE("Publisher: a sample tree is published with tracking ids, facets, info dicts and supersedes") {
  Node node;
  const std::uint64_t seed = test::test_seed();
  MESSAGE("seed " << seed);
  SampleSpec spec;
  spec.datasets = 2;
  spec.versions_per_dataset = 2;
  spec.files_per_version = 2;
  spec.file_size = 40 * 1024;
  auto sample = write_sample_tree(node.archive(), seed, spec);
  REQUIRE(sample.ok());

  std::uint64_t last_done = 0, total = 0;
  std::size_t files_done = 0, files_total = 0;
  PublishReport r = node.publish({node.archive()}, false, [&](const PublishProgress& p) {
    CHECK(p.bytes_done >= last_done);
    last_done = p.bytes_done;
    total = p.bytes_total;
    files_done = p.files_done;
    files_total = p.files_total;
  });
  INFO(describe(r));
  REQUIRE(r.errors.empty());
  REQUIRE(r.versions.size() == 4);
  CHECK(last_done == total);
  CHECK(files_total == 8);
  CHECK(files_done >= 7);  // the last callback comes before the last file is counted

  std::map<std::string, const PublishedVersion*> published;
  for (const auto& v : r.versions) {
    published[v.instance_id] = &v;
    CHECK(v.seq > 0);
    CHECK_FALSE(v.unchanged);
  }
  for (const auto& sv : *sample) {
    CAPTURE(sv.instance_id());
    REQUIRE(published.count(sv.instance_id()));
    const PublishedVersion& pv = *published[sv.instance_id()];
    CHECK(pv.directory == fs::canonical(sv.directory));
    auto m = node.catalog().manifest(sv.instance_id());
    REQUIRE(m.ok());
    CHECK(m->published_at == kPublishTime);
    CHECK(m->project == "CMIP6");
    REQUIRE(m->files.size() == sv.files.size());
    for (std::size_t i = 0; i < sv.files.size(); ++i) {
      const auto& mf = *std::find_if(m->files.begin(), m->files.end(), [&](const auto& f) { return f.path == sv.files[i]; });
      CHECK(mf.tracking_id == sv.tracking_ids[i]);
      std::string bytes = test::read_file(sv.directory / sv.files[i]);
      CHECK(mf.size == bytes.size());
      CHECK(mf.sha256 == sha256(as_bytes(bytes)));
    }
    // DRS facets plus the descriptive ones read from the netCDF files.
    REQUIRE(facet(*m, "institution_id"));
    REQUIRE(facet(*m, "variant_label"));
    REQUIRE(facet(*m, "frequency"));
    REQUIRE(facet(*m, "realm"));
    REQUIRE(facet(*m, "nominal_resolution"));
    REQUIRE(facet(*m, "source_type"));
    REQUIRE(facet(*m, "cf_standard_name"));
    CHECK(facet(*m, "source_type")->size() >= 1);
    CHECK(facet(*m, "source_type")->front() == "AOGCM");
    auto info = InfoDict::parse(m->info_dict);
    REQUIRE(info.ok());
    CHECK(info->name == sv.instance_id());  // the folder an exported torrent downloads into
    CHECK(info->name == torrent_name(*m));
    CHECK(info->is_private);
    CHECK(info->matches(*m).ok());
    auto local = node.catalog().local(sv.instance_id());
    REQUIRE(local.ok());
    REQUIRE(local->has_value());
    CHECK((*local)->state == LocalState::complete);
    CHECK((*local)->path == pv.directory.string());
  }
  // Versions of a dataset: the second supersedes the first.
  for (std::size_t i = 0; i < sample->size(); i += 2) {
    const auto& v1 = (*sample)[i];
    const auto& v2 = (*sample)[i + 1];
    REQUIRE(v1.dataset_id == v2.dataset_id);
    CHECK(published[v1.instance_id()]->supersedes.empty());
    CHECK(published[v2.instance_id()]->supersedes == v1.version);
    auto info = node.catalog().version(v2.instance_id());
    REQUIRE(info.ok());
    REQUIRE(info->has_value());
    CHECK((*info)->supersedes == v1.version);
    CHECK((*info)->latest);
  }

  SUBCASE("publishing the same tree again changes nothing") {
    Snapshot before = node.snapshot();
    PublishReport again = node.publish({node.archive()});
    INFO(describe(again));
    REQUIRE(again.errors.empty());
    REQUIRE(again.versions.size() == 4);
    for (const auto& v : again.versions) {
      CHECK(v.unchanged);
      CHECK(v.seq == 0);
    }
    CHECK(node.snapshot() == before);
  }
}

TEST_CASE("Publisher: a later version published in a second run supersedes the stored one") {
  Node node;
  fs::path v1 = write_ipsl_version(node.archive(), "v20180803");
  PublishReport first = node.publish({v1});
  INFO(describe(first));
  REQUIRE(first.versions.size() == 1);
  CHECK(first.versions[0].supersedes.empty());
  fs::path v2 = write_ipsl_version(node.archive(), "v20190101", 3, "-new");
  PublishReport second = node.publish({node.archive()});
  INFO(describe(second));
  REQUIRE(second.errors.empty());
  REQUIRE(second.versions.size() == 2);
  CHECK(second.versions[0].unchanged);  // v1, already stored
  CHECK(second.versions[1].instance_id == std::string(kIpslId) + ".v20190101");
  CHECK(second.versions[1].supersedes == "v20180803");
  auto m = node.catalog().manifest(std::string(kIpslId) + ".v20190101");
  REQUIRE(m.ok());
  CHECK(m->supersedes == "v20180803");
  // Plain files are not netCDF: no tracking id, no descriptive facets.
  CHECK(m->files[0].tracking_id.empty());
  CHECK(facet(*m, "frequency") == nullptr);
}

TEST_CASE("Publisher: a dry run hashes and reports but stores nothing") {
  Node node;
  write_ipsl_version(node.archive(), "v20180803");
  Snapshot before = node.snapshot();
  PublishReport r = node.publish({node.archive()}, true);
  REQUIRE(r.errors.empty());
  REQUIRE(r.versions.size() == 1);
  CHECK(r.versions[0].seq == 0);
  CHECK(r.versions[0].files == 2);
  CHECK(node.snapshot() == before);
}

TEST_CASE("Publisher: paths outside the template, unknown terms and bad dates are refused") {
  Node node;
  fs::path scratch = node.tmp() / "scratch" / "v20190101";
  test::write_file(scratch / ipsl_file(0), "x");
  expect_refused(node, {scratch}, "not_a_drs_path", "scratch");

  fs::path foo = node.archive() / "CMIP6/CMIP/FOO/IPSL-CM6A-LR/historical/r1i1p1f1/Amon/tas/gr/v20190101";
  test::write_file(foo / ipsl_file(0), "x");
  expect_refused(node, {foo}, "drs_unknown_term", "\"FOO\"");

  fs::path bad_date = write_ipsl_version(node.tmp() / "dates", "v20191345");
  expect_refused(node, {bad_date}, "version_date", "v20191345");

  fs::path bad_name = node.tmp() / "names" / kIpslDir / "v20190101";
  test::write_file(bad_name / "pr_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_185001-189912.nc", "x");
  expect_refused(node, {bad_name}, "filename_facet_mismatch", "pr_Amon");

  expect_refused(node, {node.tmp() / "empty-tree"}, "no_such_path");
  fs::create_directories(node.tmp() / "no-versions" / "CMIP6");
  expect_refused(node, {node.tmp() / "no-versions"}, "no_version_directories");
}

TEST_CASE("Publisher: unreadable files, escaping symlinks, special files and empty datasets are refused") {
  Node node;
  SUBCASE("dangling symlink (unreadable even for root)") {
    fs::path v = write_ipsl_version(node.archive(), "v20190101", 1);
    fs::create_symlink(v / "gone.nc", v / ipsl_file(1));
    expect_refused(node, {v}, "unreadable_file", ipsl_file(1));
  }
  SUBCASE("file without read permission") {
    if (::geteuid() == 0) {
      MESSAGE("running as root: chmod 000 does not stop reads; the dangling-link case covers unreadable_file");
      return;
    }
    fs::path v = write_ipsl_version(node.archive(), "v20190101", 2);
    fs::permissions(v / ipsl_file(1), fs::perms::none);
    expect_refused(node, {v}, "unreadable_file", ipsl_file(1));
    fs::permissions(v / ipsl_file(1), fs::perms::owner_all);
  }
  SUBCASE("symlink leaving the DRS tree") {
    fs::path v = write_ipsl_version(node.archive(), "v20190101", 1);
    test::write_file(node.tmp() / "elsewhere.nc", "outside");
    fs::create_symlink(node.tmp() / "elsewhere.nc", v / ipsl_file(1));
    expect_refused(node, {v}, "symlink_escapes", ipsl_file(1));
  }
  SUBCASE("FIFO in a version directory") {
    fs::path v = write_ipsl_version(node.archive(), "v20190101", 1);
    REQUIRE(::mkfifo((v / ipsl_file(1)).c_str(), 0600) == 0);
    expect_refused(node, {v}, "not_regular_file", ipsl_file(1));
  }
  SUBCASE("empty version directory") {
    fs::path v = node.archive() / kIpslDir / "v20190101";
    fs::create_directories(v);
    expect_refused(node, {v}, "empty_dataset", "v20190101");
  }
  SUBCASE("only zero-length files") {
    fs::path v = node.archive() / kIpslDir / "v20190101";
    test::write_file(v / ipsl_file(0), "");
    expect_refused(node, {v}, "empty_dataset", "v20190101");
  }
}

TEST_CASE("Publisher: one bad version refuses the whole run") {
  Node node;
  write_ipsl_version(node.archive(), "v20180803");
  fs::path bad = node.archive() / kIpslDir / "v20190101";
  fs::create_directories(bad);
  expect_refused(node, {node.archive()}, "empty_dataset");
  auto v = node.catalog().version(std::string(kIpslId) + ".v20180803");
  REQUIRE(v.ok());
  CHECK_FALSE(v->has_value());
}

TEST_CASE("Publisher: a different second manifest for a published version is a conflict") {
  Node node;
  fs::path v = write_ipsl_version(node.archive(), "v20190101");
  PublishReport first = node.publish({v});
  REQUIRE(first.errors.empty());
  // Someone edits a file of the published, immutable version in place.
  test::write_file(v / ipsl_file(1), "changed bytes");
  expect_refused(node, {v}, "conflict", std::string(kIpslId) + ".v20190101");
  // …or adds a file.
  test::write_file(v / ipsl_file(1), "data of file 1");
  test::write_file(v / ipsl_file(2), "extra");
  expect_refused(node, {v}, "conflict", ipsl_file(2));
  fs::remove(v / ipsl_file(2));
  PublishReport same = node.publish({v});
  REQUIRE(same.errors.empty());
  CHECK(same.versions[0].unchanged);
}

TEST_CASE("Publisher: a node without a grant is refused before any hashing") {
  SUBCASE("no roster at all") {
    Node node(false);
    fs::path v = write_ipsl_version(node.archive(), "v20190101");
    bool hashed = false;
    Snapshot before = node.snapshot();
    PublishReport r = node.publish({v}, false, [&](const PublishProgress&) { hashed = true; });
    INFO(describe(r));
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].reason == "publisher_not_granted");
    CHECK(r.errors[0].code == Errc::unauthorized);
    CHECK(r.errors[0].message.find("fedswarm federation grant") != std::string::npos);
    CHECK_FALSE(hashed);
    CHECK(node.snapshot() == before);
  }
  SUBCASE("granted another institution") {
    Node node(true, {"NCAR"});
    fs::path v = write_ipsl_version(node.archive(), "v20190101");
    bool hashed = false;
    Snapshot before = node.snapshot();
    PublishReport r = node.publish({v}, false, [&](const PublishProgress&) { hashed = true; });
    INFO(describe(r));
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].reason == "publisher_not_granted");
    CHECK(r.errors[0].message.find("IPSL") != std::string::npos);
    CHECK(r.errors[0].message.find("--institution IPSL") != std::string::npos);
    CHECK_FALSE(hashed);
    CHECK(node.snapshot() == before);
    // Once the authority grants it, the same tree publishes.
    REQUIRE(node.federation().admit(node.catalog(), node.home().key(), "IPSL", {"NCAR", "IPSL"}).ok());
    PublishReport ok = node.publish({v});
    INFO(describe(ok));
    REQUIRE(ok.errors.empty());
    CHECK(ok.versions.size() == 1);
  }
}
