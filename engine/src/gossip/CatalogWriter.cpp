#include "gossip/CatalogWriter.hpp"

#include <chrono>

namespace fedswarm {

// Runs index-parallel jobs on a few worker threads plus the caller. Signature checks
// cost ~50 µs each, so work is handed out one index at a time from an atomic counter.
class CatalogWriter::Pool {
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

CatalogWriter::CatalogWriter(Catalog& catalog, CatalogWriterOptions options)
    : catalog_(catalog), options_(std::move(options)) {
  verify_threads_ = options_.verify_threads != 0 ? options_.verify_threads : std::max(1u, std::thread::hardware_concurrency());
  if (verify_threads_ > 1) pool_ = std::make_unique<Pool>(verify_threads_ - 1);
  options_.max_group_records = std::max<std::size_t>(options_.max_group_records, 1);
  verify_thread_ = std::thread([this] { verify_loop(); });
  write_thread_ = std::thread([this] { write_loop(); });
}

CatalogWriter::~CatalogWriter() { stop(); }

std::int64_t CatalogWriter::now() const {
  if (options_.now) return options_.now();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void CatalogWriter::set_on_level(std::function<void(bool)> f) {
  std::lock_guard lock(mu_);
  on_level_ = std::move(f);
}

void CatalogWriter::set_on_committed(Committed f) {
  std::lock_guard lock(mu_);
  on_committed_ = std::move(f);
}

CatalogWriter::Stats CatalogWriter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void CatalogWriter::submit(std::vector<Envelope> records, Done done) {
  Job job;
  job.records = std::move(records);
  job.results.resize(job.records.size());
  job.apply.assign(job.records.size(), 0);
  job.done = std::move(done);
  std::function<void(bool)> level;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      refuse_all(job, make_error(Errc::unavailable, "writer_stopped", "the node is stopping"));
    } else {
      queued_ += job.records.size();
      if (!saturated_ && queued_.load() > options_.max_queued_records) {
        saturated_ = true;
        level = on_level_;
      }
      ++stats_.batches;
      incoming_.push_back(std::move(job));
      incoming_cv_.notify_one();
      job.done = nullptr;
    }
  }
  if (job.done) job.done(std::move(job.records), std::move(job.results));
  if (level) level(true);
}

void CatalogWriter::refuse_all(Job& job, const Error& e) {
  for (auto& r : job.results) {
    r.outcome = IngestOutcome::refused;
    r.error = e;
  }
  std::fill(job.apply.begin(), job.apply.end(), 0);
}

void CatalogWriter::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !verify_thread_.joinable() && !write_thread_.joinable()) return;
    stopping_ = true;
  }
  incoming_cv_.notify_all();
  verified_cv_.notify_all();
  if (verify_thread_.joinable()) verify_thread_.join();
  if (write_thread_.joinable()) write_thread_.join();
  // Whatever is left is answered: nobody waits for ever.
  std::deque<Job> left;
  {
    std::lock_guard lock(mu_);
    left.swap(incoming_);
    for (auto& j : verified_) left.push_back(std::move(j));
    verified_.clear();
  }
  for (auto& j : left) {
    refuse_all(j, make_error(Errc::unavailable, "writer_stopped", "the node is stopping"));
    queued_ -= std::min(queued_.load(), j.records.size());
    if (j.done) j.done(std::move(j.records), std::move(j.results));
  }
}

// --- verify stage ---------------------------------------------------------------------------

void CatalogWriter::verify(Job& job) {
  const std::size_t checked = check(catalog_, job.records, job.results, job.apply, pool_.get());
  std::lock_guard lock(mu_);
  stats_.verified += checked;
}

std::size_t CatalogWriter::check(const Catalog& catalog, const std::vector<Envelope>& records,
                                 std::vector<IngestResult>& results, std::vector<char>& apply, Pool* pool) {
  struct JobView {
    const std::vector<Envelope>& records;
    std::vector<IngestResult>& results;
    std::vector<char>& apply;
  } job{records, results, apply};
  auto refuse_all = [&](const Error& e) {
    for (auto& r : job.results) {
      r.outcome = IngestOutcome::refused;
      r.error = e;
    }
    std::fill(job.apply.begin(), job.apply.end(), 0);
  };
  // Relays of records we hold are the common case: answer them without a signature
  // check. The version vector read here may lag batches still queued for writing; those
  // records are verified and then found duplicates by the catalog.
  VersionVector vv;
  auto v = catalog.version_vector();
  if (!v) {
    refuse_all(v.error());
    return 0;
  }
  vv = std::move(*v);
  std::vector<std::size_t> todo;
  todo.reserve(job.records.size());
  for (std::size_t i = 0; i < job.records.size(); ++i) {
    const Envelope& e = job.records[i];
    auto it = vv.find(e.author);
    if (it == vv.end() || e.seq > it->second) {
      todo.push_back(i);
      continue;
    }
    // A seq we hold: a replay if it is the stored record (same signature). A different
    // record under that seq is refused — as forged if its signature fails, else as the
    // author equivocating.
    job.results[i].outcome = IngestOutcome::duplicate;
    auto stored = catalog.records_after(e.author, e.seq - 1, 1, 1);
    if (!stored || stored->empty() || stored->front().seq != e.seq || stored->front().signature == e.signature) continue;
    job.results[i].outcome = IngestOutcome::refused;
    if (!e.verify())
      job.results[i].error = make_error(Errc::unauthorized, "bad_signature",
                                        "signature of record " + std::to_string(e.seq) + " by " + short_key(e.author) +
                                            " does not verify");
    else
      job.results[i].error = make_error(Errc::conflict, "seq_conflict",
                                        "record " + std::to_string(e.seq) + " of " + short_key(e.author) +
                                            " differs from the record already stored under that seq; the first one is kept");
  }
  if (todo.empty()) return 0;
  // char, not bool: distinct elements may be written from distinct threads.
  std::vector<char> good(todo.size(), 0);
  auto check = [&](std::size_t k) { good[k] = job.records[todo[k]].verify() ? 1 : 0; };
  if (pool && todo.size() > 1)
    pool->run(todo.size(), check);
  else
    for (std::size_t k = 0; k < todo.size(); ++k) check(k);
  for (std::size_t k = 0; k < todo.size(); ++k) {
    const std::size_t i = todo[k];
    if (good[k]) {
      job.apply[i] = 1;
      continue;
    }
    const Envelope& e = job.records[i];
    job.results[i].outcome = IngestOutcome::refused;
    job.results[i].error = make_error(Errc::unauthorized, "bad_signature",
                                      "signature of record " + std::to_string(e.seq) + " by " + short_key(e.author) +
                                          " does not verify");
  }
  return todo.size();
}

