#include "swarm/SwarmWorker.hpp"

namespace fedswarm {

SwarmWorker::SwarmWorker(std::function<void()> wake) : wake_(std::move(wake)), thread_([this] { run(); }) {}

SwarmWorker::~SwarmWorker() { shutdown(); }

void SwarmWorker::submit(Job job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

std::vector<SwarmWorker::Completion> SwarmWorker::take_completions() {
  std::lock_guard lock(mu_);
  std::vector<Completion> out;
  out.swap(done_);
  return out;
}

std::size_t SwarmWorker::pending() const {
  std::lock_guard lock(mu_);
  return jobs_.size() + running_ + done_.size();
}

void SwarmWorker::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    jobs_.clear();
  }
  cancelled_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  done_.clear();
}

void SwarmWorker::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++running_;
    }
    Completion c = job();
    {
      std::lock_guard lock(mu_);
      --running_;
      if (c) done_.push_back(std::move(c));
    }
    if (wake_) wake_();
  }
}

}  // namespace fedswarm
