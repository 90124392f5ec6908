// Catalog search semantics (SearchQuery.hpp) checked against a brute-force filter over
// a model of the same randomly generated catalog: AND across facets, OR within one,
// latest / all versions, retracted hidden / included, facet counts, num_found and pages.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "CatalogWorld.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

// Real facet values with their ESGF frequencies (fixtures/esgf_search).
class FacetSampler {
 public:
  FacetSampler() {
    auto j = nlohmann::json::parse(read_file(fixtures_dir() / "esgf_search" / "cmip6_facet_counts.json"));
    for (const char* facet : {"frequency", "realm", "nominal_resolution", "source_type", "cf_standard_name"}) {
      Dist d;
      for (auto it = j["facets"][facet].begin(); it != j["facets"][facet].end(); ++it) {
        d.values.push_back(it.key());
        d.weights.push_back(std::max(1.0, it.value().get<double>()));
      }
      dists_.emplace(facet, std::move(d));
    }
  }
  std::string sample(const std::string& facet, std::mt19937_64& rng) const {
    const Dist& d = dists_.at(facet);
    std::discrete_distribution<std::size_t> pick(d.weights.begin(), d.weights.end());
    return d.values[pick(rng)];
  }
  // Descriptive facets of one dataset; realm and source_type may hold several values.
  std::vector<Facet> extra(std::mt19937_64& rng) const {
    std::vector<Facet> out;
    for (const char* f : {"frequency", "nominal_resolution", "cf_standard_name"}) out.push_back({f, {sample(f, rng)}});
    for (const char* f : {"realm", "source_type"}) {
      std::set<std::string> values;
      for (std::size_t n = 1 + rng() % 3, i = 0; i < n; ++i) values.insert(sample(f, rng));
      out.push_back({f, {values.begin(), values.end()}});
    }
    return out;
  }

 private:
  struct Dist {
    std::vector<std::string> values;
    std::vector<double> weights;
  };
  std::map<std::string, Dist> dists_;
};

const FacetSampler& sampler() {
  static const FacetSampler s;
  return s;
}

struct ModelDoc {
  std::string dataset_id;
  std::string version;
  std::map<std::string, std::set<std::string>> facets;
  bool retracted = false;
  bool latest = false;
  bool superseded = false;
  std::int64_t published_at = 0;
  std::string instance_id() const { return dataset_id + "." + version; }
};

// A random catalog and its model, built through the public API only.
struct RandomCatalog {
  CatalogWorld w;
  std::vector<ModelDoc> docs;  // in arrival (doc id) order
  std::map<std::string, std::set<std::string>> universe;

