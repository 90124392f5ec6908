// Functional: the one-Tier-1-copy rule enacted by real `fedswarm node run` processes
// (DESIGN §7, engine/TierOneDuty.hpp). Nobody subscribes to anything: every Tier-1 copy
// below is fetched because a Tier-1 node claimed it.
// - A Tier-2 publishes: exactly one Tier-1 — the one the primary's `compliance` named
//   (claimant; assignee if seen), whose own `compliance` shows its progress — claims,
//   fetches and holds it; the version becomes compliant at every node; the other Tier-1
//   nodes never claim it and hold nothing. `status` shows the holder's capacity.
// - The claimant is SIGKILLed in the middle of the transfer (slowed by the primary's
//   [swarm] upload_rate_limit): once it has been down for the grace period the next
//   Tier-1 in rank claims it and completes; the version becomes compliant there.
// - A Tier-1 publishes: its own version goes to another Tier-1 (a same-site copy is no
//   second residence); the publisher never claims it.
// - Surplus copies: the holder is stopped past the grace period, the other Tier-1
//   repairs the version; the holder comes back with its copy, and once it has been up
//   for surplus_settle_seconds (2 s here) the repair copy is released — its directory
//   deleted, a signed "dropped" replica record at every node — and the original copy is
//   the one left.
// Each test has its own loopback net (127.0.61.x, .62.x, .63.x, .90.x). The [policy]
// settings are shortened for the test (grace 3 s, claim_base 5 s, evaluation every
// 500 ms, surplus settle 2 s) and equal at every node, as the rule requires.
#include <doctest/doctest.h>

#include <set>

#include "SwarmKit.hpp"
#include "fedswarm/engine/NodeHome.hpp"

using namespace fedswarm;
using namespace fedswarm::test;
using namespace fedswarm::test::swarmkit;

namespace {

const std::map<std::string, std::string> kPolicy = {
    {"grace_seconds", "3"},
    {"claim_base_seconds", "5"},
    // Deadlines are computed from this rate (no transfer observed yet): generous, so a
    // claim only passes on because its claimant died, never because a slow test
    // machine made it expire.
    {"min_rate", "50000.0"},
    {"evaluate_interval_ms", "500"},
    {"surplus_settle_seconds", "2"},
};

// A Tier-1 member offering 1 GiB in the roster (the rule ranks by roster capacity; a
// member offering 0 is never eligible).
void offer_capacity(CliWorld& w, const std::string& home) {
  w.must({"federation", "add-node", "--dir", w.authority_dir(), "--from-home", home, "--capacity", "1G"});
}

// `compliance --json` at `home` (the running node answers), or nullopt.
std::optional<nlohmann::json> compliance(CliWorld& w, const std::string& home) {
  auto r = w.run({"--json", "--home", home, "compliance"});
  if (r.exit_code != 0 && r.exit_code != 12) return std::nullopt;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded() || !j.contains("versions")) return std::nullopt;
  return j;
}

// The row of kInstance in a compliance answer, or nullopt.
std::optional<nlohmann::json> verdict(CliWorld& w, const std::string& home) {
  auto j = compliance(w, home);
  if (!j) return std::nullopt;
  for (const auto& v : (*j)["versions"])
    if (v.value("instance_id", "") == kInstance) {
      nlohmann::json out = v;
      out["liveness_known"] = (*j)["summary"].value("liveness_known", false);
      return out;
    }
  return std::nullopt;
}

std::string str(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : std::string(); }

// Every claim record on kInstance in `home`'s catalog: (site, action), in catalog order
// (the latest per node).
std::vector<std::pair<std::string, std::string>> claims(const std::string& home) {
  auto h = NodeHome::open(home);
  REQUIRE(h.ok());
  auto cat = h->open_catalog(true);
  REQUIRE(cat.ok());
  auto state = (*cat)->replication_state();
  REQUIRE(state.ok());
  auto roster = (*cat)->roster();
  REQUIRE(roster.ok());
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& c : state->claims) {
    if (c.instance_id != kInstance) continue;
    const RosterMember* m = *roster ? (*roster)->member(c.claim.node) : nullptr;
    out.emplace_back(m ? m->site : short_key(c.claim.node), std::string(to_string(c.claim.action)));
  }
  return out;
}

