// HomeLock: holds `<home>/node.lock` (flock) for the daemon's lifetime, so two nodes
// never run in one home. The file carries the holder's pid (informational).
//
// Contract: any thread. Errors: `conflict` (reason node_running, naming the pid and what
// to do), `io` (reason node_lock) when the file cannot be opened.
#pragma once

#include <filesystem>
#include <memory>

#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

class HomeLock {
 public:
  static Result<std::unique_ptr<HomeLock>> take(const std::filesystem::path& home);
  ~HomeLock();
  HomeLock(const HomeLock&) = delete;
  HomeLock& operator=(const HomeLock&) = delete;

 private:
  explicit HomeLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace fedswarm
