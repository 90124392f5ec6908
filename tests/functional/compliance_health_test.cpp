// Functional: `fedswarm compliance` and `fedswarm health` through the real binary —
// offline from the catalog (no node running), and against running nodes on
// 127.0.51.x (whose answers carry the live part).
#include <doctest/doctest.h>

#include "GossipCluster.hpp"
#include "fedswarm/engine/SampleTree.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

std::vector<SampleVersion> sample(const std::filesystem::path& root, std::size_t datasets) {
  SampleSpec spec;
  spec.datasets = datasets;
  spec.files_per_version = 1;
  spec.file_size = 16 * 1024;
  auto written = write_sample_tree(root, 5, spec);
  REQUIRE(written.ok());
  return *written;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("compliance and health offline: verdicts from the catalog, every member counted alive, exit 12 past --max-age") {
  CliWorld w;
  auto ipsl = w.node("IPSL", "2", {}, {}, false);
  auto dkrz = w.node("DKRZ", "1", {}, {"--capacity", "1T"}, false);
  w.refresh_roster({ipsl, dkrz});
  auto versions = sample(w.dir() / "archive", 3);
  w.must({"--home", ipsl, "publish", (w.dir() / "archive").string()});
  w.must({"--home", ipsl, "retract", versions[2].instance_id(), "--reason", "bad data"});

  // Text: a table, the summary, the liveness caveat; new violations are no alarm yet.
  auto text = w.run({"--home", ipsl, "compliance"});
  INFO("stdout: " << text.out << "\nstderr: " << text.err);
  CHECK(text.exit_code == 0);
  for (const char* part : {"DATASET VERSION", "STATUS", "violating", "exempt", "next to claim: DKRZ",
                           "3 dataset versions: 0 compliant, 0 pending, 2 violating",
                           "node not running: liveness unknown, every member counted alive"})
    CHECK_MESSAGE(contains(text.out, part), part);

  // JSON: every version with its verdict; the retracted one exempt.
  auto j = w.json({"--home", ipsl, "compliance"});
  CHECK(j["running"] == false);
  CHECK(j["note"] == "node not running: liveness unknown, every member counted alive");
  CHECK(j["max_age_s"] == 86400);
  CHECK(j["over_max_age"] == 0);
  CHECK(j["summary"]["violating"] == 2);
  CHECK(j["summary"]["exempt"] == 1);
  CHECK(j["summary"]["tier1_members"] == 1);
  CHECK(j["summary"]["liveness_known"] == false);
  REQUIRE(j["versions"].size() == 3);
  for (const auto& v : j["versions"]) {
    if (v["instance_id"] == versions[2].instance_id()) {
      CHECK(v["status"] == "exempt");
      CHECK(v["cause"] == "retracted");
    } else {
      CHECK(v["status"] == "violating");
      CHECK(v["cause"] == "unclaimed");
      CHECK(v["assignee"] == "DKRZ");
      CHECK(v["primary_site"] == "IPSL");
      CHECK(v["violating_for_s"].get<std::int64_t>() >= 0);
    }
  }

  // --max-age 0s: any violation is an alarm (exit 12), in text and in JSON.
  auto alarm = w.run({"--home", ipsl, "compliance", "--max-age", "0s"});
  CHECK(alarm.exit_code == 12);
  CHECK(contains(alarm.out, "2 violations have lasted at least 0s"));
  auto alarm_json = w.run({"--json", "--home", ipsl, "compliance", "--max-age", "0s"});
  CHECK(alarm_json.exit_code == 12);
  CHECK(nlohmann::json::parse(alarm_json.out)["over_max_age"] == 2);
  CHECK(w.run({"--home", ipsl, "compliance", "--max-age", "1h"}).exit_code == 0);
  auto bad = w.run({"--home", ipsl, "compliance", "--max-age", "soon"});
  CHECK(bad.exit_code == 2);
  CHECK(contains(bad.err, "--max-age"));

  // The same verdicts from another member's catalog (DKRZ has not fetched the records:
  // it has none yet, so nothing to report).
  auto at_dkrz = w.json({"--home", dkrz, "compliance"});
  CHECK(at_dkrz["summary"]["versions"] == 0);

  // health: each member with what it holds and its room; liveness unknown offline.
  auto h = w.json({"--home", ipsl, "health"});
  CHECK(h["federation"] == "test-federation");
  CHECK(h["node"]["running"] == false);
  CHECK(h["refusals"].is_null());
  REQUIRE(h["sites"].size() == 2);
  const auto& ipsl_site = h["sites"][0];
  CHECK(ipsl_site["site"] == "IPSL");
  CHECK(ipsl_site["local"] == true);
  CHECK(ipsl_site["state"] == "stopped");
  CHECK(ipsl_site["versions_held"] == 3);  // its own publications (the retracted one still takes room)
  CHECK(ipsl_site["bytes_held"].get<std::uint64_t>() > 0);
  const auto& dkrz_site = h["sites"][1];
  CHECK(dkrz_site["tier"] == "tier1");
  CHECK(dkrz_site["state"] == "unknown");
  CHECK(dkrz_site["versions_held"] == 0);
  CHECK(dkrz_site["capacity"] == 1ull << 40);
  CHECK(dkrz_site["free_capacity"] == 1ull << 40);
  CHECK(h["compliance"]["violating"] == 2);

  auto health_text = w.run({"--home", ipsl, "health"});
  INFO("health: " << health_text.out);
  CHECK(health_text.exit_code == 0);
  for (const char* part : {"SITE", "FREE", "DKRZ", "1.00 TiB", "not running", "2 violating", "conflicts   none"})
    CHECK_MESSAGE(contains(health_text.out, part), part);
}

TEST_CASE("compliance and health with the node running: link states and counters from its answers") {
  CliWorld w;
  GossipCluster c(w, 51, 0);
  auto ipsl = c.add_member("IPSL", "2", {});
  c.add_member("DKRZ", "1", {});
  c.issue_roster();
  sample(w.dir() / "archive", 2);
  w.must({"--home", ipsl, "publish", (w.dir() / "archive").string()});
  c.start_all();
  REQUIRE(wait_until(
      [&] {
        auto p = c.peers(0);
        return p["peers"].size() == 1 && p["peers"][0].value("state", "") == "up";
      },
      std::chrono::seconds(30)));

  auto h = w.json({"--home", ipsl, "health"});
  CHECK(h["node"]["running"] == true);
  CHECK(h["node"]["uptime_s"].is_number());
  CHECK(h["refusals"].is_object());
  REQUIRE(h["sites"].size() == 2);
  CHECK(h["sites"][0]["state"] == "self");
  CHECK(h["sites"][0]["download_rate"].is_number());
  CHECK(h["sites"][1]["state"] == "up");
  CHECK(h["sites"][1]["download_rate"].is_null());
  CHECK(h["compliance"]["versions"] == 2);

  auto text = w.run({"--home", ipsl, "health"});
  CHECK(text.exit_code == 0);
  CHECK(contains(text.out, "running for"));
  CHECK(contains(text.out, "self"));

  // The node may or may not serve `compliance` itself: either way the verdicts come back,
  // and the output says whether liveness was known.
  auto j = w.json({"--home", ipsl, "compliance"});
  CHECK(j["running"] == true);
  CHECK(j["summary"]["versions"] == 2);
  CHECK(j.contains("note") == !j["summary"]["liveness_known"].get<bool>());
  c.stop(0);
  c.stop(1);
}