  RandomCatalog(std::uint64_t seed, std::size_t datasets) {
    std::mt19937_64 rng(seed);
    struct Pending {
      const SigningKey* key;
      RecordKind kind;
      Manifest m;
      std::string site;
    };
    // Each dataset belongs to one publisher; its versions arrive in random order.
    std::vector<Pending> plan;
    std::set<std::string> instances;
    for (std::size_t d = 0; d < datasets; ++d) {
      DatasetSpec spec = factory().random_dataset(rng);
      const bool ipsl_ok = spec.institution == "IPSL";
      const SigningKey* key = ipsl_ok && rng() % 2 ? &w.ipsl : (rng() % 2 ? &w.ncar : &w.dkrz);
      std::string site = key == &w.ipsl ? "ipsl" : key == &w.ncar ? "ncar" : "dkrz";
      auto extra = sampler().extra(rng);
      std::set<int> days;
      for (std::size_t n = 1 + rng() % 4; days.size() < n;) days.insert(static_cast<int>(rng() % 3000));
      for (int day : days) {
        Manifest m = factory().make(spec, version_string(day), 1 + rng() % 3, rng, extra);
        if (!instances.insert(m.instance_id()).second) continue;  // random ids may repeat
        plan.push_back({key, RecordKind::manifest, std::move(m), site});
      }
    }
    std::shuffle(plan.begin(), plan.end(), rng);

    // Authority retractions of a few versions before their manifest arrives.
    std::set<std::string> retracted;
    std::vector<Envelope> envs;
    for (const auto& p : plan)
      if (rng() % 50 == 0) {
        envs.push_back(w.retraction_record(w.fed.authority, p.m.dataset_id, p.m.version));
        retracted.insert(p.m.instance_id());
      }
    std::vector<std::pair<std::string, std::string>> published;  // dataset id, version
    for (const auto& p : plan) {
      envs.push_back(w.manifest_record(*p.key, p.m));
      ModelDoc doc;
      doc.dataset_id = p.m.dataset_id;
      doc.version = p.m.version;
      doc.published_at = p.m.published_at;
      for (const auto& f : p.m.facets) doc.facets[f.name].insert(f.values.begin(), f.values.end());
      doc.facets["project"] = {"CMIP6"};
      doc.facets["data_node"] = {p.site};
      doc.facets["version"] = {p.m.version};
      docs.push_back(std::move(doc));
      // ... and publisher retractions of some after it.
      if (rng() % 12 == 0) {
        envs.push_back(w.retraction_record(*p.key, p.m.dataset_id, p.m.version));
        retracted.insert(p.m.instance_id());
      }
    }
    // Ingest in batches of random size, with some neighbours swapped so gaps are parked.
    for (std::size_t i = 0; i + 1 < envs.size(); ++i)
      if (rng() % 20 == 0) std::swap(envs[i], envs[i + 1]);
    for (std::size_t i = 0; i < envs.size();) {
      std::size_t n = std::min<std::size_t>(envs.size() - i, 1 + rng() % 300);
      auto results = w.cat->ingest_batch(std::span<const Envelope>(envs.data() + i, n), CatalogWorld::kNow);
      REQUIRE_MESSAGE(results.ok(), results.error().message);
      for (const auto& r : *results) REQUIRE_MESSAGE(r.outcome != IngestOutcome::refused, r.error->message);
      i += n;
    }
    // A record that was swapped behind its successor parks the successor; with the
    // swap undone by the next ingest, every record is stored in author order. The
    // catalog's doc order is the order manifests were applied, which is the order of
    // `envs` except where a parked manifest waited for its predecessor.
    std::map<PublicKey, std::uint64_t> applied;
    std::vector<std::string> order;
    {
      std::map<PublicKey, std::map<std::uint64_t, const Envelope*>> waiting;
      for (const auto& e : envs) {
        auto& next = applied[e.author];
        waiting[e.author][e.seq] = &e;
        for (auto it = waiting[e.author].find(next + 1); it != waiting[e.author].end();
             it = waiting[e.author].find(next + 1)) {
          ++next;
          if (it->second->kind == RecordKind::manifest) order.push_back(Manifest::decode(it->second->body)->instance_id());
          waiting[e.author].erase(it);
        }
      }
    }
    std::map<std::string, ModelDoc> by_instance;
    for (auto& d : docs) by_instance.emplace(d.instance_id(), std::move(d));
    docs.clear();
    for (const auto& id : order) docs.push_back(std::move(by_instance.at(id)));
    REQUIRE(docs.size() == plan.size());

    // Status by the rules: newest unretracted = latest; older = superseded.
    std::map<std::string, std::string> newest;
    for (const auto& d : docs) newest[d.dataset_id] = std::max(newest[d.dataset_id], d.version);
    for (auto& d : docs) {
      d.retracted = retracted.count(d.instance_id()) > 0;
      d.superseded = d.version < newest[d.dataset_id];
      d.latest = !d.superseded && !d.retracted;
      for (const auto& [f, vs] : d.facets) universe[f].insert(vs.begin(), vs.end());
    }
  }

  bool visible(const ModelDoc& d, const SearchQuery& q) const {
    if (!q.all_versions ? !d.latest : !q.include_retracted && d.retracted) return false;
    for (const auto& [f, v] : q.exclusions)
      if (auto it = d.facets.find(f); it != d.facets.end() && it->second.count(v)) return false;
    if (q.not_latest && d.latest) return false;
    if (q.only_retracted && !d.retracted) return false;
    if (!q.min_version.empty() && d.version < q.min_version) return false;
    if (!q.max_version.empty() && d.version > q.max_version) return false;
    if (q.published_from && d.published_at < *q.published_from) return false;
    if (q.published_to && d.published_at > *q.published_to) return false;
    return true;
  }

