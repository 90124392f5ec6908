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

#include "BenchProcess.hpp"
#include "BenchStats.hpp"
#include "CatalogWorkload.hpp"
#include "ManifestFactory.hpp"
#include "fedswarm/protocol/RecordValidator.hpp"
#include "fedswarm/storage/Catalog.hpp"

using namespace fedswarm;
using namespace fedswarm::bench;

namespace {


struct Options {
  std::uint64_t n = 1'000'000;
  std::size_t batch = 10'000;
  std::size_t queries = 1'000;
  std::filesystem::path dir;
  bool keep = false;
  bool sqlite = true;
};


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

// Records generated per round (untimed) before an engine ingests them (timed); at
// least ten batches.
constexpr std::size_t kChunk = 100'000;


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
  opt.dir = work_dir(opt.dir, "fedswarm-catalog-bench");
  std::filesystem::create_directories(opt.dir);
  const std::filesystem::path fixtures = FEDSWARM_FIXTURES_DIR;
  auto counts = nlohmann::json::parse(std::ifstream(fixtures / "esgf_search" / "cmip6_facet_counts.json"))["facets"];
  test::ManifestFactory factory{std::filesystem::path(FEDSWARM_CV_DIR)};
  auto t0 = Clock::now();
  WorkloadOptions wo;
  wo.n = opt.n;
  Workload work(wo, counts, factory);
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
  if (!opt.keep) std::filesystem::remove_all(opt.dir / "fedswarm");

  // Phase 2: fedswarm, signatures verified on a worker thread.
  reset_peak_rss();
  auto cat2 = open_catalog(opt.dir / "fedswarm-2t", work.authority().public_key());
  const IngestFigures fs2 = ingest_fedswarm(*cat2, work, opt.batch, true);
  const std::uint64_t fs2_rss = peak_rss_bytes();
  cat2.reset();
  if (!opt.keep) std::filesystem::remove_all(opt.dir / "fedswarm-2t");

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
