// catalog_bench: fedswarm's LMDB catalog against SQLite on the same CMIP6-shaped records.
//
// Generates N signed dataset-version manifests (~4 files each) whose facet values follow
// the frequencies of a production ESGF index (fixtures/esgf_search/cmip6_facet_counts.json)
// while every dataset id stays valid under the CMIP6 template, plus a few % superseded
// versions and retractions. Then measures, in one run and on the same records:
//   - ingest rate: fedswarm (signature verify + every receipt rule + all indexing) on one
//     thread, and with signatures verified on a worker thread; SQLite (verify + insert
//     into a table with an index on every facet, WAL, synchronous=FULL);
//   - (a) a narrow 3-facet query (<= 100 results) p50/p99 over >= 1,000 distinct queries;
//   - (b) the ESGF portal default query (latest, counts of 15 facets, limit 10) p50/p99;
//   - catalog size on disk and peak RSS of each phase.
// Prints a Markdown table and the command line. Not a test: no assertions on time.
//
// Usage: catalog_bench [--n N] [--batch B] [--queries Q] [--dir DIR] [--keep] [--no-sqlite]
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>
#include <xxhash.h>

#include "ManifestFactory.hpp"
#include "fedswarm/protocol/RecordValidator.hpp"
#include "fedswarm/storage/Catalog.hpp"

using namespace fedswarm;
using Clock = std::chrono::steady_clock;

namespace {

const std::vector<std::string> kFacets = {"activity_id", "data_node", "source_id", "institution_id", "source_type",
                                          "experiment_id", "sub_experiment_id", "nominal_resolution", "variant_label",
                                          "grid_label", "table_id", "frequency", "realm", "variable_id",
                                          "cf_standard_name"};
constexpr std::int64_t kNow = 1'750'000'000;

struct Options {
  std::uint64_t n = 1'000'000;
  std::size_t batch = 10'000;
  std::size_t queries = 1'000;
  std::filesystem::path dir;
  bool keep = false;
  bool sqlite = true;
};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// --- memory ----------------------------------------------------------------------------
void reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
}
std::uint64_t peak_rss_bytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}
// Current resident memory of a kind ("RssAnon" heap, "RssFile" mapped files such as
// the LMDB map, whose pages are the page cache, shared and reclaimable).
std::uint64_t rss_bytes(const std::string& kind) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(kind + ":", 0) == 0) return std::stoull(line.substr(kind.size() + 1)) * 1024;
  return 0;
}
// Bytes this process caused to be written to storage so far.
std::uint64_t written_bytes() {
  std::ifstream f("/proc/self/io");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("write_bytes:", 0) == 0) return std::stoull(line.substr(12));
  return 0;
}
std::uint64_t dir_bytes(const std::filesystem::path& p) {
  std::uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(p))
    if (e.is_regular_file()) {
      struct stat st {};
      if (::stat(e.path().c_str(), &st) == 0) total += static_cast<std::uint64_t>(st.st_blocks) * 512;
    }
  return total;
}
std::string human(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) bytes /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", bytes, units[u]);
  return buf;
}

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

  Workload(const Options& opt, const nlohmann::json& counts, const test::ManifestFactory& factory)
      : factory_(factory), authority_(key(0)) {
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
        events_.push_back({static_cast<float>(ts[k]), di, k, false});
        if (unit(rng) < 0.01) events_.push_back({static_cast<float>(ts[k]), di, k, true});
      }
      versions += d.versions;
      datasets_.push_back(d);
    }
    // Arrival order: versions of a dataset in order, datasets interleaved.
    std::stable_sort(events_.begin(), events_.end(), [](const Event& a, const Event& b) { return a.t < b.t; });
    std::vector<std::uint64_t> seq(publishers_.size(), 0);
    seqs_.resize(events_.size());
    for (std::size_t i = 0; i < events_.size(); ++i) seqs_[i] = ++seq[datasets_[events_[i].dataset].publisher];
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
        grants.push_back(test::grant(publishers_[i]));
      }
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
  struct Event {
    float t;
    std::uint32_t dataset;
    std::uint8_t version;  // index of the version within the dataset
    bool retraction;
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
    const SigningKey& key = publishers_[d.publisher];
    if (ev.retraction) {
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
  std::vector<SigningKey> publishers_;
  std::vector<std::string> sites_;
  std::array<std::vector<std::string>, kPlanFacets> strings_;
  std::array<std::unordered_map<std::string, std::uint16_t>, kPlanFacets> index_;
  std::vector<Dataset> datasets_;
  std::vector<Event> events_;
  std::vector<std::uint64_t> seqs_;
};

// Records generated per round (untimed) before an engine ingests them (timed); at
// least ten batches.
constexpr std::size_t kChunk = 100'000;

struct Percentiles {
  double p50 = 0, p99 = 0;
  std::size_t n = 0;
};
Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  p.n = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  p.p50 = v[v.size() / 2];
  p.p99 = v[std::min(v.size() - 1, static_cast<std::size_t>(static_cast<double>(v.size()) * 0.99))];
  return p;
}