// The latest replica record of each node on kInstance in `home`'s catalog: site → state.
std::map<std::string, std::string> replica_records(const std::string& home) {
  auto h = NodeHome::open(home);
  REQUIRE(h.ok());
  auto cat = h->open_catalog(true);
  REQUIRE(cat.ok());
  auto state = (*cat)->replication_state();
  REQUIRE(state.ok());
  auto roster = (*cat)->roster();
  REQUIRE(roster.ok());
  std::map<std::string, std::string> out;
  for (const auto& r : state->replicas) {
    if (r.instance_id != kInstance) continue;
    const RosterMember* m = *roster ? (*roster)->member(r.location.node) : nullptr;
    out[m ? m->site : short_key(r.location.node)] = std::string(to_string(r.location.state));
  }
  return out;
}

// Nothing of the version under `home`'s data root: no DRS directory, no staging.
bool holds_nothing(const std::string& home) {
  namespace fs = std::filesystem;
  std::error_code ec;
  return drs_state(home, {}) == "absent" && !fs::exists(fs::path(home) / "data" / ".staging" / kInstance, ec);
}

// Polls the primary's compliance until the version is compliant; returns the sites seen
// as assignee (violating) and claimant (pending) on the way, in order, and the last row.
struct Watch {
  std::vector<std::string> assignees, claimants;
  nlohmann::json last;
  void see(const nlohmann::json& v) {
    last = v;
    if (v["status"] == "violating" && !str(v["assignee"]).empty() &&
        (assignees.empty() || assignees.back() != str(v["assignee"])))
      assignees.push_back(str(v["assignee"]));
    if (v["status"] == "pending" && (claimants.empty() || claimants.back() != str(v["claimant"])))
      claimants.push_back(str(v["claimant"]));
  }
};

// Index of the member whose site is `site`.
std::size_t index_of(const std::vector<std::string>& sites, const std::string& site) {
  for (std::size_t i = 0; i < sites.size(); ++i)
    if (sites[i] == site) return i;
  FAIL("no member " << site);
  return 0;
}

// The federation of the first two scenarios: IPSL, a Tier-2 primary whose uplink is
// capped at `upload_limit` bytes/s (so the pending phase lasts long enough to be seen),
// and three Tier-1 centres offering capacity; the rule's timings of kPolicy everywhere.
// Returns the sites in member order.
std::vector<std::string> tier2_primary_and_three_tier1(CliWorld& w, GossipCluster& c, std::uint64_t upload_limit) {
  const std::vector<std::string> sites = {"IPSL", "DKRZ", "CEDA", "NCI"};
  c.add_member("IPSL", "2", {"IPSL"});
  for (std::size_t i = 1; i < sites.size(); ++i) {
    c.add_member(sites[i], "1", {"NCAR"});
    offer_capacity(w, c.home(i));
  }
  c.issue_roster();
  for (std::size_t i = 0; i < c.size(); ++i) set_config(c.home(i), kPolicy);
  set_config(c.home(0), {{"upload_rate_limit", std::to_string(upload_limit)}});
  return sites;
}

}  // namespace

