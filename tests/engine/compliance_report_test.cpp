// ComplianceReport: the one-Tier-1-copy verdicts of a real catalog (signed manifests,
// replica records, claims, retractions) in operator terms, and their JSON.
#include <doctest/doctest.h>

#include "../storage/CatalogWorld.hpp"
#include "fedswarm/engine/ComplianceReport.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

constexpr std::int64_t kReportNow = CatalogWorld::kNow + 10'000;
constexpr std::int64_t kHour = 3600;

// CatalogWorld plus a second Tier-1 node (CEDA): IPSL (Tier-2) publishes; DKRZ and
// CEDA (Tier-1, 1 TiB each) may hold, claim and drop copies.
struct World : CatalogWorld {
  SigningKey ceda = SigningKey::generate();

  World() {
    Roster r = make_roster(2,
                           {member(ipsl, "ipsl"), member(ncar, "ncar"), member(dkrz, "dkrz", Tier::tier1),
                            member(ceda, "ceda", Tier::tier1)},
                           {grant(ipsl, {"IPSL"}), grant(ncar), grant(dkrz)});
    REQUIRE(ingest(roster_record(r)).outcome == IngestOutcome::stored);
  }

  // A one-file version of IPSL's `variable` dataset published at `published_at`.
  Manifest publish(const std::string& variable, std::int64_t published_at, const std::string& version = "v20180101") {
    DatasetSpec spec = ipsl_tas();
    spec.variable = variable;
    Manifest m = factory().make(spec, version, 1, rng);
    m.published_at = published_at;
    REQUIRE(CatalogWorld::publish(ipsl, m).outcome == IngestOutcome::stored);
    return m;
  }
  void replica(const SigningKey& k, const Manifest& m, ReplicaState s, std::int64_t at) {
    ReplicaRecord r{m.dataset_id, m.version, s, at};
    REQUIRE(ingest(sign(k, RecordKind::replica, r.encode())).outcome == IngestOutcome::stored);
  }
  void claim(const SigningKey& k, const Manifest& m, ClaimAction a, std::int64_t deadline, std::int64_t made_at) {
    Claim c{m.dataset_id, m.version, a, deadline, made_at};
    REQUIRE(ingest(sign(k, RecordKind::claim, c.encode())).outcome == IngestOutcome::stored);
  }
  void retract(const Manifest& m) {
    REQUIRE(ingest(retraction_record(ipsl, m.dataset_id, m.version)).outcome == IngestOutcome::stored);
  }

  ComplianceReport report(ComplianceInputs in = {}) {
    if (in.now == 0) in.now = kReportNow;
    auto r = build_compliance_report(*cat, in);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return *r;
  }
};

const ComplianceEntry& entry(const ComplianceReport& r, const Manifest& m) {
  for (const auto& e : r.versions)
    if (e.instance_id == m.instance_id()) return e;
  FAIL("no entry for " << m.instance_id());
  throw 0;  // unreachable
}

// One version in each state the report distinguishes.
struct Scenario {
  World w;
  Manifest held, claimed, unclaimed, expired, dropped, retracted;

  Scenario() {
    held = w.publish("tas", kReportNow - 30 * 86400);
    w.replica(w.dkrz, held, ReplicaState::complete, kReportNow - 20 * 86400);
    claimed = w.publish("pr", kReportNow - 2 * kHour);
    w.claim(w.ceda, claimed, ClaimAction::take, kReportNow + kHour, kReportNow - kHour);
    unclaimed = w.publish("ts", kReportNow - 2 * kHour);
    expired = w.publish("psl", kReportNow - 5 * kHour);
    w.claim(w.dkrz, expired, ClaimAction::take, kReportNow - 600, kReportNow - 4 * kHour);
    dropped = w.publish("uas", kReportNow - 90 * 86400);
    w.replica(w.ceda, dropped, ReplicaState::complete, kReportNow - 80 * 86400);
    w.replica(w.ceda, dropped, ReplicaState::dropped, kReportNow - 60);
    retracted = w.publish("vas", kReportNow - kHour);
    w.retract(retracted);
  }
};

}  // namespace

