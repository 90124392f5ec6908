#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "TestSupport.hpp"
#include "fedswarm/policy/RetractionDecision.hpp"
#include "fedswarm/policy/Subscription.hpp"
#include "fedswarm/policy/SubscriptionPlan.hpp"

using namespace fedswarm;

namespace {

Subscription sub(const std::string& name, const std::string& text, std::optional<std::uint64_t> quota = std::nullopt,
                 std::int64_t priority = 0) {
  auto c = parse_constraints(text);
  REQUIRE_MESSAGE(c.ok(), c.error().message);
  return Subscription{name, std::move(*c), quota, priority};
}

std::string reason_of(std::string_view text) {
  auto c = parse_constraints(text);
  return c.ok() ? std::string("ok") : c.error().reason;
}

SubscriptionCandidate cand(const std::string& dataset, const std::string& version, std::vector<Facet> facets,
                           std::uint64_t size, std::int64_t published_at, bool latest = true, bool retracted = false,
                           bool held = false) {
  SubscriptionCandidate c;
  c.dataset_id = dataset;
  c.version = version;
  c.facets = std::move(facets);
  c.size = size;
  c.published_at = published_at;
  c.latest = latest;
  c.retracted = retracted;
  c.held = held;
  return c;
}

std::vector<std::string> wanted_ids(const SubscriptionPlan& p) {
  std::vector<std::string> out;
  for (const auto& w : p.wanted) out.push_back(w.instance_id);
  return out;
}

// The search semantics stated the long way round: a subscription is the OR of every
// conjunction that picks one value per facet; a version matches if it has all pairs of
// at least one conjunction.
bool brute_force_match(const Subscription& s, const std::string& dataset_id, const std::vector<Facet>& facets) {
  std::vector<std::vector<std::pair<std::string, std::string>>> conjunctions{{}};
  for (const auto& c : s.constraints) {
    std::vector<std::vector<std::pair<std::string, std::string>>> next;
    for (const auto& partial : conjunctions)
      for (const auto& v : c.values) {
        auto p = partial;
        p.emplace_back(c.facet, v);
        next.push_back(std::move(p));
      }
    conjunctions = std::move(next);
  }
  auto has = [&](const std::pair<std::string, std::string>& pair) {
    if (pair.first == "master_id") return pair.second == dataset_id;
    for (const auto& f : facets)
      if (f.name == pair.first && std::count(f.values.begin(), f.values.end(), pair.second)) return true;
    return false;
  };
  for (const auto& conj : conjunctions)
    if (std::all_of(conj.begin(), conj.end(), has)) return true;
  return false;
}

}  // namespace

TEST_CASE("subscription constraints parse to a canonical form") {
  auto a = parse_constraints("table_id=Amon  experiment_id=historical\tvariable_id=tas variable_id=pr variable_id=tas");
  REQUIRE(a.ok());
  REQUIRE(a->size() == 3);
  CHECK((*a)[0] == FacetConstraint{"experiment_id", {"historical"}});
  CHECK((*a)[1] == FacetConstraint{"table_id", {"Amon"}});
  CHECK((*a)[2] == FacetConstraint{"variable_id", {"pr", "tas"}});
  Subscription s{"x", *a, std::nullopt, 0};
  CHECK(s.constraints_text() == "experiment_id=historical table_id=Amon variable_id=pr variable_id=tas");
  // The text form round-trips, and separate tokens mean the same as one string.
  auto again = parse_constraints(s.constraints_text());
  REQUIRE(again.ok());
  CHECK(*again == *a);
  std::vector<std::string> tokens{"variable_id=pr", "experiment_id=historical table_id=Amon", "variable_id=tas"};
  auto split = parse_constraints(std::span<const std::string>(tokens));
  REQUIRE(split.ok());
  CHECK(*split == *a);
  CHECK(s.search_constraints().size() == 4);

  auto alias = parse_constraints("dataset_id=CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr");
  REQUIRE(alias.ok());
  CHECK((*alias)[0].facet == "master_id");
  // A value may hold '=' (only the first one separates).
  auto eq = parse_constraints("further_info=a=b");
  REQUIRE(eq.ok());
  CHECK((*eq)[0].values[0] == "a=b");
}

