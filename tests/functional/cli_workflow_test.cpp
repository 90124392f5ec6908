// Functional: the whole offline workflow through the real binary, as an operator runs it.
#include <doctest/doctest.h>

#include "FunctionalFixture.hpp"
#include "fedswarm/engine/SampleTree.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

std::vector<SampleVersion> sample(const std::filesystem::path& root, std::size_t datasets, std::size_t versions) {
  SampleSpec spec;
  spec.datasets = datasets;
  spec.versions_per_dataset = versions;
  spec.files_per_version = 2;
  spec.file_size = 32 * 1024;
  auto written = write_sample_tree(root, 7, spec);
  REQUIRE(written.ok());
  return *written;
}

// Every key our document shares with a real esg-search document has the same JSON type.
void check_same_shape(const nlohmann::json& ours, const nlohmann::json& real) {
  for (const auto& [key, value] : ours.items()) {
    if (!real.contains(key)) continue;
    INFO("key " << key);
    CHECK(value.type_name() == std::string(real[key].type_name()));
  }
}

}  // namespace

TEST_CASE("publish, search (esg-search JSON), show, retract and check through the binary") {
  CliWorld w;
  auto home = w.node("IPSL");
  auto versions = sample(w.dir() / "archive", 3, 2);
  w.must({"--home", home, "publish", (w.dir() / "archive").string()});

  auto latest = w.json({"--home", home, "search", "--facets", "all"});
  CHECK(latest["response"]["numFound"] == 3);
  auto all = w.json({"--home", home, "search", "--all-versions", "--facets", "experiment_id"});
  CHECK(all["response"]["numFound"] == 6);

  // The response has the shape of a real esg-search response (the fixture).
  auto real = nlohmann::json::parse(read_file(fixtures_dir() / "esgf_search" / "cmip6_datasets_latest_with_facets.json"));
  const auto& doc = latest["response"]["docs"][0];
  for (const char* key : {"id", "instance_id", "master_id", "version", "latest", "retracted", "replica", "size",
                          "number_of_files", "source_id", "experiment_id", "variable_id", "data_node"})
    CHECK_MESSAGE(doc.contains(key), key);
  check_same_shape(doc, real["response"]["docs"][0]);
  CHECK(doc["instance_id"].get<std::string>() == doc["master_id"].get<std::string>() + ".v" + doc["version"].get<std::string>());
  CHECK(doc["id"].get<std::string>() == doc["instance_id"].get<std::string>() + "|IPSL");
  const auto& fields = latest["facet_counts"]["facet_fields"];
  REQUIRE(fields.contains("source_id"));
  CHECK(fields["source_id"].is_array());
  CHECK(fields["source_id"].size() % 2 == 0);
  CHECK(fields["source_id"][1].is_number());

  // Retract the newest version of the first dataset.
  const auto& old_v = versions[0];
  const auto& new_v = versions[1];
  REQUIRE(old_v.dataset_id == new_v.dataset_id);
  w.must({"--home", home, "retract", new_v.instance_id(), "--reason", "bad data", "--errata", "e-123"});
  auto after = w.json({"--home", home, "search"});
  CHECK(after["response"]["numFound"] == 2);
  auto with = w.json({"--home", home, "search", "--all-versions", "--include-retracted", "master_id=" + new_v.dataset_id});
  CHECK(with["response"]["numFound"] == 2);

  auto shown = w.json({"--home", home, "show", new_v.instance_id()});
  CHECK(shown["status"] == "retracted");
  CHECK(shown["retraction"]["errata_id"] == "e-123");
  CHECK(shown["files"].size() == 2);
  CHECK(shown["versions"].size() == 2);

  // check: exit status says current / superseded / retracted.
  auto file_of = [](const SampleVersion& v) { return (v.directory / v.files[0]).string(); };
  CHECK(w.run({"--home", home, "check", file_of(versions[3])}).exit_code == 0);
  CHECK(w.run({"--home", home, "check", file_of(old_v)}).exit_code == 10);
  auto retracted = w.run({"--home", home, "check", file_of(new_v)});
  CHECK(retracted.exit_code == 11);
  CHECK(retracted.out.find("bad data") != std::string::npos);
  CHECK(retracted.out.find("e-123") != std::string::npos);
  // By tracking id alone, and with a copy of the file outside any DRS tree.
  CHECK(w.run({"--home", home, "check", new_v.tracking_ids[0]}).exit_code == 11);
  auto copy = w.dir() / "copy.nc";
  std::filesystem::copy_file(file_of(new_v), copy);
  CHECK(w.run({"--home", home, "check", copy.string()}).exit_code == 11);
}

