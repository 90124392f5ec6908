// Functional: `fedswarm retract --errata-file` with the real ES-DOC issue's entries on two
// running nodes (127.0.80.x): a dry run changes nothing; the real run retracts exactly
// the listed versions this node published, with the errata uid and title, reports the
// others with the reason, and the retractions reach the other node by gossip; a second
// run reports every own version already retracted and exits 0; a malformed file is
// refused naming the file and changes nothing.
#include <doctest/doctest.h>

#include <algorithm>

#include "GossipCluster.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

const std::string kUid = "6838a44b-48eb-89a3-8090-c9315a79f3de";
const std::string kTitle = "Versioning errors for 1pctCO2 and abrupt-4xCO2";

// "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.1pctCO2.r1i1p1f1.Amon.tas.gr#20180605" →
// instance id, and a DRS version directory with one small file under `root`.
std::string instance_of(const std::string& listed) {
  auto hash = listed.find('#');
  return listed.substr(0, hash) + ".v" + listed.substr(hash + 1);
}

void write_version(const std::filesystem::path& root, const std::string& instance_id) {
  std::vector<std::string> p;
  std::size_t pos = 0;
  for (std::size_t dot; (dot = instance_id.find('.', pos)) != std::string::npos; pos = dot + 1)
    p.push_back(instance_id.substr(pos, dot - pos));
  p.push_back(instance_id.substr(pos));
  REQUIRE(p.size() == 10);  // CMIP6 activity institution source experiment member table variable grid version
  auto dir = root;
  for (const auto& part : p) dir /= part;
  // <variable>_<table>_<source>_<experiment>_<member>_<grid>_<time range>.nc
  write_file(dir / (p[7] + "_" + p[6] + "_" + p[3] + "_" + p[4] + "_" + p[5] + "_" + p[8] + "_185001-186912.nc"),
             "contents of " + instance_id);
}

nlohmann::json show(CliWorld& w, const std::string& home, const std::string& id) {
  return w.json({"--home", home, "show", id, "--no-files"});
}

}  // namespace

