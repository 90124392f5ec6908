// SwarmWorker (engine-private): the one thread that runs the swarm engine's slow file
// work — preparing staging (links, copies) and verifying/placing versions — so the
// owner thread (the daemon's io thread) never waits for a SHA-256 of gigabytes.
//
// A job runs on the worker and returns a completion; completions are collected by the
// owner thread (`take_completions`, from SwarmEngine::poll) and run there, in job order.
// `wake` is called from the worker after each job (it must only post).
//
// Contract: `submit`, `take_completions` and `shutdown` from the owner thread.
// `shutdown` (also the destructor) sets `cancelled()`, lets the job in progress finish
// (jobs check the flag between files), drops queued jobs and joins; completions not yet
// taken are dropped too.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace fedswarm {

class SwarmWorker {
 public:
  using Completion = std::function<void()>;
  using Job = std::function<Completion()>;

  explicit SwarmWorker(std::function<void()> wake);
  ~SwarmWorker();
  SwarmWorker(const SwarmWorker&) = delete;
  SwarmWorker& operator=(const SwarmWorker&) = delete;

  void submit(Job job);
  std::vector<Completion> take_completions();
  // Jobs queued or running.
  std::size_t pending() const;
  const std::atomic<bool>& cancelled() const { return cancelled_; }
  void shutdown();

 private:
  void run();

  std::function<void()> wake_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::vector<Completion> done_;
  std::size_t running_ = 0;
  bool stopping_ = false;
  std::atomic<bool> cancelled_{false};
  std::thread thread_;
};

}  // namespace fedswarm