TEST_CASE("malformed subscription constraints are refused with a reason") {
  CHECK(reason_of("") == "subscription_empty");
  CHECK(reason_of("   ") == "subscription_empty");
  CHECK(reason_of("historical") == "subscription_bad_constraint");
  CHECK(reason_of("=historical") == "subscription_bad_constraint");
  CHECK(reason_of("experiment_id=") == "subscription_bad_constraint");
  CHECK(reason_of("experiment-id=historical") == "subscription_bad_facet_name");
  CHECK(reason_of("version=v20190101") == "subscription_pinned_version");
  CHECK(reason_of("instance_id=X.v20190101") == "subscription_pinned_version");
  CHECK(reason_of(std::string("experiment_id=hist\x01orical")) == "subscription_bad_value");
  CHECK(reason_of("experiment_id=" + std::string(kMaxSubscriptionValueBytes + 1, 'a')) == "subscription_bad_value");
  std::string many;
  for (std::size_t i = 0; i <= kMaxSubscriptionConstraints; ++i) many += "variable_id=v" + std::to_string(i) + " ";
  CHECK(reason_of(many) == "subscription_too_many");
}

TEST_CASE("subscription names and default names") {
  CHECK(validate_subscription_name("hist-Amon_2.x").ok());
  for (const char* bad : {"", "-x", ".x", "a b", "a/b", "é"}) CHECK(validate_subscription_name(bad).error().reason == "subscription_bad_name");
  CHECK(validate_subscription_name(std::string(kMaxSubscriptionNameBytes + 1, 'a')).error().reason == "subscription_bad_name");

  auto c = parse_constraints("experiment_id=historical table_id=Amon");
  REQUIRE(c.ok());
  std::vector<std::string> taken;
  std::string first = default_subscription_name(*c, taken);
  CHECK(first == "historical-Amon");
  taken.push_back(first);
  CHECK(default_subscription_name(*c, taken) == "historical-Amon-2");
  taken.push_back("historical-Amon-2");
  CHECK(default_subscription_name(*c, taken) == "historical-Amon-3");
  auto odd = parse_constraints("master_id=.x/y variable_id=" + std::string(200, 'v'));
  REQUIRE(odd.ok());
  std::string n = default_subscription_name(*odd, {});
  CHECK(validate_subscription_name(n).ok());
}

TEST_CASE("subscription facets are checked against the project templates") {
  const ProjectRegistry& projects = ProjectRegistry::builtin();
  auto check = [&](const std::string& text) {
    auto c = parse_constraints(text);
    REQUIRE(c.ok());
    auto st = check_facets(*c, projects);
    return st.ok() ? std::string("ok") : st.error().reason;
  };
  CHECK(check("experiment_id=historical table_id=Amon variable_id=tas") == "ok");
  CHECK(check("member_id=r1i1p1f1 variant_label=r2i1p1f1 grid_label=gn") == "ok");
  CHECK(check("project=CMIP6 data_node=IPSL frequency=mon realm=atmos") == "ok");
  CHECK(check("dataset_id=CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr") == "ok");
  CHECK(check("experiment=historical") == "subscription_unknown_facet");
  CHECK(check("experiment_id=histrical") == "subscription_unknown_value");
  CHECK(check("source_id=ipsl-cm6a-lr") == "subscription_unknown_value");
  CHECK(check("project=NOPE") == "subscription_unknown_value");
  CHECK(check("master_id=CMIP6.not.a.dataset") == "subscription_bad_value");
  auto c = parse_constraints("experimnt_id=historical");
  REQUIRE(c.ok());
  auto st = check_facets(*c, projects);
  CHECK(st.error().message.find("experiment_id") != std::string::npos);  // lists the known facets
}

TEST_CASE("matching: AND across facets, OR within one, identical to the brute-force expansion") {
  const std::uint64_t seed = test::test_seed();
  MESSAGE("seed " << seed);
  std::mt19937_64 rng(seed);
  const std::vector<std::string> names{"experiment_id", "table_id", "variable_id", "realm", "master_id"};
  const std::vector<std::string> values{"a", "b", "c", "d"};
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  std::size_t positives = 0;
  for (int round = 0; round < 3000; ++round) {
    // A version: some facets with 1..2 values (realm is multi-valued in CMIP6), some absent.
    std::vector<Facet> facets;
    for (std::size_t f = 0; f + 1 < names.size(); ++f) {
      if (pick(5) == 0) continue;
      Facet x{names[f], {values[pick(values.size())]}};
      if (pick(3) == 0) x.values.push_back(values[pick(values.size())]);
      facets.push_back(std::move(x));
    }
    std::string dataset_id = "ds-" + values[pick(values.size())];
    std::string text;
    std::size_t pairs = 1 + pick(5);
    for (std::size_t i = 0; i < pairs; ++i) {
      std::string facet = names[pick(names.size())];
      text += facet + "=" + (facet == "master_id" ? "ds-" : "") + values[pick(values.size())] + " ";
    }
    Subscription s = sub("s", text);
    bool expected = brute_force_match(s, dataset_id, facets);
    CAPTURE(text);
    CAPTURE(dataset_id);
    CHECK(s.matches(dataset_id, facets) == expected);
    positives += expected;
  }
  CHECK(positives > 100);  // the generator exercises both outcomes
}