TEST_CASE("tier-1 - a Tier-2's version with no subscriptions anywhere is claimed and fetched by exactly the top-ranked Tier-1") {
  CliWorld w;
  GossipCluster c(w, 61, 0);
  // ~4 MB at 1 MiB/s: the pending phase lasts seconds, long enough to be seen.
  const auto sites = tier2_primary_and_three_tier1(w, c, 1024 * 1024);
  const auto archive = w.dir() / "archive";
  const auto names = write_version(archive, test_seed(), 2, 2'000'000);
  std::uint64_t total = 0;
  for (const auto& n : names) total += std::filesystem::file_size(archive / kRel / n);
  c.start_all();
  w.must({"--home", c.home(0), "publish", archive.string()});

  Watch watch;
  bool progress_shown = false;  // the claimant's own compliance shows its bytes done
  const bool compliant = wait_until(
      [&] {
        auto v = verdict(w, c.home(0));
        if (!v) return false;
        watch.see(*v);
        if ((*v)["status"] == "pending" && !progress_shown) {
          auto at_claimant = verdict(w, c.home(index_of(sites, str((*v)["claimant"]))));
          progress_shown = at_claimant && at_claimant->value("status", "") == "pending" &&
                           (*at_claimant)["bytes_done"].is_number();
        }
        return (*v)["status"] == "compliant";
      },
      std::chrono::seconds(120), std::chrono::milliseconds(100));
  INFO("last verdict at the primary: " << watch.last.dump());
  REQUIRE(compliant);
  CHECK(watch.last["liveness_known"] == true);
  REQUIRE(watch.last["holders"].size() == 1);
  const std::string holder = watch.last["holders"][0].get<std::string>();
  const std::size_t h = index_of(sites, holder);
  CHECK(h != 0);
  // The holder is the one the rule named: the only claimant while pending, and the
  // assignee while violating (if a poll fell in that short phase).
  CHECK(watch.claimants == std::vector<std::string>{holder});
  for (const auto& a : watch.assignees) CHECK(a == holder);
  CHECK(progress_shown);
  MESSAGE("holder " << holder << "; assignees seen " << watch.assignees.size());

  // Its copy is complete and byte-identical; the other Tier-1 nodes hold nothing, never
  // fetched it and never claimed it; the one claim is the holder's take.
  CHECK(drs_state(c.home(h), archive) == "complete");
  for (std::size_t i = 1; i < c.size(); ++i) {
    if (i == h) continue;
    INFO("node " << sites[i]);
    CHECK(holds_nothing(c.home(i)));
    auto t = transfers(w, c.home(i));
    REQUIRE(t.has_value());
    CHECK_FALSE(row_of(*t).has_value());
  }
  REQUIRE(wait_until([&] { return claims(c.home(0)).size() == 1; }, std::chrono::seconds(10)));
  CHECK(claims(c.home(0)) == std::vector<std::pair<std::string, std::string>>{{holder, "take"}});

  // Every Tier-1 node reaches the same verdict from its own catalog and links.
  for (std::size_t i = 1; i < c.size(); ++i) {
    INFO("node " << sites[i]);
    REQUIRE(wait_until(
        [&] {
          auto v = verdict(w, c.home(i));
          return v && (*v)["status"] == "compliant" && (*v)["holders"].size() == 1 && (*v)["holders"][0] == holder;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(100)));
  }

  // status shows the holder's room: roster capacity, the data root's free space, and the
  // version committed there.
  REQUIRE(wait_until([&] { return c.status(h)["capacity"].value("committed", std::uint64_t{0}) == total; },
                     std::chrono::seconds(10), std::chrono::milliseconds(100)));
  const auto cap = c.status(h)["capacity"];
  INFO("capacity: " << cap.dump());
  CHECK(cap["configured"] == 0);
  CHECK(cap["roster"] == 1ull << 30);
  CHECK(cap["data_root_free"].get<std::uint64_t>() > 0);
  CHECK(cap["quota"].get<std::uint64_t>() <= 1ull << 30);
  CHECK(cap["quota"].get<std::uint64_t>() >= total);
  CHECK(c.status(0)["capacity"]["committed"].is_null());  // a Tier-2 does not run the rule

  // health (served by the running node) shows the same summary.
  auto health = w.json({"--home", c.home(0), "health"});
  CHECK(health["node"]["running"] == true);
  CHECK(health["compliance"]["compliant"] == 1);
  CHECK(health["compliance"]["liveness_known"] == true);
  for (std::size_t i = 0; i < c.size(); ++i) c.stop(i);
}

TEST_CASE("tier-1 - the claimant SIGKILLed mid-transfer: after the grace period the next Tier-1 claims and completes") {
  CliWorld w;
  GossipCluster c(w, 62, 0);
  // ~4 MB at 256 KiB/s: about 16 s per transfer, time to kill the first claimant.
  const auto sites = tier2_primary_and_three_tier1(w, c, 256 * 1024);
  const auto archive = w.dir() / "archive";
  write_version(archive, test_seed(), 2, 2'000'000);
  c.start_all();
  w.must({"--home", c.home(0), "publish", archive.string()});

  // The first claimant, named by the primary's compliance, is downloading.
  std::string first;
  std::optional<nlohmann::json> row;
  REQUIRE(wait_until(
      [&] {
        if (first.empty()) {
          auto v = verdict(w, c.home(0));
          if (!v || (*v)["status"] != "pending") return false;
          first = str((*v)["claimant"]);
        }
        row = transfer(w, c.home(index_of(sites, first)));
        return row && (*row)["kind"] == "fetch" && (*row)["bytes_done"].get<std::uint64_t>() > 0;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(100)));
  const std::size_t k = index_of(sites, first);
  MESSAGE("first claimant " << first << " killed at " << (*row)["bytes_done"] << " of " << (*row)["bytes_total"]);
  REQUIRE((*row)["bytes_done"].get<std::uint64_t>() < (*row)["bytes_total"].get<std::uint64_t>());
  c.signal(k, SIGKILL);
  REQUIRE(c.process(k).wait(std::chrono::seconds(10)).has_value());
  c.forget(k);

  // The claim passes on (claimant down past the grace period), and the next Tier-1
  // completes the copy.
  Watch watch;
  const bool compliant = wait_until(
      [&] {
        auto v = verdict(w, c.home(0));
        if (!v) return false;
        watch.see(*v);
        return (*v)["status"] == "compliant";
      },
      std::chrono::seconds(150), std::chrono::milliseconds(100));
  INFO("last verdict at the primary: " << watch.last.dump());
  REQUIRE(compliant);
  REQUIRE(watch.last["holders"].size() == 1);
  const std::string holder = watch.last["holders"][0].get<std::string>();
  CHECK(holder != first);
  CHECK(holder != "IPSL");
  for (const auto& cl : watch.claimants) CHECK((cl == first || cl == holder));
  const std::size_t h = index_of(sites, holder);
  CHECK(drs_state(c.home(h), archive) == "complete");
  CHECK(drs_state(c.home(k), archive) == "absent");  // killed before placing anything
  // The third Tier-1 was never involved.
  for (std::size_t i = 1; i < c.size(); ++i)
    if (i != h && i != k) {
      INFO("node " << sites[i]);
      CHECK(holds_nothing(c.home(i)));
    }
  // The records: the dead claimant's take (never released: it died) and the holder's.
  REQUIRE(wait_until([&] { return claims(c.home(0)).size() == 2; }, std::chrono::seconds(10)));
  auto cl = claims(c.home(0));
  std::set<std::pair<std::string, std::string>> got(cl.begin(), cl.end());
  CHECK(got == std::set<std::pair<std::string, std::string>>{{first, "take"}, {holder, "take"}});
  for (std::size_t i = 0; i < c.size(); ++i)
    if (i != k) c.stop(i);
}

TEST_CASE("tier-1 - a Tier-1 primary's own version goes to a different Tier-1") {
  CliWorld w;
  GossipCluster c(w, 63, 0);
  const std::vector<std::string> sites = {"DKRZ", "CEDA", "NCI"};
  c.add_member("DKRZ", "1", {"IPSL"});  // the publisher, itself a Tier-1
  offer_capacity(w, c.home(0));
  for (std::size_t i = 1; i < sites.size(); ++i) {
    c.add_member(sites[i], "1", {"NCAR"});
    offer_capacity(w, c.home(i));
  }
  c.issue_roster();
  for (std::size_t i = 0; i < c.size(); ++i) set_config(c.home(i), kPolicy);
  const auto archive = w.dir() / "archive";
  write_version(archive, test_seed(), 2, 2'000'000);
  c.start_all();
  w.must({"--home", c.home(0), "publish", archive.string()});

  Watch watch;
  const bool compliant = wait_until(
      [&] {
        auto v = verdict(w, c.home(0));
        if (!v) return false;
        watch.see(*v);
        return (*v)["status"] == "compliant";
      },
      std::chrono::seconds(120), std::chrono::milliseconds(100));
  INFO("last verdict at the publisher: " << watch.last.dump());
  REQUIRE(compliant);
  CHECK(watch.last["primary_site"] == "DKRZ");
  REQUIRE(watch.last["holders"].size() == 1);
  const std::string holder = watch.last["holders"][0].get<std::string>();
  CHECK(holder != "DKRZ");
  for (const auto& a : watch.assignees) CHECK(a != "DKRZ");
  const std::size_t h = index_of(sites, holder);
  CHECK(drs_state(c.home(h), archive) == "complete");
  for (std::size_t i = 1; i < c.size(); ++i)
    if (i != h) {
      INFO("node " << sites[i]);
      CHECK(holds_nothing(c.home(i)));
    }
  REQUIRE(wait_until([&] { return claims(c.home(0)).size() == 1; }, std::chrono::seconds(10)));
  CHECK(claims(c.home(0)) == std::vector<std::pair<std::string, std::string>>{{holder, "take"}});
  for (std::size_t i = 0; i < c.size(); ++i) c.stop(i);
}

TEST_CASE("tier-1 - a repair copy is released once the original holder is back and settled") {
  CliWorld w;
  GossipCluster c(w, 90, 0);
  const std::vector<std::string> sites = {"IPSL", "DKRZ", "CEDA"};
  c.add_member("IPSL", "2", {"IPSL"});
  for (std::size_t i = 1; i < sites.size(); ++i) {
    c.add_member(sites[i], "1", {"NCAR"});
    offer_capacity(w, c.home(i));
  }
  c.issue_roster();
  for (std::size_t i = 0; i < c.size(); ++i) set_config(c.home(i), kPolicy);
  const auto archive = w.dir() / "archive";
  write_version(archive, test_seed(), 2, 1'000'000);
  c.start_all();
  w.must({"--home", c.home(0), "publish", archive.string()});

  // One Tier-1 holds it: the original holder x.
  std::optional<nlohmann::json> v;
  REQUIRE(wait_until(
      [&] {
        v = verdict(w, c.home(0));
        return v && (*v)["status"] == "compliant" && (*v)["holders"].size() == 1;
      },
      std::chrono::seconds(120), std::chrono::milliseconds(100)));
  const std::string original = (*v)["holders"][0].get<std::string>();
  const std::size_t x = index_of(sites, original), y = x == 1 ? 2 : 1;
  REQUIRE(drs_state(c.home(x), archive) == "complete");

  // x stops; past the grace period y repairs the version.
  c.stop(x);
  REQUIRE(wait_until(
      [&] {
        v = verdict(w, c.home(0));
        return v && (*v)["status"] == "compliant" && (*v)["holders"].size() == 1 && (*v)["holders"][0] == sites[y];
      },
      std::chrono::seconds(120), std::chrono::milliseconds(100)));
  REQUIRE(drs_state(c.home(y), archive) == "complete");
  MESSAGE("original holder " << original << " stopped; repaired at " << sites[y]);

  // x comes back with its copy. Both count for a moment; after the settle period y
  // releases its copy: directory gone, its local row dropped, its "dropped" record
  // everywhere, x's copy the one left.
  c.start(x);
  const bool released = wait_until(
      [&] {
        auto records = replica_records(c.home(0));
        return records[sites[y]] == "dropped" && records[original] == "complete" &&
               drs_state(c.home(y), archive) == "absent";
      },
      std::chrono::seconds(90), std::chrono::milliseconds(200));
  INFO("records at the primary: " << nlohmann::json(replica_records(c.home(0))).dump());
  REQUIRE(released);
  CHECK(drs_state(c.home(x), archive) == "complete");
  CHECK(holds_nothing(c.home(y)));
  auto t = transfers(w, c.home(y));
  REQUIRE(t.has_value());
  CHECK_FALSE(row_of(*t).has_value());  // no longer seeded
  for (std::size_t i = 0; i < c.size(); ++i) {
    INFO("node " << sites[i]);
    REQUIRE(wait_until(
        [&] {
          auto r = verdict(w, c.home(i));
          return r && (*r)["status"] == "compliant" && (*r)["holders"].size() == 1 && (*r)["holders"][0] == original;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(100)));
  }
  for (std::size_t i = 0; i < c.size(); ++i) c.stop(i);
  // The local row says why (read with the node stopped).
  auto h = NodeHome::open(c.home(y));
  REQUIRE(h.ok());
  auto cat = h->open_catalog(true);
  REQUIRE(cat.ok());
  auto local = (*cat)->local(kInstance);
  REQUIRE(local.ok());
  REQUIRE(local->has_value());
  CHECK((*local)->state == LocalState::dropped);
  CHECK((*local)->path.empty());
  CHECK((*local)->last_error.find("surplus") != std::string::npos);
}