  SearchResult expected(const SearchQuery& q, std::vector<const ModelDoc*>& page) const {
    std::map<std::string, std::set<std::string>> groups;
    for (const auto& [f, v] : q.constraints) groups[f].insert(v);
    std::vector<const ModelDoc*> hits;
    for (const auto& d : docs) {
      if (!visible(d, q)) continue;
      bool ok = true;
      for (const auto& [f, values] : groups) {
        if (f == "master_id" || f == "instance_id") {
          ok = values.count(f == "master_id" ? d.dataset_id : d.instance_id()) > 0;
          if (!ok) break;
          continue;
        }
        auto it = d.facets.find(f);
        ok = it != d.facets.end() &&
             std::any_of(values.begin(), values.end(), [&](const std::string& v) { return it->second.count(v) > 0; });
        if (!ok) break;
      }
      if (ok) hits.push_back(&d);
    }
    SearchResult r;
    r.num_found = hits.size();
    for (std::size_t i = q.offset; i < hits.size() && i < q.offset + q.limit; ++i) page.push_back(hits[i]);
    std::vector<std::string> names;
    for (const auto& f : q.facet_fields)
      if (f == "*")
        for (const auto& [name, values] : universe) names.push_back(name);
      else
        names.push_back(f);
    for (const auto& name : names) {
      std::map<std::string, std::uint64_t> counts;
      for (const ModelDoc* d : hits)
        if (auto it = d->facets.find(name); it != d->facets.end())
          for (const auto& v : it->second) ++counts[v];
      FacetCounts fc{name, {}};
      for (const auto& [v, n] : counts) fc.counts.push_back({v, n});
      r.facet_counts.push_back(std::move(fc));
    }
    return r;
  }

  SearchQuery random_query(std::mt19937_64& rng) const {
    SearchQuery q;
    q.all_versions = rng() % 3 != 0;
    q.include_retracted = rng() % 2;
    std::vector<std::string> names;
    for (const auto& [f, v] : universe) names.push_back(f);
    for (std::size_t k = rng() % 4, i = 0; i < k; ++i) {
      const std::string& facet = rng() % 25 == 0 ? std::string("no_such_facet") : names[rng() % names.size()];
      for (std::size_t n = 1 + (rng() % 3 == 0 ? rng() % 3 : 0), j = 0; j < n; ++j) {
        std::string value;
        if (rng() % 20 == 0 || !universe.count(facet)) {
          value = "no-such-value";
        } else if (rng() % 2) {
          // A value of a random document: most such queries match something.
          const auto& d = docs[rng() % docs.size()];
          auto it = d.facets.find(facet);
          value = it == d.facets.end() ? "absent" : *std::next(it->second.begin(), static_cast<long>(rng() % it->second.size()));
        } else {
          const auto& vs = universe.at(facet);
          value = *std::next(vs.begin(), static_cast<long>(rng() % vs.size()));
        }
        q.constraints.emplace_back(facet, value);
      }
    }
    // Identity constraints (esg-search master_id / instance_id), sometimes two values.
    if (rng() % 5 == 0) {
      const char* name = rng() % 2 ? "master_id" : "instance_id";
      for (std::size_t n = 1 + rng() % 2, j = 0; j < n; ++j) {
        const auto& d = docs[rng() % docs.size()];
        q.constraints.emplace_back(name, rng() % 15 == 0 ? std::string("no-such-dataset")
                                         : std::string(name) == "master_id" ? d.dataset_id : d.instance_id());
      }
    }
    add_random_filters(q, rng);
    switch (rng() % 4) {
      case 0: q.facet_fields = {"*"}; break;
      case 1: break;
      default:
        for (std::size_t k = 1 + rng() % 4, i = 0; i < k; ++i) q.facet_fields.push_back(names[rng() % names.size()]);
        if (rng() % 5 == 0) q.facet_fields.push_back("no_such_facet");
    }
    q.limit = rng() % 4 == 0 ? 0 : 1 + rng() % 40;
    q.offset = rng() % 3 == 0 ? rng() % 200 : 0;
    return q;
  }