TEST_CASE("matching a manifest: its facets, project, version and the data node") {
  Manifest m;
  m.project = "CMIP6";
  m.dataset_id = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr";
  m.version = "v20190101";
  m.facets = {{"experiment_id", {"historical"}}, {"table_id", {"Amon"}}, {"realm", {"atmos", "land"}}};
  CHECK(sub("a", "experiment_id=historical realm=land").matches(m));
  CHECK(sub("a", "project=CMIP6 master_id=" + m.dataset_id).matches(m));
  CHECK_FALSE(sub("a", "project=CMIP5 experiment_id=historical").matches(m));
  CHECK_FALSE(sub("a", "data_node=IPSL").matches(m));
  CHECK(sub("a", "data_node=IPSL data_node=DKRZ").matches(m, "IPSL"));
  CHECK_FALSE(sub("a", "experiment_id=historical table_id=Omon").matches(m));
}

TEST_CASE("plan: only latest unretracted versions are wanted, held ones are kept without charge") {
  std::vector<Subscription> subs{sub("hist", "experiment_id=historical")};
  std::vector<Facet> hist{{"experiment_id", {"historical"}}};
  std::vector<SubscriptionCandidate> c{
      cand("A", "v1", hist, 10, 1, /*latest*/ false),                       // superseded
      cand("A", "v2", hist, 10, 2),                                         // latest
      cand("B", "v1", hist, 10, 3, /*latest*/ false, /*retracted*/ true),   // retracted
      cand("C", "v1", {{"experiment_id", {"ssp585"}}}, 10, 4),              // not matching
      cand("D", "v1", hist, 50, 5, true, false, /*held*/ true),             // held
      cand("A", "v2", hist, 10, 2),                                         // duplicate
  };
  auto plan = plan_subscriptions(subs, c, {{"hist", 50}});
  CHECK(wanted_ids(plan) == std::vector<std::string>{"D.v1", "A.v2"});
  CHECK(plan.wanted[0].held);
  CHECK_FALSE(plan.wanted[1].held);
  CHECK(plan.over_quota.empty());
  REQUIRE(plan.summaries.size() == 1);
  CHECK(plan.summaries[0].matched_versions == 2);
  CHECK(plan.summaries[0].matched_bytes == 60);
  CHECK(plan.summaries[0].held_versions == 1);
  CHECK(plan.summaries[0].fetch_bytes == 10);
  CHECK(plan.summaries[0].used_bytes == 60);
  CHECK(plan.wants("A.v2"));
  CHECK_FALSE(plan.wants("A.v1"));
  // Usage charges held versions of any status to the first matching subscription.
  auto usage = subscription_usage(subs, std::vector<SubscriptionCandidate>{cand("A", "v1", hist, 7, 1, false, false, true),
                                                                            cand("D", "v1", hist, 50, 5, true, false, true)});
  CHECK(usage.at("hist") == 57);
}