// --- fedswarm -----------------------------------------------------------------------------
struct IngestFigures {
  double seconds = 0;
  double ingest_call_seconds = 0;  // inside Catalog::ingest_batch only
  std::uint64_t records = 0;
  std::uint64_t written = 0;  // bytes written to storage during the timed sections
  std::uint64_t refused = 0;
  double rate() const { return seconds > 0 ? static_cast<double>(records) / seconds : 0; }
};

std::unique_ptr<Catalog> open_catalog(const std::filesystem::path& dir, const PublicKey& authority) {
  CatalogOptions o;
  o.dir = dir;
  o.initial_map_bytes = 1ull << 30;
  auto c = Catalog::open(o, ProjectRegistry::builtin());
  if (!c) throw std::runtime_error(c.error().message);
  if (auto s = (*c)->pin_authority(authority); !s) throw std::runtime_error(s.error().message);
  return std::move(*c);
}

// One thread: ingest_batch verifies every signature itself. Two threads: a worker
// verifies batch k+1 while this thread indexes batch k with signatures_checked.
IngestFigures ingest_fedswarm(Catalog& cat, const Workload& work, std::size_t batch, bool two_threads) {
  IngestFigures f;
  work.stream(std::max(kChunk, 10 * batch), [&](const std::vector<Envelope>& chunk) {
    std::vector<std::span<const Envelope>> batches;
    for (std::size_t i = 0; i < chunk.size(); i += batch)
      batches.emplace_back(chunk.data() + i, std::min(batch, chunk.size() - i));
    auto verify = [](std::span<const Envelope> b) {
      std::size_t bad = 0;
      for (const auto& e : b) bad += !e.verify();
      return bad;  // the bench's records all verify; a real caller drops the bad ones
    };
    // The clock starts once the pipeline is full: a node's pipeline runs continuously,
    // the refill at each generated chunk is an artifact of generating between chunks.
    std::future<std::size_t> pending;
    if (two_threads) pending = std::async(std::launch::async, verify, batches[0]);
    if (two_threads) pending.wait();
    auto t0 = Clock::now();
    const std::uint64_t w0 = written_bytes();
    for (std::size_t k = 0; k < batches.size(); ++k) {
      if (two_threads) {
        f.refused += pending.get();
        if (k + 1 < batches.size()) pending = std::async(std::launch::async, verify, batches[k + 1]);
      }
      auto c0 = Clock::now();
      auto r = cat.ingest_batch(batches[k], kNow, two_threads);
      f.ingest_call_seconds += seconds_since(c0);
      if (!r) throw std::runtime_error(r.error().message);
      for (const auto& x : *r) f.refused += x.outcome != IngestOutcome::stored;
    }
    f.seconds += seconds_since(t0);
    f.written += written_bytes() - w0;
    f.records += chunk.size();
    std::fprintf(stderr, "\rfedswarm%s: %llu records, %.0f records/s", two_threads ? " (2 threads)" : "",
                 static_cast<unsigned long long>(f.records), f.rate());
  });
  std::fprintf(stderr, "\n");
  return f;
}

SearchQuery portal_query() {
  SearchQuery q;
  q.facet_fields = kFacets;
  q.limit = 10;
  return q;
}
SearchQuery narrow_query(const std::array<std::string, 3>& c) {
  SearchQuery q = portal_query();
  q.constraints = {{"source_id", c[0]}, {"experiment_id", c[1]}, {"variable_id", c[2]}};
  return q;
}

