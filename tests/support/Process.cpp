#include "Process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <thread>

#include "TestSupport.hpp"

namespace fedswarm::test {

namespace {
std::atomic<int> counter{0};

RunResult decode_status(int status) {
  RunResult r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}
}  // namespace

Process::Process(std::vector<std::string> argv, const std::filesystem::path& log_dir,
                 std::map<std::string, std::string> env) {
  std::filesystem::create_directories(log_dir);
  int n = counter++;
  out_path_ = log_dir / ("proc" + std::to_string(n) + ".out");
  err_path_ = log_dir / ("proc" + std::to_string(n) + ".err");
  // Open the output files in the parent so they exist even if the child dies at once.
  int out = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0 || err < 0) throw std::runtime_error("cannot create output files in " + log_dir.string());
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ > 0) {
    close(out);
    close(err);
    return;
  }
  {
    int null = open("/dev/null", O_RDONLY);
    if (null < 0) _exit(127);
    dup2(null, 0);
    dup2(out, 1);
    dup2(err, 2);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait(std::chrono::seconds(10));
  }
}

bool Process::running() {
  if (result_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    result_ = decode_status(status);
    return false;
  }
  return r == 0;
}

void Process::kill(int sig) {
  if (!result_) ::kill(pid_, sig);
}

std::optional<RunResult> Process::wait(std::chrono::milliseconds timeout) {
  if (!wait_until([this] { return !running(); }, timeout)) return std::nullopt;
  RunResult r = *result_;
  r.out = out();
  r.err = err();
  return r;
}

std::string Process::out() const { return read_file(out_path_); }
std::string Process::err() const { return read_file(err_path_); }

RunResult run_fedswarm(const std::vector<std::string>& args, const std::filesystem::path& log_dir,
                       std::map<std::string, std::string> env, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{FEDSWARM_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p(argv, log_dir, std::move(env));
  auto r = p.wait(timeout);
  if (!r) {
    p.kill(SIGKILL);
    throw std::runtime_error("fedswarm " + (args.empty() ? std::string() : args[0]) + " did not finish in time");
  }
  return *r;
}

bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
                std::chrono::microseconds max_step) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::chrono::microseconds step = std::min<std::chrono::microseconds>(std::chrono::microseconds(100), max_step);
  while (true) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);  // polling interval of a deadline wait, not a fixed delay
    if (step < max_step) step = std::min(step * 2, max_step);
  }
}

}  // namespace fedswarm::test