TEST_CASE("plan: a quota fills oldest first, first fit, and a lower priority may take what did not fit") {
  std::vector<Facet> hist{{"experiment_id", {"historical"}}, {"table_id", {"Amon"}}};
  std::vector<SubscriptionCandidate> c{
      cand("E", "v1", hist, 40, 5),
      cand("A", "v1", hist, 30, 1),
      cand("B", "v1", hist, 50, 2),
      cand("C", "v1", hist, 20, 3),
      cand("D", "v1", {{"experiment_id", {"historical"}}, {"table_id", {"Omon"}}}, 30, 4),
  };
  SUBCASE("one subscription") {
    std::vector<Subscription> subs{sub("hist", "experiment_id=historical", 100)};
    auto plan = plan_subscriptions(subs, c, {{"hist", 10}});
    // 10 used: A(30) → 40, B(50) → 90, C(20) would be 110: skipped, D(30) skipped, E(40) skipped.
    CHECK(wanted_ids(plan) == std::vector<std::string>{"A.v1", "B.v1"});
    CHECK(plan.over_quota.size() == 3);
    CHECK(plan.summaries[0].used_bytes == 90);
    CHECK(plan.summaries[0].over_quota_bytes == 90);
    // Without prior usage, C fits after A and B (first fit), E does not.
    auto fresh = plan_subscriptions(subs, c, {});
    CHECK(wanted_ids(fresh) == std::vector<std::string>{"A.v1", "B.v1", "C.v1"});
  }
  SUBCASE("priority decides the order and who is charged") {
    std::vector<Subscription> subs{sub("all", "experiment_id=historical", 60, 0), sub("omon", "table_id=Omon", std::nullopt, 5),
                                   sub("amon", "table_id=Amon", 50, 1)};
    auto plan = plan_subscriptions(subs, c, {});
    // omon (5) first: D. amon (1): A(30), B no, C(20) → 50, E no. all (0): B(50) fits 60, E no.
    CHECK(wanted_ids(plan) == std::vector<std::string>{"D.v1", "A.v1", "C.v1", "B.v1"});
    REQUIRE(plan.summaries.size() == 3);
    CHECK(plan.summaries[0].name == "omon");
    CHECK(plan.summaries[1].name == "amon");
    CHECK(plan.summaries[2].name == "all");
    CHECK(plan.wanted[3].subscription == "all");
    REQUIRE(plan.over_quota.size() == 1);
    CHECK(plan.over_quota[0].instance_id == "E.v1");
    CHECK(plan.over_quota[0].subscription == "amon");  // reported against its first match
    // A matching version counts in every matching subscription's matched total.
    CHECK(plan.summaries[2].matched_versions == 5);
  }
  SUBCASE("a quota below the usage stops new fetches but keeps what is held") {
    auto held = c;
    held[1].held = true;
    std::vector<Subscription> subs{sub("hist", "experiment_id=historical", 10)};
    auto plan = plan_subscriptions(subs, held, {{"hist", 30}});
    CHECK(wanted_ids(plan) == std::vector<std::string>{"A.v1"});
    CHECK(plan.over_quota.size() == 4);
  }
}

TEST_CASE("plan: invariants over random inputs") {
  const std::uint64_t seed = test::test_seed();
  MESSAGE("seed " << seed);
  std::mt19937_64 rng(seed);
  auto pick = [&](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); };
  const std::vector<std::string> exps{"historical", "ssp585", "piControl"};
  const std::vector<std::string> tables{"Amon", "Omon", "day"};
  for (int round = 0; round < 200; ++round) {
    std::vector<Subscription> subs;
    for (std::uint64_t i = 0, n = 1 + pick(4); i < n; ++i) {
      std::string text = "experiment_id=" + exps[pick(3)];
      if (pick(2)) text += " table_id=" + tables[pick(3)];
      if (pick(2)) text += " experiment_id=" + exps[pick(3)];
      std::optional<std::uint64_t> quota;
      if (pick(3)) quota = pick(400);
      subs.push_back(sub("s" + std::to_string(i), text, quota, static_cast<std::int64_t>(pick(3))));
    }
    std::vector<SubscriptionCandidate> cands;
    for (std::uint64_t i = 0, n = pick(40); i < n; ++i)
      cands.push_back(cand("D" + std::to_string(pick(30)), "v" + std::to_string(pick(3)),
                           {{"experiment_id", {exps[pick(3)]}}, {"table_id", {tables[pick(3)]}}}, 1 + pick(100),
                           static_cast<std::int64_t>(pick(50)), pick(4) != 0, pick(6) == 0, pick(5) == 0));
    SubscriptionUsage usage = subscription_usage(subs, cands);
    auto plan = plan_subscriptions(subs, cands, usage);

    std::map<std::string, const Subscription*> by_name;
    for (const auto& s : subs) by_name[s.name] = &s;
    std::map<std::string, const SubscriptionCandidate*> by_id;
    for (const auto& c : cands) by_id.emplace(c.instance_id(), &c);
    std::map<std::string, std::uint64_t> charged;
    std::set<std::string> seen;
    for (const auto& w : plan.wanted) {
      const SubscriptionCandidate& c = *by_id.at(w.instance_id);
      CHECK(seen.insert(w.instance_id).second);  // once
      CHECK(c.latest);
      CHECK_FALSE(c.retracted);
      CHECK(w.held == c.held);
      CHECK(by_name.at(w.subscription)->matches(c.dataset_id, c.facets));
      if (!w.held) charged[w.subscription] += c.size;
    }
    for (const auto& s : plan.summaries) {
      const Subscription& def = *by_name.at(s.name);
      std::uint64_t before = usage.count(s.name) ? usage.at(s.name) : 0;
      CHECK(s.used_bytes == before + charged[s.name]);
      if (def.quota && charged[s.name] > 0) CHECK(s.used_bytes <= *def.quota);
    }
    // Nothing left out could still fit in any subscription that matches it.
    for (const auto& o : plan.over_quota) {
      const SubscriptionCandidate& c = *by_id.at(o.instance_id);
      CHECK_FALSE(seen.count(o.instance_id));
      for (const auto& s : plan.summaries) {
        const Subscription& def = *by_name.at(s.name);
        if (!def.matches(c.dataset_id, c.facets)) continue;
        REQUIRE(def.quota);
        CHECK(s.used_bytes + c.size > *def.quota);
      }
    }
    // Every eligible matched version is either wanted or over quota.
    for (const auto& [id, c] : by_id) {
      bool matched = std::any_of(subs.begin(), subs.end(), [&](const Subscription& s) { return s.matches(c->dataset_id, c->facets); });
      if (c->latest && !c->retracted && matched) CHECK(seen.count(id) + std::count_if(plan.over_quota.begin(), plan.over_quota.end(), [&](const PlannedVersion& p) { return p.instance_id == id; }) == 1);
    }
  }
}

