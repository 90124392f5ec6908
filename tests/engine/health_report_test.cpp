// HealthReport: per-site holdings and free capacity from a real catalog, the live part
// parsed from a running node's control answers, and the JSON round trip.
#include <doctest/doctest.h>

#include "../storage/CatalogWorld.hpp"
#include "fedswarm/engine/HealthReport.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

constexpr std::int64_t kReportNow = CatalogWorld::kNow + 10'000;

struct World : CatalogWorld {
  Manifest a, b, c;
  World() {
    a = manifest(ipsl_tas(), "v20180101", 1);
    b = manifest(ipsl_tas(), "v20190101", 1);
    DatasetSpec pr = ipsl_tas();
    pr.variable = "pr";
    c = manifest(pr, "v20180101", 1);
    for (const auto* m : {&a, &b, &c}) REQUIRE(publish(ipsl, *m).outcome == IngestOutcome::stored);
    ReplicaRecord held{a.dataset_id, a.version, ReplicaState::complete, kReportNow - 100};
    REQUIRE(ingest(sign(dkrz, RecordKind::replica, held.encode())).outcome == IngestOutcome::stored);
    ReplicaRecord gone{c.dataset_id, c.version, ReplicaState::complete, kReportNow - 100};
    REQUIRE(ingest(sign(ncar, RecordKind::replica, gone.encode())).outcome == IngestOutcome::stored);
    gone.state = ReplicaState::dropped;
    gone.at = kReportNow - 50;
    REQUIRE(ingest(sign(ncar, RecordKind::replica, gone.encode())).outcome == IngestOutcome::stored);
    Claim claim{b.dataset_id, b.version, ClaimAction::take, kReportNow + 3600, kReportNow - 10};
    REQUIRE(ingest(sign(dkrz, RecordKind::claim, claim.encode())).outcome == IngestOutcome::stored);
  }
  std::uint64_t size(const Manifest& m) { return version(m.instance_id()).size; }
  const SiteHealth& site(const HealthReport& r, const std::string& name) {
    for (const auto& s : r.sites)
      if (s.site == name) return s;
    FAIL("no site " << name);
    throw 0;
  }
};

nlohmann::json status_answer() {
  return {{"running", true},
          {"node_key", std::string(64, 'a')},
          {"uptime_s", 7200},
          {"refused", {{"bad_signature", 3}, {"flood", 1}}},
          {"swarm", {{"fetching", 1}, {"seeding", 2}, {"paused", 0}, {"banned_peers", {"127.0.51.9"}}}}};
}

}  // namespace

TEST_CASE("health report offline: holdings, committed and free capacity from the catalog") {
  World w;
  HealthInputs in;
  in.now = kReportNow;
  in.local_key = w.ipsl.public_key();
  in.local_site = "ipsl";
  auto r = build_health_report(*w.cat, in);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));

  CHECK(r->federation == "test-federation");
  CHECK(r->roster_serial == 1);
  CHECK_FALSE(r->running);
  CHECK_FALSE(r->refusals);
  REQUIRE(r->sites.size() == 3);
  CHECK(r->sites[0].site == "ipsl");  // roster order

  const auto& ipsl = w.site(*r, "ipsl");
  CHECK(ipsl.local);
  CHECK(ipsl.state == "stopped");
  CHECK(ipsl.versions_held == 3);  // its own publications
  CHECK(ipsl.bytes_held == w.size(w.a) + w.size(w.b) + w.size(w.c));
  CHECK_FALSE(ipsl.download_rate);

  const auto& dkrz = w.site(*r, "dkrz");
  CHECK(dkrz.state == "unknown");
  CHECK(dkrz.tier == Tier::tier1);
  CHECK(dkrz.versions_held == 1);
  CHECK(dkrz.bytes_held == w.size(w.a));
  CHECK(dkrz.committed == w.size(w.a) + w.size(w.b));  // its copy and its live claim
  CHECK(dkrz.free_capacity == dkrz.capacity - dkrz.committed);

  const auto& ncar = w.site(*r, "ncar");
  CHECK(ncar.versions_held == 0);  // dropped its copy
  CHECK(ncar.committed == 0);

  // The compliance summary from the same snapshot: a is held by DKRZ, b is claimed by
  // it, c has nobody (the only Tier-1 is assigned).
  CHECK(r->compliance.versions == 3);
  CHECK(r->compliance.compliant == 1);
  CHECK(r->compliance.pending == 1);
  CHECK(r->compliance.violating == 1);
  CHECK_FALSE(r->compliance.liveness_known);
  CHECK(r->conflicts.empty());
}