std::vector<IngestResult> CatalogWriter::ingest_now(Catalog& catalog, const std::vector<Envelope>& records,
                                                    std::int64_t now) {
  std::vector<IngestResult> results(records.size());
  std::vector<char> apply(records.size(), 0);
  check(catalog, records, results, apply, nullptr);
  std::vector<Envelope> good;
  std::vector<std::size_t> where;
  for (std::size_t i = 0; i < records.size(); ++i)
    if (apply[i]) {
      good.push_back(records[i]);
      where.push_back(i);
    }
  if (good.empty()) return results;
  auto applied = catalog.ingest_batch(good, now, true);
  for (std::size_t k = 0; k < where.size(); ++k) {
    if (applied && applied->size() == good.size()) {
      results[where[k]] = (*applied)[k];
    } else {
      results[where[k]].outcome = IngestOutcome::refused;
      results[where[k]].error =
          applied ? make_error(Errc::io, "store_failed", "the catalog returned the wrong number of results") : applied.error();
    }
  }
  return results;
}

void CatalogWriter::verify_loop() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      incoming_cv_.wait(lock, [&] { return stopping_ || !incoming_.empty(); });
      if (stopping_) return;
      job = std::move(incoming_.front());
      incoming_.pop_front();
    }
    verify(job);
    {
      std::lock_guard lock(mu_);
      verified_.push_back(std::move(job));
    }
    verified_cv_.notify_one();
  }
}

// --- write stage ----------------------------------------------------------------------------

void CatalogWriter::finish(Job& job) {
  const std::size_t n = job.records.size();
  std::function<void(bool)> level;
  {
    std::lock_guard lock(mu_);
    queued_ -= std::min(queued_.load(), n);
    if (saturated_ && queued_.load() <= options_.max_queued_records / 2) {
      saturated_ = false;
      level = on_level_;
    }
  }
  if (job.done) job.done(std::move(job.records), std::move(job.results));
  if (level) level(false);
}

void CatalogWriter::write_loop() {
  for (;;) {
    std::vector<Job> group;
    {
      std::unique_lock lock(mu_);
      verified_cv_.wait(lock, [&] { return stopping_ || !verified_.empty(); });
      if (stopping_) return;
      std::size_t records = 0;
      while (!verified_.empty() && (group.empty() || records + verified_.front().records.size() <= options_.max_group_records)) {
        records += verified_.front().records.size();
        group.push_back(std::move(verified_.front()));
        verified_.pop_front();
      }
    }
    // One transaction for every verified record of the group.
    std::vector<Envelope> apply;
    std::vector<std::pair<std::size_t, std::size_t>> where;  // (job, record)
    for (std::size_t j = 0; j < group.size(); ++j)
      for (std::size_t i = 0; i < group[j].records.size(); ++i)
        if (group[j].apply[i]) {
          apply.push_back(group[j].records[i]);
          where.emplace_back(j, i);
        }
    std::vector<IngestResult> committed;
    if (!apply.empty()) {
      auto results = catalog_.ingest_batch(apply, now(), true);
      if (!results || results->size() != apply.size()) {
        const Error e = results ? make_error(Errc::io, "store_failed", "the catalog returned the wrong number of results")
                                : results.error();
        for (const auto& [j, i] : where) {
          group[j].results[i].outcome = IngestOutcome::refused;
          group[j].results[i].error = e;
        }
      } else {
        for (std::size_t k = 0; k < where.size(); ++k) {
          const auto [j, i] = where[k];
          group[j].results[i] = (*results)[k];
        }
        committed = std::move(*results);
      }
    }
    Committed on_committed;
    {
      std::lock_guard lock(mu_);
      ++stats_.groups;
      stats_.records += apply.size();
      on_committed = on_committed_;
    }
    if (on_committed && !committed.empty()) on_committed(committed);
    for (auto& job : group) finish(job);
  }
}

}  // namespace fedswarm