TEST_CASE("retraction decisions") {
  VersionInfo v;
  v.dataset_id = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr";
  v.version = "v20190101";
  LocalReplica complete{v.instance_id(), LocalState::complete, "/data/x", "", {}, 0, 0};

  // Not retracted: nothing.
  auto d = decide_retraction(RetractionHandling::remove, v, complete, false);
  CHECK(d.step == RetractionStep::none);
  CHECK_FALSE(d.stop_offering);
  CHECK(decide_retraction(RetractionHandling::remove, std::nullopt, complete, false).step == RetractionStep::none);

  v.status = VersionStatus::retracted;
  v.retraction = RetractionInfo{{}, "bad", "e-1", 1};
  struct Row {
    RetractionHandling h;
    bool primary;
    RetractionStep step;
    LocalState state;
    bool record;
  };
  for (const Row& r : {Row{RetractionHandling::keep, false, RetractionStep::flag, LocalState::complete, false},
                       Row{RetractionHandling::keep, true, RetractionStep::flag, LocalState::complete, false},
                       Row{RetractionHandling::quarantine, false, RetractionStep::quarantine, LocalState::quarantined, false},
                       Row{RetractionHandling::quarantine, true, RetractionStep::flag, LocalState::complete, false},
                       Row{RetractionHandling::remove, false, RetractionStep::remove, LocalState::dropped, true},
                       Row{RetractionHandling::remove, true, RetractionStep::remove, LocalState::dropped, true}}) {
    CAPTURE(to_string(r.h));
    CAPTURE(r.primary);
    auto x = decide_retraction(r.h, v, complete, r.primary);
    CHECK(x.step == r.step);
    CHECK(x.new_state == r.state);
    CHECK(x.drop_record == r.record);
    CHECK(x.stop_offering);
    CHECK_FALSE(x.why.empty());
  }
  // Unfinished transfers are cancelled whatever the handling.
  for (LocalState s : {LocalState::wanted, LocalState::transferring, LocalState::verifying, LocalState::paused}) {
    LocalReplica l = complete;
    l.state = s;
    auto x = decide_retraction(RetractionHandling::keep, v, l, false);
    CHECK(x.step == RetractionStep::cancel);
    CHECK(x.new_state == LocalState::dropped);
    CHECK_FALSE(x.drop_record);
  }
  // Idempotent: handled states need nothing, except an unfinished deletion.
  LocalReplica q = complete;
  q.state = LocalState::quarantined;
  CHECK(decide_retraction(RetractionHandling::quarantine, v, q, false).step == RetractionStep::none);
  LocalReplica dropped = complete;
  dropped.state = LocalState::dropped;
  auto again = decide_retraction(RetractionHandling::remove, v, dropped, false);
  CHECK(again.step == RetractionStep::remove);
  CHECK_FALSE(again.drop_record);
  dropped.path.clear();
  CHECK(decide_retraction(RetractionHandling::remove, v, dropped, false).step == RetractionStep::none);
}
