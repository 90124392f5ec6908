// NodeProcess: a `fedswarm node run` child process started by `fedswarm demo` (this
// binary, re-executed), with its stderr appended to <home>/logs/demo-node.log.
//
// Contract: used from the demo's thread only. `stop` sends SIGTERM and waits; the
// destructor stops it unless `detach` was called (the demo's --keep leaves nodes running).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

#include "fedswarm/protocol/Result.hpp"

namespace fedswarm::cli {

class NodeProcess {
 public:
  static Result<NodeProcess> start(const std::string& home);
  NodeProcess(NodeProcess&& o) noexcept : pid_(o.pid_), home_(std::move(o.home_)) { o.pid_ = -1; }
  NodeProcess& operator=(NodeProcess&&) = delete;
  ~NodeProcess();

  pid_t pid() const { return pid_; }
  const std::string& home() const { return home_; }
  bool running();
  // SIGTERM, then SIGKILL after `grace`; returns the exit status (or -1).
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  void detach() { pid_ = -1; }

 private:
  NodeProcess(pid_t pid, std::string home) : pid_(pid), home_(std::move(home)) {}
  pid_t pid_ = -1;
  std::string home_;
};

}  // namespace fedswarm::cli
