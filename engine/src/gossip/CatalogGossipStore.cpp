#include "gossip/CatalogGossipStore.hpp"

#include <chrono>

namespace fedswarm {

// One thread running read jobs in order.
class CatalogGossipStore::Reader {
 public:
  Reader() : thread_([this] { loop(); }) {}
  ~Reader() { stop(); }
  void post(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      jobs_.clear();
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

CatalogGossipStore::CatalogGossipStore(Catalog& catalog, CatalogGossipStoreOptions options)
    : catalog_(catalog), options_(std::move(options)) {
  // The starting state is read once, on the constructing thread (before the node runs).
  apply(snapshot(true));
  new_roster_.reset();  // the caller reads the roster it starts with itself
  if (auto a = catalog_.authority()) authority_ = *a;
  if (!options_.post) return;
  CatalogWriterOptions wo;
  wo.verify_threads = options_.verify_threads;
  wo.max_queued_records = options_.max_queued_records;
  wo.now = options_.now;
  writer_ = std::make_unique<CatalogWriter>(catalog_, wo);
  reader_ = std::make_unique<Reader>();
  writer_->set_on_level([this, alive = std::weak_ptr<int>(alive_)](bool saturated) {
    post([this, alive, saturated] {
      if (alive.expired()) return;
      saturated_ = saturated;
      if (on_saturation_) on_saturation_(saturated);
    });
  });
  writer_->set_on_committed([this, alive = std::weak_ptr<int>(alive_)](const std::vector<IngestResult>& results) {
    // On the write thread, right after the commit: what the owner must know next.
    std::vector<std::string> touched;
    bool roster = false;
    for (const auto& r : results) {
      touched.insert(touched.end(), r.touched.begin(), r.touched.end());
      roster |= r.roster_changed;
    }
    Snapshot s = snapshot(roster);
    post([this, alive, s = std::move(s), touched = std::move(touched), roster]() mutable {
      if (alive.expired()) return;
      apply(std::move(s));
      if (on_stored_) on_stored_(touched, roster);
    });
  });
}

CatalogGossipStore::~CatalogGossipStore() {
  alive_.reset();
  stop();
}

void CatalogGossipStore::stop() {
  if (writer_) writer_->stop();
  if (reader_) reader_->stop();
}

std::int64_t CatalogGossipStore::now() const {
  if (options_.now) return options_.now();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void CatalogGossipStore::post(std::function<void()> f) {
  if (options_.post) options_.post(std::move(f));
  else f();
}

void CatalogGossipStore::failed(const Error& e) {
  ++io_errors_;
  last_error_ = e;
}

unsigned CatalogGossipStore::verify_threads() const { return writer_ ? writer_->verify_threads() : 1; }

std::size_t CatalogGossipStore::queued_records() const { return writer_ ? writer_->queued_records() : 0; }

CatalogWriter::Stats CatalogGossipStore::writer_stats() const { return writer_ ? writer_->stats() : CatalogWriter::Stats{}; }

void CatalogGossipStore::set_on_stored(std::function<void(const std::vector<std::string>&, bool)> f) {
  on_stored_ = std::move(f);
}

void CatalogGossipStore::set_on_saturation(std::function<void(bool)> f) { on_saturation_ = std::move(f); }

std::optional<Roster> CatalogGossipStore::take_roster() { return std::exchange(new_roster_, std::nullopt); }

PublicKey CatalogGossipStore::authority() {
  // Pinned once and never changed; pinned by the first roster import, which a running
  // node learns of through `refresh`.
  return authority_;
}

CatalogGossipStore::Snapshot CatalogGossipStore::snapshot(bool with_roster) const {
  Snapshot s;
  if (auto vv = catalog_.version_vector()) s.vv = std::move(*vv);
  else s.error = vv.error();
  if (with_roster) {
    if (auto r = catalog_.roster(); r && *r) s.roster = std::move(**r);
    else if (!r) s.error = r.error();
  }
  return s;
}

void CatalogGossipStore::apply(Snapshot s) {
  if (s.error) failed(*s.error);
  if (s.vv) committed_ = std::move(*s.vv);
  if (s.roster && s.roster->serial > roster_serial_) {
    roster_serial_ = s.roster->serial;
    new_roster_ = std::move(*s.roster);
  }
}

VersionVector CatalogGossipStore::version_vector() {
  if (queued_.empty()) return committed_;
  VersionVector vv = committed_;
  for (const auto& [author, seqs] : queued_) {
    std::uint64_t& s = vv[author];
    while (seqs.count(s + 1)) ++s;
    if (s == 0) vv.erase(author);
  }
  return vv;
}

std::vector<Envelope> CatalogGossipStore::read_now(const std::vector<Range>& ranges, std::size_t max_records,
                                                   std::size_t max_bytes, std::optional<Error>& error) const {
  std::vector<Envelope> out;
  std::size_t bytes = 0;
  for (const auto& r : ranges) {
    std::uint64_t after = r.after;
    while (after < r.upto && out.size() < max_records && bytes < max_bytes) {
      auto got = catalog_.records_after(r.author, after, max_records - out.size(), max_bytes - bytes);
      if (!got) {
        error = got.error();
        return out;
      }
      if (got->empty()) break;
      bool stop = false;
      for (auto& e : *got) {
        if (e.author != r.author || e.seq <= after || e.seq > r.upto) {
          stop = true;
          break;
        }
        after = e.seq;
        bytes += e.body.size() + 160;
        out.push_back(std::move(e));
      }
      if (stop) break;
    }
    if (out.size() >= max_records || bytes >= max_bytes) break;
  }
  return out;
}

void CatalogGossipStore::read(std::vector<Range> ranges, std::size_t max_records, std::size_t max_bytes,
                              ReadDone done) {
  if (!reader_) {
    std::optional<Error> error;
    auto out = read_now(ranges, max_records, max_bytes, error);
    if (error) failed(*error);
    return done(std::move(out));
  }
  reader_->post([this, alive = std::weak_ptr<int>(alive_), ranges = std::move(ranges), max_records, max_bytes,
                 done = std::move(done)]() mutable {
    std::optional<Error> error;
    auto out = read_now(ranges, max_records, max_bytes, error);
    post([this, alive, out = std::move(out), error = std::move(error), done = std::move(done)]() mutable {
      if (alive.expired()) return;
      if (error) failed(*error);
      done(std::move(out));
    });
  });
}

void CatalogGossipStore::ingest(std::vector<Envelope> records, IngestDone done) {
  if (!writer_) {
    auto results = CatalogWriter::ingest_now(catalog_, records, now());
    bool roster = false;
    std::vector<std::string> touched;
    for (const auto& r : results) {
      if (r.outcome == IngestOutcome::refused && r.error && r.error->code == Errc::io) failed(*r.error);
      touched.insert(touched.end(), r.touched.begin(), r.touched.end());
      roster |= r.roster_changed;
    }
    apply(snapshot(roster));
    if (on_stored_ && (roster || !touched.empty())) on_stored_(touched, roster);
    return done(std::move(records), std::move(results));
  }
  for (const auto& e : records) queued_[e.author].insert(e.seq);
  writer_->submit(std::move(records), [this, alive = std::weak_ptr<int>(alive_), done = std::move(done)](
                                          std::vector<Envelope> recs, std::vector<IngestResult> results) mutable {
    post([this, alive, recs = std::move(recs), results = std::move(results), done = std::move(done)]() mutable {
      if (alive.expired()) return;
      for (const auto& e : recs) {
        auto it = queued_.find(e.author);
        if (it == queued_.end()) continue;
        if (auto s = it->second.find(e.seq); s != it->second.end()) it->second.erase(s);
        if (it->second.empty()) queued_.erase(it);
      }
      for (const auto& r : results)
        if (r.outcome == IngestOutcome::refused && r.error && r.error->code == Errc::io) failed(*r.error);
      done(std::move(recs), std::move(results));
    });
  });
}

void CatalogGossipStore::refresh(std::function<void()> done) {
  if (!reader_) {
    apply(snapshot(true));
    if (authority_.is_zero())
      if (auto a = catalog_.authority()) authority_ = *a;
    if (done) done();
    return;
  }
  reader_->post([this, alive = std::weak_ptr<int>(alive_), done = std::move(done)]() mutable {
    Snapshot s = snapshot(true);
    std::optional<PublicKey> authority;
    if (auto a = catalog_.authority()) authority = *a;
    post([this, alive, s = std::move(s), authority, done = std::move(done)]() mutable {
      if (alive.expired()) return;
      apply(std::move(s));
      if (authority && authority_.is_zero()) authority_ = *authority;
      if (done) done();
    });
  });
}

}  // namespace fedswarm