TEST_CASE("compliance report: compliant, pending, violating and exempt versions of a catalog, in operator terms") {
  Scenario s;
  ComplianceInputs in;
  in.now = kReportNow;
  const ComplianceReport r = s.w.report(in);

  CHECK(r.generated_at == kReportNow);
  CHECK(r.summary.versions == 6);
  CHECK(r.summary.compliant == 1);
  CHECK(r.summary.pending == 1);
  CHECK(r.summary.violating == 3);
  CHECK(r.summary.exempt == 1);
  CHECK(r.summary.blocked == 0);
  CHECK(r.summary.tier1_members == 2);
  CHECK_FALSE(r.summary.liveness_known);

  const auto& held = entry(r, s.held);
  CHECK(held.status == TierOneStatus::compliant);
  CHECK(held.holders == std::vector<std::string>{"dkrz"});
  CHECK(held.primary_site == "ipsl");
  CHECK(held.age == 30 * 86400);
  CHECK(held.size == s.w.version(s.held.instance_id()).size);

  const auto& claimed = entry(r, s.claimed);
  CHECK(claimed.status == TierOneStatus::pending);
  CHECK(claimed.claimant == "ceda");
  CHECK(claimed.deadline == kReportNow + kHour);
  CHECK_FALSE(claimed.bytes_done);  // no local node given

  // Violating: why, since when, and who should claim it.
  const auto& unclaimed = entry(r, s.unclaimed);
  CHECK(unclaimed.status == TierOneStatus::violating);
  CHECK(unclaimed.cause == TierOneCause::unclaimed);
  CHECK(unclaimed.blocker == TierOneBlocker::none);
  CHECK((unclaimed.assignee == "dkrz" || unclaimed.assignee == "ceda"));
  CHECK(unclaimed.violating_since == kReportNow - 2 * kHour);
  CHECK(unclaimed.violating_for == 2 * kHour);

  const auto& expired = entry(r, s.expired);
  CHECK(expired.cause == TierOneCause::claim_expired);
  CHECK(expired.assignee == "ceda");  // dkrz passed on it: asked again only after ceda
  CHECK(expired.age == 5 * kHour);
  CHECK(expired.violating_for == 600);  // since the deadline, not since publication

  const auto& dropped = entry(r, s.dropped);
  CHECK(dropped.cause == TierOneCause::copy_dropped);
  CHECK(dropped.violating_for == 60);
  CHECK(dropped.age == 90 * 86400);

  const auto& retracted = entry(r, s.retracted);
  CHECK(retracted.status == TierOneStatus::exempt);
  CHECK(retracted.cause == TierOneCause::retracted);

  CHECK(r.summary.longest_violation == 2 * kHour);
  CHECK(r.summary.violating_bytes == unclaimed.size + expired.size + dropped.size);

  // Order: violating (longest first), pending, compliant, exempt.
  REQUIRE(r.versions.size() == 6);
  CHECK(r.versions[0].instance_id == s.unclaimed.instance_id());
  CHECK(r.versions[1].instance_id == s.expired.instance_id());
  CHECK(r.versions[2].instance_id == s.dropped.instance_id());
  CHECK(r.versions[3].instance_id == s.claimed.instance_id());
  CHECK(r.versions[4].instance_id == s.held.instance_id());
  CHECK(r.versions[5].instance_id == s.retracted.instance_id());
}

TEST_CASE("compliance report: violations older than max-age count from when the violation began") {
  Scenario s;
  const ComplianceReport r = s.w.report();
  CHECK(r.violations_older_than(0).size() == 3);
  CHECK(r.violations_older_than(60).size() == 3);
  CHECK(r.violations_older_than(61).size() == 2);
  CHECK(r.violations_older_than(600).size() == 2);
  CHECK(r.violations_older_than(2 * kHour).size() == 1);
  CHECK(r.violations_older_than(2 * kHour + 1).empty());
  CHECK(r.violations_older_than(86400).empty());  // the default --max-age: no alarm yet
  // A release is a pass too: the violation restarts at the release.
  s.w.claim(s.w.ceda, s.unclaimed, ClaimAction::release, kReportNow - 30, kReportNow - 30);
  const ComplianceReport after = s.w.report();
  CHECK(entry(after, s.unclaimed).cause == TierOneCause::claim_released);
  CHECK(entry(after, s.unclaimed).violating_for == 30);
}

TEST_CASE("compliance report: liveness decides whether down holders and claimants still count") {
  Scenario s;
  const PublicKey dkrz = s.w.dkrz.public_key(), ceda = s.w.ceda.public_key();
  TierOneConfig config;

  SUBCASE("a holder down for less than the grace period still counts") {
    ComplianceInputs in;
    in.liveness = LivenessMap{{dkrz, {false, kReportNow - kHour}}};
    const auto r = s.w.report(in);
    CHECK(r.summary.liveness_known);
    CHECK(entry(r, s.held).status == TierOneStatus::compliant);
  }
  SUBCASE("a holder down past the grace period: violating since the grace ran out") {
    ComplianceInputs in;
    in.liveness = LivenessMap{{dkrz, {false, kReportNow - config.grace_seconds - kHour}}};
    const auto r = s.w.report(in);
    const auto& held = entry(r, s.held);
    CHECK(held.status == TierOneStatus::violating);
    CHECK(held.cause == TierOneCause::holders_down);
    CHECK(held.assignee == "ceda");
    CHECK(held.violating_for == kHour);
  }
  SUBCASE("every Tier-1 down: nobody to assign, the claim within grace still pending") {
    ComplianceInputs in;
    in.liveness = LivenessMap{{dkrz, {false, kReportNow - 60}}, {ceda, {false, kReportNow - 60}}};
    const auto r = s.w.report(in);
    CHECK(entry(r, s.claimed).status == TierOneStatus::pending);
    const auto& unclaimed = entry(r, s.unclaimed);
    CHECK(unclaimed.blocker == TierOneBlocker::no_eligible_tier1);
    CHECK(unclaimed.assignee.empty());
    CHECK(r.summary.blocked == 3);
  }
}