// --- SQLite ---------------------------------------------------------------------------------
class Sqlite {
 public:
  explicit Sqlite(const std::filesystem::path& file) {
    if (sqlite3_open(file.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("sqlite open");
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");  // fsync at commit, like LMDB's default
    exec("PRAGMA cache_size=-1048576");
    exec("CREATE TABLE records(author BLOB, seq INTEGER, kind INTEGER, signature BLOB, body BLOB, PRIMARY KEY(author, seq)) WITHOUT ROWID");
    std::string cols;
    for (const auto& f : kFacets) cols += ", " + f + " TEXT";
    exec("CREATE TABLE datasets(id INTEGER PRIMARY KEY, instance_id TEXT UNIQUE, dataset_id TEXT, version TEXT, "
         "publisher BLOB, seq INTEGER, size INTEGER, nfiles INTEGER, published_at INTEGER, latest INTEGER, "
         "retracted INTEGER, superseded INTEGER" + cols + ")");
    exec("CREATE INDEX datasets_dataset ON datasets(dataset_id)");
    for (const auto& f : kFacets) exec("CREATE INDEX datasets_" + f + " ON datasets(" + f + ", latest)");
    exec("CREATE TABLE files(dataset INTEGER, path TEXT, sha256 BLOB, tracking_id TEXT)");
    exec("CREATE INDEX files_sha ON files(sha256)");
    exec("CREATE INDEX files_tracking ON files(tracking_id)");
    std::string qs;
    for (std::size_t i = 0; i < kFacets.size(); ++i) qs += ",?";
    ins_record_ = prepare("INSERT INTO records VALUES(?,?,?,?,?)");
    ins_dataset_ = prepare("INSERT INTO datasets(instance_id, dataset_id, version, publisher, seq, size, nfiles, "
                           "published_at, latest, retracted, superseded" + cols_names() + ") VALUES(?,?,?,?,?,?,?,?,?,?,?" + qs + ")");
    versions_ = prepare("SELECT id, version FROM datasets WHERE dataset_id=?");
    supersede_ = prepare("UPDATE datasets SET latest=0, superseded=1 WHERE id=?");
    retract_ = prepare("UPDATE datasets SET retracted=1, latest=0 WHERE instance_id=?");
    ins_file_ = prepare("INSERT INTO files VALUES(?,?,?,?)");
  }
  ~Sqlite() {
    for (auto* s : {ins_record_, ins_dataset_, versions_, supersede_, retract_, ins_file_}) sqlite3_finalize(s);
    for (auto* s : owned_) sqlite3_finalize(s);
    sqlite3_close(db_);
  }

  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string e = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error("sqlite: " + e + " in " + sql);
    }
  }
  sqlite3_stmt* prepare(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(db_) + " in " + sql);
    return s;
  }
  sqlite3_stmt* owned(const std::string& sql) { return owned_.emplace_back(prepare(sql)); }

  // Verify, decode, insert: the same receipt work a naive catalog would do.
  void ingest(const Envelope& e, const std::map<PublicKey, std::string>& site_of) {
    if (!e.verify()) return;
    step(ins_record_, [&](sqlite3_stmt* s) {
      sqlite3_bind_blob(s, 1, e.author.data(), 32, SQLITE_STATIC);
      sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(e.seq));
      sqlite3_bind_int(s, 3, static_cast<int>(e.kind));
      sqlite3_bind_blob(s, 4, e.signature.data(), 64, SQLITE_STATIC);
      sqlite3_bind_blob(s, 5, e.body.data(), static_cast<int>(e.body.size()), SQLITE_STATIC);
    });
    if (e.kind == RecordKind::retraction) {
      auto r = Retraction::decode(e.body);
      std::string inst = r->instance_id();
      step(retract_, [&](sqlite3_stmt* s) { sqlite3_bind_text(s, 1, inst.c_str(), -1, SQLITE_STATIC); });
      return;
    }
    if (e.kind != RecordKind::manifest) return;
    auto m = Manifest::decode(e.body);
    // Latest: compare with the stored versions of the dataset.
    sqlite3_bind_text(versions_, 1, m->dataset_id.c_str(), -1, SQLITE_STATIC);
    sqlite3_int64 newest_id = -1;
    std::string newest;
    while (sqlite3_step(versions_) == SQLITE_ROW) {
      std::string v = reinterpret_cast<const char*>(sqlite3_column_text(versions_, 1));
      if (v > newest) newest = v, newest_id = sqlite3_column_int64(versions_, 0);
    }
    sqlite3_reset(versions_);
    bool latest = m->version > newest;
    if (latest && newest_id >= 0) step(supersede_, [&](sqlite3_stmt* s) { sqlite3_bind_int64(s, 1, newest_id); });
    std::string inst = m->instance_id();
    step(ins_dataset_, [&](sqlite3_stmt* s) {
      sqlite3_bind_text(s, 1, inst.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_text(s, 2, m->dataset_id.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_text(s, 3, m->version.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_blob(s, 4, e.author.data(), 32, SQLITE_STATIC);
      sqlite3_bind_int64(s, 5, static_cast<sqlite3_int64>(e.seq));
      sqlite3_bind_int64(s, 6, static_cast<sqlite3_int64>(m->total_size()));
      sqlite3_bind_int64(s, 7, static_cast<sqlite3_int64>(m->files.size()));
      sqlite3_bind_int64(s, 8, m->published_at);
      sqlite3_bind_int(s, 9, latest);
      sqlite3_bind_int(s, 10, 0);
      sqlite3_bind_int(s, 11, !latest);
      for (std::size_t i = 0; i < kFacets.size(); ++i) {
        const std::string* v = nullptr;
        if (kFacets[i] == "data_node") {
          v = &site_of.at(e.author);
        } else if (const auto* vs = m->facet(kFacets[i]); vs && !vs->empty()) {
          v = &(*vs)[0];
        }
        if (v) sqlite3_bind_text(s, static_cast<int>(12 + i), v->c_str(), -1, SQLITE_STATIC);
        else sqlite3_bind_null(s, static_cast<int>(12 + i));
      }
    });
    sqlite3_int64 id = sqlite3_last_insert_rowid(db_);
    for (const auto& f : m->files)
      step(ins_file_, [&](sqlite3_stmt* s) {
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_text(s, 2, f.path.c_str(), -1, SQLITE_STATIC);
        sqlite3_bind_blob(s, 3, f.sha256.data(), 32, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, f.tracking_id.c_str(), -1, SQLITE_STATIC);
      });
  }

  // The same query as fedswarm's: count, first page, counts of the 15 facets.
  std::uint64_t query(const std::vector<std::pair<std::string, std::string>>& cons) {
    std::string where = "latest=1";
    for (const auto& [f, v] : cons) where += " AND " + f + "=?";
    auto& stmts = cache_[where];
    if (stmts.empty()) {
      stmts.push_back(owned("SELECT count(*) FROM datasets WHERE " + where));
      stmts.push_back(owned("SELECT * FROM datasets WHERE " + where + " ORDER BY id LIMIT 10"));
      for (const auto& f : kFacets)
        stmts.push_back(owned("SELECT " + f + ", count(*) FROM datasets WHERE " + where + " GROUP BY " + f));
    }
    std::uint64_t found = 0, sink = 0;
    for (std::size_t k = 0; k < stmts.size(); ++k) {
      sqlite3_stmt* s = stmts[k];
      for (std::size_t i = 0; i < cons.size(); ++i)
        sqlite3_bind_text(s, static_cast<int>(i + 1), cons[i].second.c_str(), -1, SQLITE_STATIC);
      while (sqlite3_step(s) == SQLITE_ROW) {
        if (k == 0) found = static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
        sink += static_cast<std::uint64_t>(sqlite3_column_bytes(s, 0));
      }
      sqlite3_reset(s);
    }
    (void)sink;
    return found;
  }

 private:
  template <class Bind>
  void step(sqlite3_stmt* s, Bind&& bind) {
    bind(s);
    if (int rc = sqlite3_step(s); rc != SQLITE_DONE)
      throw std::runtime_error(std::string("sqlite step: ") + sqlite3_errmsg(db_));
    sqlite3_reset(s);
  }
  static std::string cols_names() {
    std::string s;
    for (const auto& f : kFacets) s += ", " + f;
    return s;
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt *ins_record_, *ins_dataset_, *versions_, *supersede_, *retract_, *ins_file_;
  std::vector<sqlite3_stmt*> owned_;
  std::map<std::string, std::vector<sqlite3_stmt*>> cache_;
};

IngestFigures ingest_sqlite(Sqlite& db, const Workload& work, std::size_t batch) {
  IngestFigures f;
  const auto site_of = work.site_of();
  work.stream(std::max(kChunk, 10 * batch), [&](const std::vector<Envelope>& chunk) {
    auto t0 = Clock::now();
    const std::uint64_t w0 = written_bytes();
    for (std::size_t i = 0; i < chunk.size(); i += batch) {
      db.exec("BEGIN");
      for (std::size_t j = i; j < std::min(chunk.size(), i + batch); ++j) db.ingest(chunk[j], site_of);
      db.exec("COMMIT");
    }
    f.seconds += seconds_since(t0);
    f.written += written_bytes() - w0;
    f.records += chunk.size();
    std::fprintf(stderr, "\rsqlite: %llu records, %.0f records/s", static_cast<unsigned long long>(f.records), f.rate());
  });
  std::fprintf(stderr, "\n");
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return f;
}

std::uint64_t free_bytes(const std::filesystem::path& p) {
  std::error_code ec;
  auto s = std::filesystem::space(p, ec);
  return ec ? 0 : s.available;
}

template <class Fn>
std::vector<double> time_each(std::size_t n, Fn&& fn) {
  std::vector<double> ms;
  for (std::size_t i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    fn(i);
    ms.push_back(seconds_since(t0) * 1e3);
  }
  return ms;
}

std::string fmt(double v, const char* f = "%.2f") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  std::string cmdline;
  for (int i = 0; i < argc; ++i) cmdline += (i ? " " : "") + std::string(argv[i]);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--n") opt.n = std::stoull(value());
    else if (a == "--batch") opt.batch = std::stoull(value());
    else if (a == "--queries") opt.queries = std::stoull(value());
    else if (a == "--dir") opt.dir = value();
    else if (a == "--keep") opt.keep = true;
    else if (a == "--no-sqlite") opt.sqlite = false;
    else {
      std::cerr << "usage: catalog_bench [--n N] [--batch B] [--queries Q] [--dir DIR] [--keep] [--no-sqlite]\n";
      return 2;
    }
  }
  if (!crypto_init()) return 1;
  if (opt.dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    opt.dir = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") / ("fedswarm-catalog-bench-" + std::to_string(getpid()));
  }
  std::filesystem::create_directories(opt.dir);
  const std::filesystem::path fixtures = FEDSWARM_FIXTURES_DIR;
  auto counts = nlohmann::json::parse(std::ifstream(fixtures / "esgf_search" / "cmip6_facet_counts.json"))["facets"];
  test::ManifestFactory factory{std::filesystem::path(FEDSWARM_CV_DIR)};
  auto t0 = Clock::now();
  Workload work(opt, counts, factory);
  const double plan_seconds = seconds_since(t0);
  const std::uint64_t records = work.records();
  std::fprintf(stderr, "planned %llu records in %.1f s\n", static_cast<unsigned long long>(records), plan_seconds);

  // Verification alone, for the breakdown.
  double verify_us = 0;
  work.stream(20'000, [&](const std::vector<Envelope>& sample) {
    if (sample.size() < 2) return;  // the roster
    auto v0 = Clock::now();
    std::size_t ok = 0;
    for (const auto& e : sample) ok += e.verify();
    verify_us = seconds_since(v0) * 1e6 / static_cast<double>(sample.size());
    if (ok != sample.size()) std::cerr << "warning: unverifiable records\n";
  }, 20'000);

  // Phase 1: fedswarm, one thread, then the queries. Each phase deletes its catalog
  // before the next starts, so the disk holds one at a time.
  reset_peak_rss();
  auto cat = open_catalog(opt.dir / "fedswarm", work.authority().public_key());
  const IngestFigures fs1 = ingest_fedswarm(*cat, work, opt.batch, false);
  const auto stats = *cat->stats();
  const std::uint64_t fs_bytes = dir_bytes(opt.dir / "fedswarm");

  // Narrow queries: distinct triples from random datasets with 1..100 latest results.
  std::vector<std::array<std::string, 3>> narrow;
  {
    auto candidates = work.narrow_candidates();
    std::set<std::array<std::string, 3>> seen;
    std::mt19937_64 rng(99);
    std::shuffle(candidates.begin(), candidates.end(), rng);
    for (const auto& c : candidates) {
      if (narrow.size() >= opt.queries) break;
      if (!seen.insert(c).second) continue;
      auto r = cat->search(narrow_query(c));
      if (r && r->num_found >= 1 && r->num_found <= 100) narrow.push_back(c);
    }
  }
  std::uint64_t sink = 0;
  for (std::size_t i = 0; i < std::min<std::size_t>(50, narrow.size()); ++i) sink += cat->search(narrow_query(narrow[i]))->num_found;
  const auto fs_a = percentiles(time_each(narrow.size(), [&](std::size_t i) { sink += cat->search(narrow_query(narrow[i]))->num_found; }));
  const auto portal = *cat->search(portal_query());
  const auto fs_b = percentiles(time_each(200, [&](std::size_t) { sink += cat->search(portal_query())->num_found; }));
  const std::uint64_t fs_rss = peak_rss_bytes(), fs_anon = rss_bytes("RssAnon"), fs_file = rss_bytes("RssFile");
  cat.reset();
  std::filesystem::remove_all(opt.dir / "fedswarm");

  // Phase 2: fedswarm, signatures verified on a worker thread.
  reset_peak_rss();
  auto cat2 = open_catalog(opt.dir / "fedswarm-2t", work.authority().public_key());
  const IngestFigures fs2 = ingest_fedswarm(*cat2, work, opt.batch, true);
  const std::uint64_t fs2_rss = peak_rss_bytes();
  cat2.reset();
  std::filesystem::remove_all(opt.dir / "fedswarm-2t");

  // Phase 3: SQLite, if the disk has room (it needs about 1.6x fedswarm's size).
  IngestFigures sq;
  Percentiles sq_a, sq_b;
  std::uint64_t sq_bytes = 0, sq_rss = 0, sq_anon = 0, sq_portal_found = 0;
  std::string sqlite_note;
  if (opt.sqlite && free_bytes(opt.dir) < fs_bytes * 2) {
    opt.sqlite = false;
    sqlite_note = "SQLite skipped: needs about " + human(static_cast<double>(fs_bytes) * 1.6) + ", " +
                  human(static_cast<double>(free_bytes(opt.dir))) + " free on " + opt.dir.string();
  }
  if (opt.sqlite) {
    reset_peak_rss();
    Sqlite db(opt.dir / "sqlite.db");
    sq = ingest_sqlite(db, work, opt.batch);
    sq_bytes = std::filesystem::file_size(opt.dir / "sqlite.db");
    auto cons = [&](std::size_t i) {
      return std::vector<std::pair<std::string, std::string>>{
          {"source_id", narrow[i][0]}, {"experiment_id", narrow[i][1]}, {"variable_id", narrow[i][2]}};
    };
    for (std::size_t i = 0; i < std::min<std::size_t>(50, narrow.size()); ++i) sink += db.query(cons(i));
    sq_a = percentiles(time_each(narrow.size(), [&](std::size_t i) { sink += db.query(cons(i)); }));
    sq_portal_found = db.query({});
    // Each run scans the whole table 16 times: fewer repetitions at large N.
    const std::size_t reps = opt.n > 200'000 ? 10 : 50;
    sq_b = percentiles(time_each(reps, [&](std::size_t) { sink += db.query({}); }));
    sq_rss = peak_rss_bytes();
    sq_anon = rss_bytes("RssAnon");
  }

  std::printf("\n## fedswarm catalog vs SQLite — N = %llu dataset versions\n\n", static_cast<unsigned long long>(opt.n));
  std::printf("command: `%s`\n\n", cmdline.c_str());
  std::printf("records: %llu (roster, %llu manifests, the rest retractions); %llu versions latest; "
              "batch %zu records per write transaction; records generated on %u threads between timed sections\n\n",
              static_cast<unsigned long long>(records), static_cast<unsigned long long>(stats.versions),
              static_cast<unsigned long long>(portal.num_found), opt.batch, std::thread::hardware_concurrency());
  std::printf("| | fedswarm (LMDB) | SQLite (WAL, index per facet) |\n|---|---|---|\n");
  std::printf("| ingest, 1 thread (verify + index) | %s records/s | %s |\n", fmt(fs1.rate(), "%.0f").c_str(),
              opt.sqlite ? (fmt(sq.rate(), "%.0f") + " records/s").c_str() : "—");
  std::printf("| ingest, 2 threads (verify on a worker) | %s records/s | — |\n", fmt(fs2.rate(), "%.0f").c_str());
  std::printf("| (a) narrow 3-facet query, p50 / p99 (%zu queries, 1..100 results) | %s / %s ms | %s |\n", fs_a.n,
              fmt(fs_a.p50, "%.3f").c_str(), fmt(fs_a.p99, "%.3f").c_str(),
              opt.sqlite ? (fmt(sq_a.p50, "%.3f") + " / " + fmt(sq_a.p99, "%.3f") + " ms").c_str() : "—");
  std::printf("| (b) portal default query, p50 / p99 (%zu / %zu runs) | %s / %s ms | %s |\n", fs_b.n, sq_b.n,
              fmt(fs_b.p50, "%.3f").c_str(), fmt(fs_b.p99, "%.3f").c_str(),
              opt.sqlite ? (fmt(sq_b.p50, "%.1f") + " / " + fmt(sq_b.p99, "%.1f") + " ms").c_str() : "—");
  std::printf("| written to disk during ingest, per record | %s | %s |\n",
              human(static_cast<double>(fs1.written) / static_cast<double>(std::max<std::uint64_t>(1, fs1.records))).c_str(),
              opt.sqlite ? human(static_cast<double>(sq.written) / static_cast<double>(std::max<std::uint64_t>(1, sq.records))).c_str() : "—");
  std::printf("| catalog size on disk | %s | %s |\n", human(static_cast<double>(fs_bytes)).c_str(),
              opt.sqlite ? human(static_cast<double>(sq_bytes)).c_str() : "—");
  std::printf("| peak RSS (ingest + queries) | %s (2-thread run: %s) | %s |\n", human(static_cast<double>(fs_rss)).c_str(),
              human(static_cast<double>(fs2_rss)).c_str(), opt.sqlite ? human(static_cast<double>(sq_rss)).c_str() : "—");
  std::printf("| RSS after the queries: heap / mapped files | %s / %s | %s / — |\n", human(static_cast<double>(fs_anon)).c_str(),
              human(static_cast<double>(fs_file)).c_str(), opt.sqlite ? human(static_cast<double>(sq_anon)).c_str() : "—");
  const double per = 1e6 / static_cast<double>(std::max<std::uint64_t>(1, fs2.records));
  std::printf("\nbreakdown: Ed25519 verify alone %.1f us/record; fedswarm 1 thread %.1f us/record in total; in the "
              "2-thread run the indexing thread spent %.1f us/record in ingest_batch (decode, validation of DRS/paths/"
              "info dict, receipt rules, indexing, commit) while the worker verified. Refused records: %llu / %llu. "
              "Portal query num_found: fedswarm %llu, SQLite %llu. Map size %s. Peak RSS includes the generator's "
              "plan and one chunk of %zu generated records.\n",
              verify_us, 1e6 / fs1.rate(), fs2.ingest_call_seconds * per,
              static_cast<unsigned long long>(fs1.refused), static_cast<unsigned long long>(fs2.refused),
              static_cast<unsigned long long>(portal.num_found), static_cast<unsigned long long>(sq_portal_found),
              human(static_cast<double>(stats.map_bytes)).c_str(), std::max(kChunk, 10 * opt.batch));
  if (!sqlite_note.empty()) std::printf("%s\n", sqlite_note.c_str());
  if (sink == 42) std::printf(" ");
  if (!opt.keep) std::filesystem::remove_all(opt.dir);
  return 0;
}