TEST_CASE("check on a file carried unchanged into a newer version judges the version its copy belongs to") {
  CliWorld w;
  auto home = w.node("IPSL");
  SampleSpec spec;
  spec.datasets = 1;
  spec.versions_per_dataset = 2;
  spec.files_per_version = 2;
  spec.file_size = 32 * 1024;
  spec.unchanged_files = 1;
  auto written = write_sample_tree(w.dir() / "archive", 7, spec);
  REQUIRE(written.ok());
  const auto& v1 = (*written)[0];
  const auto& v2 = (*written)[1];
  REQUIRE(v1.tracking_ids[0] == v2.tracking_ids[0]);
  w.must({"--home", home, "publish", (w.dir() / "archive").string()});

  // The same bytes and tracking id in both versions: the DRS directory decides.
  CHECK(w.run({"--home", home, "check", (v1.directory / v1.files[0]).string()}).exit_code == 10);
  CHECK(w.run({"--home", home, "check", (v2.directory / v2.files[0]).string()}).exit_code == 0);
  // Outside a DRS tree, or by tracking id: the newest version holding it.
  auto copy = w.dir() / "copy.nc";
  std::filesystem::copy_file(v1.directory / v1.files[0], copy);
  auto r = w.json({"--home", home, "check", copy.string()});
  CHECK(r["results"][0]["instance_id"] == v2.instance_id());
  CHECK(w.run({"--home", home, "check", v1.tracking_ids[0]}).exit_code == 0);
}

TEST_CASE("bad input gets a clear error, the right exit status, and changes nothing") {
  CliWorld w;
  auto home = w.node("IPSL", "2", {"IPSL"});
  auto versions = sample(w.dir() / "archive", 4, 1);

  // Not granted for every institution in the tree: refused before anything is stored.
  auto refused = w.run({"--home", home, "publish", (w.dir() / "archive").string()});
  CHECK(refused.exit_code == 5);
  CHECK(refused.err.find("publisher_not_granted") != std::string::npos);
  CHECK(refused.err.find("nothing was stored") != std::string::npos);
  CHECK(w.json({"--home", home, "search", "--all-versions"})["response"]["numFound"] == 0);

  // A directory outside the DRS template.
  auto bad = w.dir() / "bad" / "CMIP6" / "CMIP" / "NOPE" / "IPSL-CM6A-LR" / "historical" / "r1i1p1f1" / "Amon" / "tas" / "gr" / "v20190101";
  write_file(bad / "tas_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_185001-201412.nc", "x");
  auto outside = w.run({"--home", home, "publish", (w.dir() / "bad").string()});
  CHECK(outside.exit_code == 2);
  CHECK(outside.err.find("NOPE") != std::string::npos);

  CHECK(w.run({"--home", home, "search", "experiment_id"}).exit_code == 2);
  CHECK(w.run({"--home", home, "show", "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr"}).exit_code == 3);
  CHECK(w.run({"--home", (w.dir() / "nohome").string(), "status"}).exit_code == 3);
  CHECK(w.run({"--home", home, "retract", "X.v20190101", "--reason", "r"}).exit_code == 3);
  CHECK(w.run({"--home", home, "frobnicate"}).exit_code == 2);

  // A roster signed by another authority is refused once one is pinned.
  CliWorld other;
  auto other_home = other.node("CNRM-CERFACS");
  (void)other_home;
  std::string foreign_roster = (other.dir() / "roster1.fsr").string();
  auto foreign = w.run({"--home", home, "federation", "import", foreign_roster});
  CHECK(foreign.exit_code == 5);

  // A key readable by others is refused with the fix in the message.
  std::filesystem::permissions(std::filesystem::path(home) / "node.key", std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  auto perms = w.run({"--home", home, "status"});
  CHECK(perms.exit_code == 5);
  CHECK(perms.err.find("chmod 600") != std::string::npos);
}

TEST_CASE("only the publisher or the federation authority can retract") {
  CliWorld w;
  auto ipsl = w.node("IPSL");
  auto cnrm = w.node("CNRM");
  w.refresh_roster({ipsl, cnrm});
  auto versions = sample(w.dir() / "archive", 1, 1);
  w.must({"--home", ipsl, "publish", (w.dir() / "archive").string()});
  // Another node holding a copy of the manifest may not retract it; the authority may.
  std::string id = versions[0].instance_id();
  auto not_publisher = w.run({"--home", ipsl, "retract", id, "--reason", "x", "--as-authority", (w.dir() / "nowhere").string()});
  CHECK(not_publisher.exit_code == 3);
  w.must({"--home", ipsl, "retract", id, "--reason", "authority says so", "--as-authority", w.authority_dir()});
  auto shown = w.json({"--home", ipsl, "show", id});
  CHECK(shown["status"] == "retracted");
}