TEST_CASE("health report with a running node: link states, lag, rates and refusals from its answers") {
  World w;
  nlohmann::json peers = {{"peers",
                           {{{"key", to_hex(w.dkrz.public_key())},
                             {"site", "dkrz"},
                             {"state", "up"},
                             {"behind", 2},
                             {"ahead", 0},
                             {"last_seen_ms_ago", 1500}},
                            {{"key", to_hex(w.ncar.public_key())},
                             {"site", "ncar"},
                             {"state", "down"},
                             {"behind", nullptr},
                             {"ahead", nullptr},
                             {"last_seen_ms_ago", nullptr}}}}};
  nlohmann::json transfers = {
      {"transfers",
       {{{"instance_id", w.b.instance_id()}, {"kind", "fetch"}, {"download_rate", 1000}, {"upload_rate", 10}},
        {{"instance_id", w.a.instance_id()}, {"kind", "seed"}, {"download_rate", 0}, {"upload_rate", 500}}}},
      {"counters", {{"banned_peers", {"127.0.51.9", "127.0.51.8"}}}}};
  auto status = StatusAnswer::from_json(status_answer());
  auto peer_rows = PeersAnswer::from_json(peers);
  auto transfer_rows = TransfersAnswer::from_json(transfers);
  REQUIRE_MESSAGE(status.ok(), (status.ok() ? "" : status.error().message));
  REQUIRE_MESSAGE(peer_rows.ok(), (peer_rows.ok() ? "" : peer_rows.error().message));
  REQUIRE_MESSAGE(transfer_rows.ok(), (transfer_rows.ok() ? "" : transfer_rows.error().message));
  auto live = std::optional<HealthLive>(HealthLive::from(*status, &*peer_rows, &*transfer_rows));
  CHECK(live->uptime == 7200);
  CHECK(live->download_rate == 1000);
  CHECK(live->upload_rate == 510);
  CHECK(live->seeding == 2);
  CHECK(live->banned_peers == std::vector<std::string>{"127.0.51.8", "127.0.51.9"});
  CHECK(live->refusals.at("bad_signature") == 3);

  HealthInputs in;
  in.now = kReportNow;
  in.local_key = w.ipsl.public_key();
  in.local_site = "ipsl";
  in.live = *live;
  auto r = build_health_report(*w.cat, in);
  REQUIRE(r.ok());
  CHECK(r->running);
  CHECK(r->uptime == 7200);
  CHECK(w.site(*r, "ipsl").state == "self");
  CHECK(w.site(*r, "ipsl").download_rate == std::optional<std::uint64_t>(1000));
  const auto& dkrz = w.site(*r, "dkrz");
  CHECK(dkrz.state == "up");
  CHECK(dkrz.behind == std::optional<std::uint64_t>(2));
  CHECK(dkrz.last_seen_ago == std::optional<std::int64_t>(1));
  CHECK_FALSE(dkrz.download_rate);
  CHECK(w.site(*r, "ncar").state == "down");
  CHECK_FALSE(w.site(*r, "ncar").behind);
  REQUIRE(r->refusals);
  CHECK(r->refusals->at("flood") == 1);

  // JSON: the shape the CLI prints and the daemon will serve, read back unchanged.
  const nlohmann::json j = r->to_json();
  for (const char* k : {"generated_at", "federation", "roster_serial", "node", "sites", "compliance", "refusals",
                        "banned_peers", "conflicts"})
    CHECK_MESSAGE(j.contains(k), k);
  CHECK(j["node"]["running"] == true);
  CHECK(j["node"]["uptime_s"] == 7200);
  for (const char* k : {"site", "key", "tier", "local", "state", "behind", "ahead", "last_seen_s_ago", "versions_held",
                        "bytes_held", "capacity", "committed", "free_capacity", "download_rate", "upload_rate"})
    CHECK_MESSAGE(j["sites"][0].contains(k), k);
  CHECK(j["sites"][2]["tier"] == "tier1");
  auto back = HealthReport::from_json(j);
  REQUIRE_MESSAGE(back.ok(), (back.ok() ? "" : back.error().message));
  CHECK(back->to_json() == j);
}

TEST_CASE("health report: malformed answers are refused with a reason, not thrown") {
  CHECK(StatusAnswer::from_json(nlohmann::json::array()).error().reason == "bad_node_answer");
  nlohmann::json bad_refused = status_answer();
  bad_refused["refused"] = {{"x", "many"}};
  CHECK(StatusAnswer::from_json(bad_refused).error().reason == "bad_node_answer");
  CHECK(PeersAnswer::from_json({{"peers", {{{"key", "zz"}}}}}).error().reason == "bad_node_answer");
  CHECK(TransfersAnswer::from_json({{"transfers", 3}}).error().reason == "bad_node_answer");
  auto ok = StatusAnswer::from_json(status_answer());
  REQUIRE(ok.ok());
  CHECK(HealthLive::from(*ok, nullptr, nullptr).seeding == 2);
  CHECK(HealthReport::from_json({{"sites", 3}}).error().reason == "bad_health_report");
}

TEST_CASE("health report: the maintained figures equal a recount of the whole catalog") {
  World w;
  HealthInputs in;
  in.now = kReportNow;
  in.local_key = w.ipsl.public_key();
  in.local_site = "ipsl";
  auto fast = build_health_report(*w.cat, in);
  REQUIRE(fast.ok());
  auto state = w.cat->replication_state();
  auto roster = w.cat->roster();
  auto conflicts = w.cat->conflicts();
  REQUIRE(state.ok());
  REQUIRE(roster.ok());
  REQUIRE(conflicts.ok());
  ComplianceInputs ci;
  ci.now = kReportNow;
  const auto reference = make_health_report(*state, *roster, *conflicts, compliance_report(*state, *roster, ci).summary, in);
  CHECK(fast->to_json() == reference.to_json());
}
