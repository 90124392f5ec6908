#include "gossip/CatalogGossipStore.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace fedswarm {

// Runs index-parallel jobs on a few worker threads plus the caller. Signature checks
// cost ~50 µs each, so work is handed out one index at a time from an atomic counter.
class CatalogGossipStore::Pool {
 public:
  explicit Pool(unsigned workers) {
    threads_.reserve(workers);
    for (unsigned i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  }

  ~Pool() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }

  unsigned size() const { return static_cast<unsigned>(threads_.size()); }

  // Calls fn(i) for every i in [0, n) and returns when all calls have returned.
  void run(std::size_t n, const std::function<void(std::size_t)>& fn) {
    {
      std::lock_guard lock(mu_);
      fn_ = &fn;
      end_ = n;
      next_.store(0);
      ++generation_;
    }
    wake_.notify_all();
    drain(fn, n);
    // Workers that joined this generation must leave before `fn` goes out of scope.
    std::unique_lock lock(mu_);
    idle_.wait(lock, [&] { return busy_ == 0; });
    fn_ = nullptr;
  }

 private:
  void drain(const std::function<void(std::size_t)>& fn, std::size_t n) {
    for (std::size_t i = next_.fetch_add(1); i < n; i = next_.fetch_add(1)) fn(i);
  }

  void work() {
    std::uint64_t seen = 0;
    std::unique_lock lock(mu_);
    for (;;) {
      wake_.wait(lock, [&] { return stop_ || (generation_ != seen && fn_ != nullptr); });
      if (stop_) return;
      seen = generation_;
      const auto* fn = fn_;
      const std::size_t n = end_;
      ++busy_;
      lock.unlock();
      drain(*fn, n);
      lock.lock();
      if (--busy_ == 0) idle_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable wake_, idle_;
  const std::function<void(std::size_t)>* fn_ = nullptr;
  std::size_t end_ = 0;
  std::atomic<std::size_t> next_{0};
  std::uint64_t generation_ = 0;
  unsigned busy_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

CatalogGossipStore::CatalogGossipStore(Catalog& catalog, CatalogGossipStoreOptions options)
    : catalog_(catalog), options_(std::move(options)) {
  unsigned threads = options_.verify_threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  if (threads > 1) pool_ = std::make_unique<Pool>(threads - 1);
  refresh_roster_serial();
  reported_serial_ = roster_serial_;
}

CatalogGossipStore::~CatalogGossipStore() = default;

unsigned CatalogGossipStore::verify_threads() const { return pool_ ? pool_->size() + 1 : 1; }

std::int64_t CatalogGossipStore::now() const {
  if (options_.now) return options_.now();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void CatalogGossipStore::failed(const Error& e) {
  ++io_errors_;
  last_error_ = e;
}

void CatalogGossipStore::refresh_roster_serial() {
  auto r = catalog_.roster();
  if (!r) return failed(r.error());
  roster_serial_ = *r ? (*r)->serial : 0;
}

bool CatalogGossipStore::roster_changed() {
  if (roster_serial_ == reported_serial_) return false;
  reported_serial_ = roster_serial_;
  return true;
}

PublicKey CatalogGossipStore::authority() {
  // Pinned once and never changed, so a non-zero key is cached.
  if (authority_.is_zero()) {
    auto a = catalog_.authority();
    if (a)
      authority_ = *a;
    else
      failed(a.error());
  }
  return authority_;
}

VersionVector CatalogGossipStore::version_vector() {
  auto vv = catalog_.version_vector();
  if (!vv) {
    failed(vv.error());
    return {};
  }
  return std::move(*vv);
}

std::vector<Envelope> CatalogGossipStore::records_after(const PublicKey& author, std::uint64_t after,
                                                        std::size_t max_records, std::size_t max_bytes) {
  auto r = catalog_.records_after(author, after, max_records, max_bytes);
  if (!r) {
    failed(r.error());
    return {};
  }
  return std::move(*r);
}

std::vector<IngestResult> CatalogGossipStore::ingest(const std::vector<Envelope>& records) {
  std::vector<IngestResult> results(records.size());
  if (records.empty()) return results;

  // Relays of records we hold are the common case: answer them without spending a
  // signature check.
  VersionVector vv;
  if (auto v = catalog_.version_vector())
    vv = std::move(*v);
  else
    failed(v.error());
  std::vector<std::size_t> todo;
  todo.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Envelope& e = records[i];
    auto it = vv.find(e.author);
    if (it == vv.end() || e.seq > it->second) {
      todo.push_back(i);
      continue;
    }
    // A seq we hold: a replay if it is the stored record (same signature), which is the
    // common case and costs one read. A different record under that seq is refused —
    // as forged if its signature fails, else as the author equivocating.
    results[i].outcome = IngestOutcome::duplicate;
    auto stored = catalog_.records_after(e.author, e.seq - 1, 1, 1);
    if (!stored || stored->empty() || stored->front().seq != e.seq || stored->front().signature == e.signature) continue;
    results[i].outcome = IngestOutcome::refused;
    if (!e.verify())
      results[i].error = make_error(Errc::unauthorized, "bad_signature",
                                    "signature of record " + std::to_string(e.seq) + " by " + short_key(e.author) +
                                        " does not verify");
    else
      results[i].error = make_error(Errc::conflict, "seq_conflict",
                                    "record " + std::to_string(e.seq) + " of " + short_key(e.author) +
                                        " differs from the record already stored under that seq; the first one is kept");
  }
  if (todo.empty()) return results;

  // char, not bool: distinct elements may be written from distinct threads.
  std::vector<char> good(todo.size(), 0);
  auto check = [&](std::size_t k) { good[k] = records[todo[k]].verify() ? 1 : 0; };
  if (pool_ && todo.size() > 1)
    pool_->run(todo.size(), check);
  else
    for (std::size_t k = 0; k < todo.size(); ++k) check(k);

  std::vector<std::size_t> apply;
  apply.reserve(todo.size());
  for (std::size_t k = 0; k < todo.size(); ++k) {
    const Envelope& e = records[todo[k]];
    if (good[k]) {
      apply.push_back(todo[k]);
      continue;
    }
    results[todo[k]].outcome = IngestOutcome::refused;
    results[todo[k]].error = make_error(Errc::unauthorized, "bad_signature",
                                        "signature of record " + std::to_string(e.seq) + " by " + short_key(e.author) +
                                            " does not verify");
  }
  if (apply.empty()) return results;

  Result<std::vector<IngestResult>> applied = [&]() -> Result<std::vector<IngestResult>> {
    if (apply.size() == records.size()) return catalog_.ingest_batch(records, now(), true);
    std::vector<Envelope> subset;
    subset.reserve(apply.size());
    for (std::size_t i : apply) subset.push_back(records[i]);
    return catalog_.ingest_batch(subset, now(), true);
  }();
  if (!applied || applied->size() != apply.size()) {
    Error e = applied ? make_error(Errc::io, "store_failed", "the catalog returned the wrong number of results")
                      : applied.error();
    failed(e);
    for (std::size_t i : apply) {
      results[i].outcome = IngestOutcome::refused;
      results[i].error = e;
    }
    return results;
  }
  const PublicKey auth = authority();
  bool authority_stored = false;
  for (std::size_t k = 0; k < apply.size(); ++k) {
    results[apply[k]] = std::move((*applied)[k]);
    if (results[apply[k]].outcome == IngestOutcome::stored && records[apply[k]].author == auth) authority_stored = true;
  }
  // Only the authority's records can change the roster (released successors included:
  // they are the same author's).
  if (authority_stored) refresh_roster_serial();
  return results;
}

}  // namespace fedswarm
