// Process: start a real program (usually the `fedswarm` binary) for functional tests,
// with its output captured to files, and wait for it or for a condition with a
// deadline — never a bare sleep.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fedswarm::test {

struct RunResult {
  int exit_code = -1;     // exit status, or -1 if killed by a signal
  int signal = 0;         // signal that ended it, or 0
  std::string out;        // captured stdout
  std::string err;        // captured stderr
};

class Process {
 public:
  // Starts `argv[0]` with `argv`, extra environment `env`, stdout/stderr to files in
  // `log_dir` (created).
  Process(std::vector<std::string> argv, const std::filesystem::path& log_dir,
          std::map<std::string, std::string> env = {});
  ~Process();  // kills (SIGKILL) and reaps if still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void kill(int sig);
  // Waits until the process ends or `timeout` passes; nullopt on timeout.
  std::optional<RunResult> wait(std::chrono::milliseconds timeout);
  std::string out() const;
  std::string err() const;

 private:
  pid_t pid_ = -1;
  std::filesystem::path out_path_, err_path_;
  std::optional<RunResult> result_;
};

// Runs the fedswarm binary to completion (default deadline 120 s) and returns its result.
RunResult run_fedswarm(const std::vector<std::string>& args,
                       const std::filesystem::path& log_dir,
                       std::map<std::string, std::string> env = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds(120));

// Polls `cond` until it holds or `timeout` passes; the polling interval starts small and
// doubles up to `max_step` (use a small one to act within a moment of the condition).
bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
                std::chrono::microseconds max_step = std::chrono::milliseconds(50));

}  // namespace fedswarm::test
