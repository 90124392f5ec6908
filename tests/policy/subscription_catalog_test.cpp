// Subscription::matches and SubscriptionPlan agree with the catalog's search (the
// semantics `subscribe list` shows and `search` uses) on a random real catalog.
#include <doctest/doctest.h>

#include <set>

#include "../storage/CatalogWorld.hpp"
#include "fedswarm/policy/Subscription.hpp"
#include "fedswarm/policy/SubscriptionPlan.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

std::vector<SearchDoc> everything(Catalog& cat) {
  SearchQuery q;
  q.all_versions = true;
  q.include_retracted = true;
  q.limit = 1u << 20;
  auto r = cat.search(q);
  REQUIRE(r.ok());
  return r->docs;
}

std::set<std::string> search_ids(Catalog& cat, const Subscription& s) {
  SearchQuery q;
  q.constraints = s.search_constraints();
  q.limit = 1u << 20;
  auto r = cat.search(q);
  REQUIRE(r.ok());
  std::set<std::string> out;
  for (const auto& d : r->docs) out.insert(d.instance_id());
  return out;
}

}  // namespace

TEST_CASE("subscriptions match exactly what the catalog's search finds (latest, unretracted)") {
  const std::uint64_t seed = test_seed();
  MESSAGE("seed " << seed);
  CatalogWorld w;
  w.rng.seed(seed);
  std::mt19937_64& rng = w.rng;
  const std::vector<std::vector<Facet>> extras{{{"frequency", {"mon"}}, {"realm", {"atmos"}}},
                                               {{"frequency", {"day"}}, {"realm", {"atmos", "land"}}},
                                               {{"frequency", {"mon"}}, {"realm", {"ocean"}}}};
  std::vector<Manifest> published;
  for (int d = 0; d < 60; ++d) {
    DatasetSpec spec = factory().random_dataset(rng);
    const auto& extra = extras[rng() % extras.size()];
    std::string previous;
    for (int v = 0, n = 1 + static_cast<int>(rng() % 3); v < n; ++v) {
      Manifest m = factory().make(spec, version_string(100 * d + 10 * v), 1, rng, extra, previous);
      REQUIRE(w.publish(w.ncar, m).outcome == IngestOutcome::stored);
      previous = m.version;
      published.push_back(m);
    }
  }
  for (const auto& m : published)
    if (rng() % 8 == 0) REQUIRE(w.ingest(w.retraction_record(w.ncar, m.dataset_id, m.version)).outcome == IngestOutcome::stored);

  std::vector<SubscriptionCandidate> candidates;
  for (const auto& doc : everything(*w.cat)) candidates.push_back(SubscriptionCandidate::from(doc, false));
  REQUIRE(candidates.size() == published.size());

  const std::vector<std::string> facets{"experiment_id", "table_id", "variable_id", "institution_id", "source_id",
                                        "frequency",     "realm",    "master_id",   "activity_id",    "data_node"};
  std::size_t nonempty = 0;
  for (int round = 0; round < 150; ++round) {
    std::string text;
    for (int i = 0, n = 1 + static_cast<int>(rng() % 3); i < n; ++i) {
      const Manifest& m = published[rng() % published.size()];
      const std::string& f = facets[rng() % facets.size()];
      std::string value;
      if (f == "master_id") value = m.dataset_id;
      else if (f == "data_node") value = rng() % 2 ? "ncar" : "ipsl";
      else value = m.facet(f)->at(rng() % m.facet(f)->size());
      text += f + "=" + value + " ";
    }
    auto c = parse_constraints(text);
    REQUIRE(c.ok());
    Subscription s{"s", *c, std::nullopt, 0};
    CAPTURE(text);
    std::set<std::string> expected = search_ids(*w.cat, s);
    std::set<std::string> got;
    for (const auto& cand : candidates)
      if (cand.latest && !cand.retracted && s.matches(cand.dataset_id, cand.facets)) got.insert(cand.instance_id());
    CHECK(got == expected);
    auto plan = plan_subscriptions(std::vector<Subscription>{s}, candidates, {});
    std::set<std::string> wanted;
    for (const auto& p : plan.wanted) wanted.insert(p.instance_id);
    CHECK(wanted == expected);
    nonempty += !expected.empty();
  }
  CHECK(nonempty > 30);
}