  // Filters (exclusions, latest/retracted restrictions, version and time ranges), each
  // in about a fifth of the queries.
  void add_random_filters(SearchQuery& q, std::mt19937_64& rng) const {
    if (rng() % 5 == 0) {
      std::vector<std::string> names;
      for (const auto& [f, v] : universe) names.push_back(f);
      for (std::size_t n = 1 + rng() % 2, j = 0; j < n; ++j) {
        const auto& d = docs[rng() % docs.size()];
        const std::string& f = rng() % 20 == 0 ? std::string("no_such_facet") : names[rng() % names.size()];
        auto it = d.facets.find(f);
        q.exclusions.emplace_back(f, it == d.facets.end() ? std::string("absent") : *it->second.begin());
      }
    }
    if (rng() % 8 == 0) q.not_latest = true;
    if (rng() % 8 == 0) q.only_retracted = true;
    if (rng() % 5 == 0) q.min_version = docs[rng() % docs.size()].version;
    if (rng() % 5 == 0) q.max_version = docs[rng() % docs.size()].version;
    if (rng() % 5 == 0) q.published_from = docs[rng() % docs.size()].published_at;
    if (rng() % 5 == 0) q.published_to = docs[rng() % docs.size()].published_at;
  }

  void check(const SearchQuery& q) const {
    std::vector<const ModelDoc*> page;
    SearchResult want = expected(q, page);
    auto got = w.cat->search(q);
    REQUIRE_MESSAGE(got.ok(), got.error().message);
    CHECK(got->num_found == want.num_found);
    REQUIRE(got->docs.size() == page.size());
    for (std::size_t i = 0; i < page.size(); ++i) {
      const SearchDoc& d = got->docs[i];
      CHECK(d.instance_id() == page[i]->instance_id());
      CHECK(d.latest == page[i]->latest);
      CHECK(d.retracted == page[i]->retracted);
      CHECK(d.superseded == page[i]->superseded);
      CHECK(d.data_node == *page[i]->facets.at("data_node").begin());
      std::map<std::string, std::set<std::string>> facets;
      for (const auto& f : d.facets) facets[f.name].insert(f.values.begin(), f.values.end());
      CHECK(facets == page[i]->facets);
    }
    REQUIRE(got->facet_counts.size() == want.facet_counts.size());
    for (std::size_t i = 0; i < want.facet_counts.size(); ++i) {
      INFO("facet " << want.facet_counts[i].facet);
      CHECK(got->facet_counts[i].facet == want.facet_counts[i].facet);
      const auto& a = got->facet_counts[i].counts;
      const auto& b = want.facet_counts[i].counts;
      REQUIRE(a.size() == b.size());
      for (std::size_t j = 0; j < a.size(); ++j) {
        CHECK(a[j].value == b[j].value);
        CHECK(a[j].count == b[j].count);
      }
    }
  }
};

std::string describe(const SearchQuery& q) {
  std::string s = "all_versions=" + std::to_string(q.all_versions) + " include_retracted=" + std::to_string(q.include_retracted) +
                  " limit=" + std::to_string(q.limit) + " offset=" + std::to_string(q.offset) + " constraints:";
  for (const auto& [f, v] : q.constraints) s += " " + f + "=" + v;
  s += " facets:";
  for (const auto& f : q.facet_fields) s += " " + f;
  for (const auto& [f, v] : q.exclusions) s += " " + f + "!=" + v;
  if (q.not_latest) s += " not_latest";
  if (q.only_retracted) s += " only_retracted";
  if (!q.min_version.empty()) s += " min_version=" + q.min_version;
  if (!q.max_version.empty()) s += " max_version=" + q.max_version;
  if (q.published_from) s += " from=" + std::to_string(*q.published_from);
  if (q.published_to) s += " to=" + std::to_string(*q.published_to);
  return s;
}

