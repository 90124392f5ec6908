// CatalogWriter: applies record batches received from peers to the catalog off the io
// thread, in two pipelined stages (DESIGN §2):
//   verify stage (its own thread, helped by a pool): records the catalog already holds
//     are answered without a signature check (relays of known records are the common
//     case; a different record under a held seq is refused: seq_conflict, or
//     bad_signature if it does not verify); the others' Ed25519 signatures are checked
//     in parallel, one record at a time from a shared counter;
//   write stage (its own thread): the verified batches waiting are applied in one
//     Catalog::ingest_batch (group commit: one write transaction and one fsync for up
//     to `max_group_records`), and each batch's `done` is called with its results.
// So batch k+1 is verified while batch k is indexed and committed.
//
// Backpressure: `queued_records()` counts records submitted and not yet answered; the
// owner stops reading from its peers while it is over `max_queued_records` (the writer
// never refuses work: the bound comes from the owner). `on_level` is called (from the
// writer's threads) when the count crosses the cap upward or falls to half of it.
//
// Contract: `submit` from any thread; `done` and `on_level` run on the writer's
// threads and must only post to the owner. After `stop` (or destruction), queued
// batches are answered with an `unavailable` refusal for every record, so no caller
// waits for ever. A catalog failure refuses the group's records with the catalog's
// error (Gossip never punishes a peer for `io`).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

struct CatalogWriterOptions {
  // Threads verifying signatures, the verify stage's own included: 0 = one per core.
  unsigned verify_threads = 0;
  // Records a write transaction takes from the verified batches waiting.
  std::size_t max_group_records = 20'000;
  // Records submitted and not answered above which the owner should stop reading.
  std::size_t max_queued_records = 40'000;
  // Unix seconds for the receipt rules (roster expiry); empty = the system clock.
  std::function<std::int64_t()> now;
};

class CatalogWriter {
 public:
  using Done = std::function<void(std::vector<Envelope> records, std::vector<IngestResult> results)>;
  // What a commit changed, for the owner: called on the write thread after each group.
  using Committed = std::function<void(const std::vector<IngestResult>& results)>;

  CatalogWriter(Catalog& catalog, CatalogWriterOptions options);
  ~CatalogWriter();
  CatalogWriter(const CatalogWriter&) = delete;
  CatalogWriter& operator=(const CatalogWriter&) = delete;

  void submit(std::vector<Envelope> records, Done done);
  std::size_t queued_records() const { return queued_.load(); }
  bool saturated() const { return queued_.load() > options_.max_queued_records; }
  // (true: over the cap; false: back under half of it); from the writer's threads.
  void set_on_level(std::function<void(bool saturated)> f);
  void set_on_committed(Committed f);
  unsigned verify_threads() const { return verify_threads_; }
  // Stops both stages; what is queued is refused (unavailable). Idempotent.
  void stop();

  struct Stats {
    std::uint64_t batches = 0, groups = 0, records = 0, verified = 0;
  };
  Stats stats() const;

  // The same checks and one ingest_batch on the calling thread (no threads, no pool):
  // for in-process simulations and tools.
  static std::vector<IngestResult> ingest_now(Catalog& catalog, const std::vector<Envelope>& records, std::int64_t now);

 private:
  class Pool;
  // The verify stage's work on one batch: results of records not to apply, apply flags
  // of the verified ones. Returns the number of signatures checked.
  static std::size_t check(const Catalog& catalog, const std::vector<Envelope>& records,
                           std::vector<IngestResult>& results, std::vector<char>& apply, Pool* pool);
  struct Job {
    std::vector<Envelope> records;
    std::vector<IngestResult> results;  // filled by the verify stage for records not to apply
    std::vector<char> apply;            // 1: verified, to apply
    Done done;
  };

  void verify_loop();
  void write_loop();
  void verify(Job& job);
  void finish(Job& job);
  void refuse_all(Job& job, const Error& e);
  std::int64_t now() const;

  Catalog& catalog_;
  CatalogWriterOptions options_;
  unsigned verify_threads_ = 1;
  std::unique_ptr<Pool> pool_;

  mutable std::mutex mu_;
  std::condition_variable incoming_cv_, verified_cv_;
  std::deque<Job> incoming_, verified_;
  bool stopping_ = false;
  std::atomic<std::size_t> queued_{0};
  bool saturated_ = false;  // as last reported (under mu_)
  std::function<void(bool)> on_level_;
  Committed on_committed_;
  Stats stats_;

  std::thread verify_thread_, write_thread_;
};

}  // namespace fedswarm