TEST_CASE("compliance report: the local node's claim shows its progress") {
  Scenario s;
  ComplianceInputs in;
  in.local = s.w.ceda.public_key();
  in.local_progress = std::map<std::string, std::uint64_t>{{s.claimed.instance_id(), 1234}};
  CHECK(entry(s.w.report(in), s.claimed).bytes_done == std::optional<std::uint64_t>(1234));

  // Offline, from the catalog's local replica row.
  LocalReplica row;
  row.instance_id = s.claimed.instance_id();
  row.state = LocalState::transferring;
  row.bytes_done = 4321;
  REQUIRE(s.w.cat->put_local(row).ok());
  in.local_progress.reset();
  CHECK(entry(s.w.report(in), s.claimed).bytes_done == std::optional<std::uint64_t>(4321));

  // Another node's claim: unknown.
  in.local = s.w.dkrz.public_key();
  CHECK_FALSE(entry(s.w.report(in), s.claimed).bytes_done);
}

TEST_CASE("compliance report: JSON shape and round trip") {
  Scenario s;
  const ComplianceReport r = s.w.report();
  const nlohmann::json j = r.to_json();
  CHECK(j["generated_at"] == kReportNow);
  for (const char* k : {"versions", "compliant", "pending", "violating", "exempt", "blocked", "violating_bytes",
                        "longest_violation_s", "tier1_members", "liveness_known"})
    CHECK_MESSAGE(j["summary"].contains(k), k);
  REQUIRE(j["versions"].size() == 6);
  for (const auto& v : j["versions"]) {
    for (const char* k : {"instance_id", "size", "primary_site", "published_at", "age_s", "status", "cause", "blocker",
                          "holders", "claimant", "deadline", "bytes_done", "assignee", "violating_since",
                          "violating_for_s"})
      CHECK_MESSAGE(v.contains(k), k);
    CHECK(v["holders"].is_array());
    const std::string status = v["status"];
    CHECK(v["claimant"].is_null() == (status != "pending"));
    CHECK(v["violating_for_s"].is_null() == (status != "violating"));
  }
  CHECK(j["versions"][0]["status"] == "violating");
  CHECK(j["versions"][0]["cause"] == "unclaimed");
  CHECK(j["versions"][0]["violating_for_s"] == 2 * kHour);

  auto back = ComplianceReport::from_json(j);
  REQUIRE_MESSAGE(back.ok(), (back.ok() ? "" : back.error().message));
  CHECK(back->to_json() == j);
  CHECK(back->violations_older_than(61).size() == 2);

  CHECK(ComplianceReport::from_json(nlohmann::json::array()).error().reason == "bad_compliance_report");
  nlohmann::json bad = j;
  bad["versions"][0]["status"] = "fine";
  CHECK(ComplianceReport::from_json(bad).error().code == Errc::invalid);
  bad = j;
  bad["versions"][0]["size"] = "big";
  CHECK(ComplianceReport::from_json(bad).error().reason == "bad_compliance_report");
}

TEST_CASE("compliance report: a catalog without a Tier-1 member leaves every version blocked") {
  CatalogWorld w;  // roster 1: DKRZ is the only Tier-1
  Manifest m = w.manifest(ipsl_tas(), "v20180101", 1);
  m.published_at = kReportNow - 100;
  REQUIRE(w.publish(w.ipsl, m).outcome == IngestOutcome::stored);
  ComplianceInputs in;
  in.now = kReportNow;
  in.liveness = LivenessMap{{w.dkrz.public_key(), {false, kReportNow - 10}}};
  auto r = build_compliance_report(*w.cat, in);
  REQUIRE(r.ok());
  REQUIRE(r->versions.size() == 1);
  CHECK(r->versions[0].blocker == TierOneBlocker::no_eligible_tier1);
  CHECK(r->violations_older_than(100).size() == 1);
}
