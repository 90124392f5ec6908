// CatalogWorkload (bench support): a CMIP6-shaped stream of signed records for the
// catalog and node benches — N dataset versions (~4 files each) whose facet values follow
// the frequencies of a production ESGF index (tests/fixtures/esgf_search/
// cmip6_facet_counts.json) while every dataset id stays valid under the CMIP6 template,
// a few % superseded versions and 1 % retractions, by 15 publishers (one per data node
// of the index, the first three Tier-1), preceded by the authority's roster. Options add
// roster members (real nodes of a bench) and a Tier-1 replica record for every version
// (a federation in its steady state, where the rule is met).
//
// Contract: the plan is made once (deterministic); `stream` generates the records in
// chunks on every core. Throws std::runtime_error on setup errors (bench code).
#pragma once

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ManifestFactory.hpp"
#include "TestFederation.hpp"
#include "fedswarm/protocol/ReplicaRecord.hpp"
#include "fedswarm/protocol/Retraction.hpp"

namespace fedswarm::bench {

const std::vector<std::string> kFacets = {"activity_id", "data_node", "source_id", "institution_id", "source_type",
                                          "experiment_id", "sub_experiment_id", "nominal_resolution", "variant_label",
                                          "grid_label", "table_id", "frequency", "realm", "variable_id",
                                          "cf_standard_name"};
constexpr std::int64_t kNow = 1'750'000'000;

struct WorkloadOptions {
  std::uint64_t n = 1'000'000;  // dataset versions
  // After each manifest, a replica record (complete) by one of the three Tier-1
  // publishers outside the version's site: every version starts compliant.
  bool tier1_copies = false;
  std::vector<RosterMember> extra_members;   // added to the roster (e.g. a bench's nodes)
  std::vector<PublisherGrant> extra_grants;
  std::uint64_t tier1_capacity = 1ull << 60;  // roster capacity of the three Tier-1 publishers
};

// --- realistic facet values ------------------------------------------------------------
struct Weighted {
  std::vector<std::string> values;
  std::vector<double> weights;
  std::discrete_distribution<std::uint32_t> dist;
  void finish() { dist = std::discrete_distribution<std::uint32_t>(weights.begin(), weights.end()); }
  std::uint32_t operator()(std::mt19937_64& rng) { return dist(rng); }
  std::uint32_t index_of(const std::string& v) const {
    return static_cast<std::uint32_t>(std::find(values.begin(), values.end(), v) - values.begin());
  }
};

// The CMIP6 template's patterns: variable_id [A-Za-z][A-Za-z0-9]*, variant_label
// r<n>i<n>p<n>f<n> with n >= 1.
bool variable_like(const std::string& v) {
  if (v.empty() || v.size() > 64 || !std::isalpha(static_cast<unsigned char>(v[0]))) return false;
  return std::all_of(v.begin(), v.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}
bool variant_like(const std::string& v) {
  std::size_t i = 0;
  for (char letter : {'r', 'i', 'p', 'f'}) {
    if (i >= v.size() || v[i++] != letter || i >= v.size() || v[i] < '1' || v[i] > '9') return false;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
  }
  return i == v.size();
}

// Samples CMIP6 datasets whose facets follow the ESGF frequencies and whose ids are valid:
// source_id by frequency, then an institution its CV entry lists; experiment_id by
// frequency, then one of its activities and sub-experiments (weighted by their own
// frequencies); the rest independently.
struct FacetModel {
  std::map<std::string, Weighted> w;
  test::Cmip6Vocabulary cv;

  FacetModel(const nlohmann::json& counts, const test::Cmip6Vocabulary& vocab) : cv(vocab) {
    std::set<std::string> tables(cv.tables.begin(), cv.tables.end()), grids(cv.grid_labels.begin(), cv.grid_labels.end());
    for (const auto& facet : kFacets) {
      Weighted& x = w[facet];
      for (auto it = counts[facet].begin(); it != counts[facet].end(); ++it) {
        const std::string& v = it.key();
        bool ok = true;
        if (facet == "source_id") ok = cv.source(v) != nullptr;
        if (facet == "experiment_id") ok = cv.experiment(v) != nullptr;
        if (facet == "table_id") ok = tables.count(v) > 0;
        if (facet == "grid_label") ok = grids.count(v) > 0;
        if (facet == "variable_id") ok = variable_like(v);
        if (facet == "variant_label") ok = variant_like(v);
        if (!ok) continue;
        x.values.push_back(v);
        x.weights.push_back(std::max(1.0, it.value().get<double>()));
      }
      x.finish();
    }
  }

  // Index into `allowed` weighted by the facet's frequencies (cached per list).
  std::size_t constrained(const std::string& facet, const std::vector<std::string>& allowed, std::mt19937_64& rng) {
    auto& d = cache_[&allowed];
    if (d.probabilities().size() != allowed.size()) {
      const Weighted& x = w[facet];
      std::vector<double> weights;
      for (const auto& a : allowed) {
        auto i = x.index_of(a);
        weights.push_back(i < x.values.size() ? x.weights[i] : 1.0);
      }
      d = std::discrete_distribution<std::size_t>(weights.begin(), weights.end());
    }
    return d(rng);
  }

 private:
  std::map<const std::vector<std::string>*, std::discrete_distribution<std::size_t>> cache_;
};

// The workload: N dataset versions planned up front in compact form (interned facet
// values), and generated as signed envelopes on all cores one chunk at a time, the same
// records in the same order for every engine phase. Nothing is written to disk, so a
// 10M-version run needs no room for a record file.
class Workload {
 public:
  // Plan facets: DRS facets of the id, then the descriptive ones carried as extra facets.
  static constexpr std::size_t kActivity = 0, kInstitution = 1, kSource = 2, kExperiment = 3, kSubExperiment = 4,
                               kVariant = 5, kTable = 6, kVariable = 7, kGrid = 8, kFirstExtra = 9, kPlanFacets = 14;
  static constexpr const char* kExtra[] = {"frequency", "realm", "nominal_resolution", "source_type", "cf_standard_name"};

  Workload(const WorkloadOptions& opt, const nlohmann::json& counts, const test::ManifestFactory& factory)
      : factory_(factory), authority_(key(0)), opt_(opt) {
    FacetModel model(counts, factory.vocabulary());
    std::mt19937_64 rng(20240607);
    Weighted& nodes = model.w["data_node"];
    sites_ = nodes.values;
    for (std::size_t i = 0; i < sites_.size(); ++i) publishers_.push_back(key(i + 1));
    auto pick = [&](const char* facet) { return model.w[facet].values[model.w[facet](rng)]; };

    // Datasets until N versions: 95% one version, 4% two, 1% three (a few % superseded);
    // 1% of versions retracted by their publisher right after publication.
    std::unordered_set<std::uint64_t> ids;
    std::uniform_real_distribution<double> unit(0, 1);
    for (std::uint64_t versions = 0; versions < opt.n;) {
      test::DatasetSpec s;
      s.source = pick("source_id");
      const auto& institutions = model.cv.source(s.source)->institutions;
      s.institution = institutions[model.constrained("institution_id", institutions, rng)];
      s.experiment = pick("experiment_id");
      const auto* exp = model.cv.experiment(s.experiment);
      s.activity = exp->activities[model.constrained("activity_id", exp->activities, rng)];
      s.sub_experiment = exp->sub_experiments[model.constrained("sub_experiment_id", exp->sub_experiments, rng)];
      s.variant = pick("variant_label");
      s.table = pick("table_id");
      s.variable = pick("variable_id");
      s.grid = pick("grid_label");
      const std::string id = s.dataset_id();
      if (!ids.insert(XXH3_64bits(id.data(), id.size())).second) continue;  // ids are unique
      Dataset d;
      const std::string* values[kPlanFacets] = {&s.activity, &s.institution, &s.source, &s.experiment, &s.sub_experiment,
                                                &s.variant,  &s.table,       &s.variable, &s.grid};
      std::string extra[5];
      for (std::size_t i = 0; i < 5; ++i) extra[i] = pick(kExtra[i]), values[kFirstExtra + i] = &extra[i];
      for (std::size_t f = 0; f < kPlanFacets; ++f) d.v[f] = intern(f, *values[f]);
      d.publisher = static_cast<std::uint8_t>(nodes(rng));
      const double r = unit(rng);
      d.versions = static_cast<std::uint8_t>(std::min<std::uint64_t>(r < 0.95 ? 1 : r < 0.99 ? 2 : 3, opt.n - versions));
      d.first_day = static_cast<std::uint16_t>(rng() % 2500);
      d.step = static_cast<std::uint16_t>(30 + rng() % 400);
      const auto di = static_cast<std::uint32_t>(datasets_.size());
      std::vector<double> ts(d.versions);
      for (auto& t : ts) t = unit(rng);
      std::sort(ts.begin(), ts.end());
      for (std::uint8_t k = 0; k < d.versions; ++k) {
        events_.push_back({static_cast<float>(ts[k]), di, k, kManifest, d.publisher});
        if (opt.tier1_copies) {
          // A Tier-1 publisher of another site holds a copy.
          std::uint8_t t = static_cast<std::uint8_t>(rng() % 3);
          if (sites_[t] == sites_[d.publisher]) t = static_cast<std::uint8_t>((t + 1) % 3);
          events_.push_back({static_cast<float>(ts[k]), di, k, kReplica, t});
        }
        if (unit(rng) < 0.01) events_.push_back({static_cast<float>(ts[k]), di, k, kRetraction, d.publisher});
      }
      versions += d.versions;
      datasets_.push_back(d);
    }
    // Arrival order: versions of a dataset in order, datasets interleaved.
    std::stable_sort(events_.begin(), events_.end(), [](const Event& a, const Event& b) { return a.t < b.t; });
    std::vector<std::uint64_t> seq(publishers_.size(), 0);
    seqs_.resize(events_.size());
    for (std::size_t i = 0; i < events_.size(); ++i) seqs_[i] = ++seq[events_[i].author];
  }

  std::uint64_t records() const { return events_.size() + 1; }
  const SigningKey& authority() const { return authority_; }
  std::map<PublicKey, std::string> site_of() const {
    std::map<PublicKey, std::string> m;
    for (std::size_t i = 0; i < publishers_.size(); ++i) m[publishers_[i].public_key()] = sites_[i];
    return m;
  }
  // (source_id, experiment_id, variable_id) of every 97th dataset.
  std::vector<std::array<std::string, 3>> narrow_candidates() const {
    std::vector<std::array<std::string, 3>> out;
    for (std::size_t i = 0; i < datasets_.size(); i += 97) {
      const auto& v = datasets_[i].v;
      out.push_back({text(kSource, v[kSource]), text(kExperiment, v[kExperiment]), text(kVariable, v[kVariable])});
    }
    return out;
  }

  // Calls fn(records) for consecutive chunks of the workload (the roster first), up to
  // `limit` records after the roster.
  template <class Fn>
  void stream(std::size_t chunk, Fn&& fn, std::size_t limit = SIZE_MAX) const {
    std::vector<Envelope> built;
    {
      std::vector<RosterMember> members;
      std::vector<PublisherGrant> grants;
      for (std::size_t i = 0; i < sites_.size(); ++i) {
        members.push_back(test::member(publishers_[i], sites_[i], i < 3 ? Tier::tier1 : Tier::tier2));
        if (i < 3) members.back().capacity = opt_.tier1_capacity;
        grants.push_back(test::grant(publishers_[i]));
      }
      members.insert(members.end(), opt_.extra_members.begin(), opt_.extra_members.end());
      grants.insert(grants.end(), opt_.extra_grants.begin(), opt_.extra_grants.end());
      built.push_back(Envelope::sign(authority_, 1, RecordKind::roster, test::make_roster(1, members, grants).encode()));
      fn(built);
    }
    const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    const std::size_t total = std::min(limit, events_.size());
    for (std::size_t base = 0; base < total; base += chunk) {
      const std::size_t n = std::min(chunk, total - base);
      built.assign(n, Envelope{});
      std::atomic<std::size_t> next{0};
      auto work = [&] {
        for (std::size_t i; (i = next.fetch_add(1)) < n;) built[i] = make(base + i);
      };
      std::vector<std::thread> pool;
      for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
      for (auto& t : pool) t.join();
      fn(built);
    }
  }

 private:
  struct Dataset {
    std::array<std::uint16_t, kPlanFacets> v;  // interned values
    std::uint8_t publisher;
    std::uint8_t versions;
    std::uint16_t first_day;
    std::uint16_t step;  // days between versions
  };
  static constexpr std::uint8_t kManifest = 0, kRetraction = 1, kReplica = 2;
  struct Event {
    float t;
    std::uint32_t dataset;
    std::uint8_t version;  // index of the version within the dataset
    std::uint8_t kind;
    std::uint8_t author;   // index into publishers_
  };

  static SigningKey key(std::size_t i) {
    SigningKey::Seed seed;
    seed.bytes[0] = static_cast<std::uint8_t>(i);
    seed.bytes[1] = 0xfe;
    return SigningKey::from_seed(seed);
  }
  std::uint16_t intern(std::size_t facet, const std::string& v) {
    auto [it, inserted] = index_[facet].emplace(v, static_cast<std::uint16_t>(strings_[facet].size()));
    if (inserted) strings_[facet].push_back(v);
    return it->second;
  }
  const std::string& text(std::size_t facet, std::uint16_t v) const { return strings_[facet][v]; }

  Envelope make(std::size_t event) const {
    const Event& ev = events_[event];
    const Dataset& d = datasets_[ev.dataset];
    test::DatasetSpec s;
    s.activity = text(kActivity, d.v[kActivity]);
    s.institution = text(kInstitution, d.v[kInstitution]);
    s.source = text(kSource, d.v[kSource]);
    s.experiment = text(kExperiment, d.v[kExperiment]);
    s.sub_experiment = text(kSubExperiment, d.v[kSubExperiment]);
    s.variant = text(kVariant, d.v[kVariant]);
    s.table = text(kTable, d.v[kTable]);
    s.variable = text(kVariable, d.v[kVariable]);
    s.grid = text(kGrid, d.v[kGrid]);
    const std::string version = test::version_string(d.first_day + ev.version * d.step);
    const SigningKey& key = publishers_[ev.author];
    if (ev.kind == kReplica) {
      ReplicaRecord r{s.dataset_id(), version, ReplicaState::complete, kNow};
      return Envelope::sign(key, seqs_[event], RecordKind::replica, r.encode());
    }
    if (ev.kind == kRetraction) {
      Retraction r{s.dataset_id(), version, "wrong units in the published files", "5b2d4b5a-1f80-4a1e-9d0b-7bd3e4b5f0a1", kNow};
      return Envelope::sign(key, seqs_[event], RecordKind::retraction, r.encode());
    }
    std::vector<Facet> extra;
    for (std::size_t i = 0; i < 5; ++i) extra.push_back({kExtra[i], {text(kFirstExtra + i, d.v[kFirstExtra + i])}});
    std::mt19937_64 rng(event);
    std::string supersedes = ev.version > 0 ? test::version_string(d.first_day + (ev.version - 1) * d.step) : "";
    Manifest m = factory_.make(s, version, 4, rng, std::move(extra), supersedes);
    return Envelope::sign(key, seqs_[event], RecordKind::manifest, m.encode());
  }

  const test::ManifestFactory& factory_;
  SigningKey authority_;
  WorkloadOptions opt_;
  std::vector<SigningKey> publishers_;
  std::vector<std::string> sites_;
  std::array<std::vector<std::string>, kPlanFacets> strings_;
  std::array<std::unordered_map<std::string, std::uint16_t>, kPlanFacets> index_;
  std::vector<Dataset> datasets_;
  std::vector<Event> events_;
  std::vector<std::uint64_t> seqs_;
};


}  // namespace fedswarm::bench