TEST_CASE("retract --errata-file: dry run, real run (gossiped), second run, malformed file") {
  // A small issue made from the real one: its uid, title, severity and six of its entries.
  auto real = nlohmann::json::parse(read_file(fixtures_dir() / "errata" / "ipsl_versioning_errata.json"));
  const std::vector<std::string> listed{
      "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.1pctCO2.r1i1p1f1.Amon.pr.gr#20180605",       // 0: own
      "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.1pctCO2.r1i1p1f1.Amon.psl.gr#20180605",      // 1: own
      "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.1pctCO2.r1i1p1f1.Amon.tas.gr#20180605",      // 2: own
      "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.abrupt-4xCO2.r1i1p1f1.Amon.pr.gr#20180605",  // 3: the other node's
      "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.abrupt-4xCO2.r1i1p1f1.Amon.psl.gr#20180605", // 4: unknown
      "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.abrupt-4xCO2.r1i1p1f1.Amon.tas.gr#20180605", // 5: unknown
  };
  for (const auto& l : listed) {
    auto& ds = real["issue"]["datasets"];
    REQUIRE(std::find(ds.begin(), ds.end(), l) != ds.end());
  }
  real["issue"]["datasets"] = listed;

  CliWorld w;
  auto errata = w.dir() / "errata.json";
  write_file(errata, real.dump(2));
  GossipCluster c(w, 80, 2);
  const std::string ipsl = c.home(0), mirror = c.home(1);
  // Node 0 publishes the first three listed versions and a newer, unlisted one; node 1
  // publishes the fourth.
  const std::string unlisted = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.1pctCO2.r1i1p1f1.Amon.tas.gr.v20180727";
  for (int i : {0, 1, 2}) write_version(w.dir() / "ipsl", instance_of(listed[static_cast<std::size_t>(i)]));
  write_version(w.dir() / "ipsl", unlisted);
  write_version(w.dir() / "mirror", instance_of(listed[3]));
  c.start_all();
  w.must({"--home", ipsl, "publish", (w.dir() / "ipsl").string()});
  w.must({"--home", mirror, "publish", (w.dir() / "mirror").string()});
  auto known = [&](const std::string& home, const std::string& id) {
    return w.run({"--home", home, "show", id, "--no-files"}).exit_code == 0;
  };
  REQUIRE(wait_until([&] { return known(ipsl, instance_of(listed[3])) && known(mirror, unlisted) &&
                                  c.records(0) == c.records(1); },
                     std::chrono::seconds(60)));
  const std::uint64_t before = c.records(0);

  // Dry run: the plan, nothing signed.
  auto dry = w.json({"--home", ipsl, "retract", "--errata-file", errata.string(), "--dry-run"});
  CHECK(dry["dry_run"] == true);
  CHECK(dry["errata"]["uid"] == kUid);
  CHECK(dry["listed"] == 6);
  CHECK(dry["summary"]["retracted"] == 3);
  CHECK(dry["summary"]["unknown"] == 2);
  CHECK(dry["summary"]["not_publisher"] == 1);
  CHECK(dry["summary"]["already_retracted"] == 0);
  CHECK(c.records(0) == before);
  CHECK(show(w, ipsl, instance_of(listed[0]))["status"] != "retracted");
  auto dry_text = w.must({"--home", ipsl, "retract", "--errata-file", errata.string(), "--dry-run"});
  CHECK(dry_text.out.find("would retract") != std::string::npos);
  CHECK(dry_text.out.find("Dry run") != std::string::npos);

  // Real run: the three own versions, each with the errata's uid and title.
  auto run = w.json({"--home", ipsl, "retract", "--errata-file", errata.string()});
  CHECK(run["dry_run"] == false);
  REQUIRE(run["retracted"].size() == 3);
  for (const auto& r : run["retracted"]) CHECK(r["seq"].get<std::uint64_t>() > 0);
  REQUIRE(run["skipped"].size() == 3);
  CHECK(run["skipped"][0]["instance_id"] == instance_of(listed[3]));
  CHECK(run["skipped"][0]["reason"] == "not_publisher");
  CHECK(run["skipped"][0]["detail"] == "published by node1");
  CHECK(run["skipped"][1]["reason"] == "unknown");
  CHECK(run["skipped"][2]["reason"] == "unknown");
  CHECK(c.records(0) == before + 3);
  for (int i : {0, 1, 2}) {
    auto s = show(w, ipsl, instance_of(listed[static_cast<std::size_t>(i)]));
    CHECK(s["status"] == "retracted");
    CHECK(s["retraction"]["errata_id"] == kUid);
    CHECK(s["retraction"]["reason"] == kTitle);
  }
  CHECK(show(w, ipsl, unlisted)["status"] != "retracted");
  CHECK(show(w, ipsl, instance_of(listed[3]))["status"] != "retracted");
  // The running node pushes them: the other node's catalog has them too.
  CHECK(wait_until([&] { return show(w, mirror, instance_of(listed[2]))["status"] == "retracted"; },
                   std::chrono::seconds(60)));
  CHECK(show(w, mirror, instance_of(listed[2]))["retraction"]["errata_id"] == kUid);

  // Again: every own version already retracted, nothing signed, exit 0.
  auto again = w.run({"--home", ipsl, "retract", "--errata-file", errata.string()});
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("skipped: already retracted: " + kTitle) != std::string::npos);
  CHECK(again.out.find("Nothing to retract") != std::string::npos);
  auto again_json = w.json({"--home", ipsl, "retract", "--errata-file", errata.string()});
  CHECK(again_json["summary"]["retracted"] == 0);
  CHECK(again_json["summary"]["already_retracted"] == 3);
  CHECK(c.records(0) == before + 3);

  // A malformed file: refused naming the file and the entry, nothing changed.
  auto bad = w.dir() / "bad-errata.json";
  real["issue"]["datasets"][4] = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.abrupt-4xCO2.r1i1p1f1.Amon.psl.gr-20180605";
  write_file(bad, real.dump());
  auto refused = w.run({"--home", ipsl, "retract", "--errata-file", bad.string()});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find(bad.string()) != std::string::npos);
  CHECK(refused.err.find("datasets[4]") != std::string::npos);
  CHECK(w.run({"--home", ipsl, "retract", "--errata-file", (w.dir() / "none.json").string()}).exit_code == 3);
  // Mixed with the single-version options: a usage error.
  CHECK(w.run({"--home", ipsl, "retract", "--errata-file", errata.string(), "--reason", "x"}).exit_code == 2);
  CHECK(w.run({"--home", ipsl, "retract", unlisted, "--reason", "x", "--dry-run"}).exit_code == 2);
  CHECK(c.records(0) == before + 3);
  c.stop(0);
  c.stop(1);
}
