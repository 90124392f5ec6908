// Shared setup for functional tests: a federation authority and node homes made with the
// real `fedswarm` binary, each test in its own temporary directory.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "Process.hpp"
#include "TestSupport.hpp"

namespace fedswarm::test {

class CliWorld {
 public:
  CliWorld() : auth_(dir_ / "authority"), logs_(dir_ / "logs") {
    must({"federation", "init", "--dir", auth_.string(), "--name", "test-federation"});
  }

  const std::filesystem::path& dir() const { return dir_.path(); }
  const std::filesystem::path& logs() const { return logs_; }

  // Runs fedswarm and returns the result (no expectation on the exit code).
  RunResult run(const std::vector<std::string>& args) { return run_fedswarm(args, logs_); }

  // Runs fedswarm and requires exit 0.
  RunResult must(const std::vector<std::string>& args) {
    auto r = run(args);
    std::string line;
    for (const auto& a : args) line += a + " ";
    INFO("fedswarm " << line << "\nstdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  }

  nlohmann::json json(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    return nlohmann::json::parse(must(args).out);
  }

  // A node home admitted to the federation: member, granted `institutions` of CMIP6
  // (none = all), roster imported.
  // `init_args` are passed to `fedswarm init` (e.g. --listen).
  std::string node(const std::string& site, const std::string& tier = "2",
                   const std::vector<std::string>& institutions = {}, const std::vector<std::string>& init_args = {},
                   bool import_roster = true) {
    std::string home = (dir_ / site).string();
    std::vector<std::string> init{"--home", home, "init", "--site", site, "--tier", tier};
    init.insert(init.end(), init_args.begin(), init_args.end());
    must(init);
    must({"federation", "add-node", "--dir", auth_.string(), "--from-home", home});
    std::vector<std::string> grant{"federation", "grant", "--dir", auth_.string(), "--from-home", home, "--project", "CMIP6"};
    for (const auto& i : institutions) {
      grant.push_back("--institution");
      grant.push_back(i);
    }
    must(grant);
    if (import_roster) refresh_roster({home});
    return home;
  }

  // Issues the next roster and imports it into every home in `homes`.
  void refresh_roster(const std::vector<std::string>& homes) {
    std::string roster = (dir_ / ("roster" + std::to_string(++rosters_) + ".fsr")).string();
    must({"federation", "roster", "--dir", auth_.string(), "-o", roster});
    for (const auto& h : homes) must({"--home", h, "federation", "import", roster});
  }

  std::string authority_dir() const { return auth_.string(); }

 private:
  TempDir dir_{"fedswarm-functional"};
  std::filesystem::path auth_;
  std::filesystem::path logs_;
  int rosters_ = 0;
};

}  // namespace fedswarm::test