void run_random(std::size_t datasets, std::size_t queries) {
  const std::uint64_t seed = test_seed();
  MESSAGE("seed " << seed << " (rerun with FEDSWARM_SEED=" << seed << ")");
  RandomCatalog rc(seed, datasets);
  std::mt19937_64 rng(seed ^ 0x5eed);
  // The whole-view queries answered from counters, for each view.
  for (int view = 0; view < 3; ++view) {
    SearchQuery q;
    q.all_versions = view > 0;
    q.include_retracted = view > 1;
    q.facet_fields = {"*"};
    q.limit = 25;
    for (std::size_t offset : {std::size_t{0}, std::size_t{7}, rc.docs.size() / 2, rc.docs.size()}) {
      q.offset = offset;
      INFO(describe(q));
      rc.check(q);
    }
  }
  // Filters without constraints: the whole view narrowed row by row.
  for (int i = 0; i < 12; ++i) {
    SearchQuery q;
    q.all_versions = i % 3 != 0;
    q.include_retracted = i % 2;
    q.facet_fields = {"*"};
    q.limit = 30;
    rc.add_random_filters(q, rng);
    INFO(describe(q));
    rc.check(q);
  }
  for (std::size_t i = 0; i < queries; ++i) {
    SearchQuery q = rc.random_query(rng);
    INFO("query " << i << ": " << describe(q));
    rc.check(q);
  }
}

}  // namespace

TEST_CASE("search matches a brute-force filter on random catalogs") {
  SUBCASE("a few dozen versions") { run_random(20, 300); }
  SUBCASE("about a thousand versions") { run_random(450, 400); }
}

TEST_CASE("search pages across flag blocks of a catalog of ~10,000 versions") {
  run_random(4000, 60);
}

TEST_CASE("OR within a facet, AND across facets, on a hand-made catalog") {
  CatalogWorld w;
  DatasetSpec a = ipsl_tas(), b = ipsl_tas(), c = ncar_pr();
  b.variable = "pr";
  std::vector<Facet> atmos_land = {{"realm", {"atmos", "land"}}}, ocean = {{"realm", {"ocean"}}};
  REQUIRE(w.ingest(w.manifest_record(w.ipsl, factory().make(a, "v20180101", 2, w.rng, atmos_land))).outcome == IngestOutcome::stored);
  REQUIRE(w.ingest(w.manifest_record(w.ipsl, factory().make(b, "v20180101", 2, w.rng, ocean))).outcome == IngestOutcome::stored);
  REQUIRE(w.ingest(w.manifest_record(w.ncar, factory().make(c, "v20180101", 2, w.rng, atmos_land))).outcome == IngestOutcome::stored);
  auto found = [&](std::vector<std::pair<std::string, std::string>> cons) {
    SearchQuery q;
    q.constraints = std::move(cons);
    q.facet_fields = {"realm", "data_node"};
    auto r = w.cat->search(q);
    REQUIRE(r.ok());
    return *r;
  };
  CHECK(found({{"variable_id", "tas"}, {"variable_id", "pr"}}).num_found == 3);
  CHECK(found({{"variable_id", "tas"}, {"institution_id", "NCAR"}}).num_found == 0);
  CHECK(found({{"realm", "land"}, {"realm", "ocean"}}).num_found == 3);
  CHECK(found({{"realm", "land"}, {"data_node", "ipsl"}}).num_found == 1);
  auto r = found({{"realm", "atmos"}});
  REQUIRE(r.num_found == 2);
  REQUIRE(r.facet_counts.size() == 2);
  CHECK(r.facet_counts[0].facet == "realm");
  REQUIRE(r.facet_counts[0].counts.size() == 2);
  CHECK(r.facet_counts[0].counts[0].value == "atmos");
  CHECK(r.facet_counts[0].counts[0].count == 2);
  CHECK(r.facet_counts[0].counts[1].value == "land");
  CHECK(r.facet_counts[0].counts[1].count == 2);
  REQUIRE(r.facet_counts[1].counts.size() == 2);
  CHECK(r.facet_counts[1].counts[0].value == "ipsl");
  CHECK(r.facet_counts[1].counts[1].value == "ncar");
  CHECK(r.docs[0].dataset_id == a.dataset_id());
  CHECK(r.docs[1].dataset_id == c.dataset_id());
}
