// BenchProcess (bench support): what the benches that start real `fedswarm node run`
// processes measure and ask of them — CPU seconds and memory from /proc, a control
// request to a running node, and the bench's work directory.
//
// Contract: header-only; bench thread only. The /proc readers return 0 when the process
// is gone; `ask` returns the node's error (or the transport's) as a Result.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "fedswarm/engine/ControlClient.hpp"

namespace fedswarm::bench {

// utime + stime of a process, in seconds.
inline double cpu_seconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(text.substr(close + 2));
  std::string field;
  std::vector<std::string> fields;
  while (in >> field) fields.push_back(field);
  if (fields.size() < 13) return 0;
  return (std::stod(fields[11]) + std::stod(fields[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A field of /proc/<pid>/status in bytes (RssAnon, VmHWM).
inline std::uint64_t proc_status_bytes(pid_t pid, const std::string& key) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1)) * 1024;
  return 0;
}

inline std::uint64_t rss_anon(pid_t pid) { return proc_status_bytes(pid, "RssAnon"); }

// One control request to the node of `home` (60 s timeout).
inline Result<nlohmann::json> ask(const std::filesystem::path& home, ControlCommand cmd, std::uint64_t limit = 100) {
  ControlRequest r;
  r.cmd = cmd;
  r.limit = limit;
  FEDSWARM_ASSIGN_OR_RETURN(auto j, control_request(home, r.to_json(), std::chrono::seconds(60)));
  if (auto e = error_from_json(j)) return *e;
  return j;
}

// `dir` if given, else $TMPDIR (or /tmp) / <name>-<pid>.
inline std::filesystem::path work_dir(const std::filesystem::path& dir, const std::string& name) {
  if (!dir.empty()) return dir;
  const char* tmp = std::getenv("TMPDIR");
  return std::filesystem::path(tmp && *tmp ? tmp : "/tmp") / (name + "-" + std::to_string(getpid()));
}

}  // namespace fedswarm::bench
