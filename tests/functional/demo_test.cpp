// Functional: the README's main job, `fedswarm demo`, runs every step — publish, gossip,
// subscriptions fetched by swarm, a new version whose unchanged files are hard-linked, a
// retraction reaching every copy, `check` — and exits 0; with --keep it leaves a running
// federation whose subscribers hold the new version; without, it removes everything.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>

#include "FunctionalFixture.hpp"

using namespace fedswarm;
using namespace fedswarm::test;
namespace fs = std::filesystem;

namespace {

// The pids of "Stop the nodes with: kill 123 456 …" in the --keep output.
std::vector<pid_t> kept_pids(const std::string& out) {
  std::vector<pid_t> pids;
  auto at = out.find("Stop the nodes with: kill");
  if (at == std::string::npos) return pids;
  std::istringstream line(out.substr(at + 25, out.find('\n', at) - at - 25));
  for (long pid; line >> pid;) pids.push_back(static_cast<pid_t>(pid));
  return pids;
}

// Alive and not a zombie (the kept nodes are reparented, so the test cannot reap them).
bool alive(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = s.rfind(')');
  return close == std::string::npos || close + 2 >= s.size() || s[close + 2] != 'Z';
}

// Stops the nodes a --keep demo left running, whatever the test's outcome.
struct KeptNodes {
  std::vector<pid_t> pids;
  ~KeptNodes() {
    for (pid_t p : pids) ::kill(p, SIGTERM);
    wait_until([&] {
      for (pid_t p : pids)
        if (alive(p)) return false;
      return true;
    }, std::chrono::seconds(20));
    for (pid_t p : pids)
      if (alive(p)) ::kill(p, SIGKILL);
  }
};

// Version directories (vYYYYMMDD) under a DRS root, grouped by dataset directory.
std::map<fs::path, std::set<std::string>> versions_under(const fs::path& root) {
  std::map<fs::path, std::set<std::string>> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.rfind('.', 0) == 0) {  // .staging, .quarantine
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory() && name.size() == 9 && name[0] == 'v') out[it->path().parent_path()].insert(name);
  }
  return out;
}

ino_t inode(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

}  // namespace

TEST_CASE("fedswarm demo runs every swarm step and with --keep leaves subscribers holding the new version") {
  TempDir tmp("fedswarm-demo-test");

  // --keep: the federation stays up and its files stay in place (until this block ends).
  {
  const auto kept = tmp.path() / "kept";
  auto r = run_fedswarm({"demo", "--keep", "--dir", kept.string()}, tmp.path() / "logs-kept", {}, std::chrono::seconds(240));
  KeptNodes nodes{kept_pids(r.out)};
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(nodes.pids.size() == 5);
  for (pid_t p : nodes.pids) CHECK(alive(p));

  // The steps happened, each with its table.
  for (std::string expected : {"every catalog holds the same", "both subscribers placed every wanted version",
                               "Who holds what", "RECEIVED FROM PEERS", "SENT TO PEERS", "(NEW)", "SAME INODE AS",
                               "2 of 3 files", "superseded", "quarantined at", "every node stopped offering it",
                               "FILE OF ITS COPY", "demo finished. The federation keeps running"}) {
    CAPTURE(expected);
    CHECK(r.out.find(expected) != std::string::npos);
  }

  // DKRZ (the Tier-1 subscriber) holds both versions of the superseded dataset, the new
  // one byte-identical to the primary's, its unchanged files hard-linked to the old ones.
  const fs::path archive = kept / "archive";
  const fs::path dkrz = kept / "DKRZ" / "data";
  std::size_t datasets_with_two = 0;
  for (const auto& [dataset_dir, versions] : versions_under(dkrz)) {
    if (versions.size() < 2) continue;
    ++datasets_with_two;
    const std::string older = *versions.begin(), newer = *versions.rbegin();
    const fs::path rel = fs::relative(dataset_dir, dkrz);
    std::size_t linked = 0, files = 0;
    for (const auto& f : fs::directory_iterator(dataset_dir / newer)) {
      const auto name = f.path().filename();
      ++files;
      CAPTURE(name);
      CHECK(read_file(f.path()) == read_file(archive / rel / newer / name));
      linked += inode(f.path()) == inode(dataset_dir / older / name);
    }
    CHECK(files == 3);
    CHECK(linked == 2);
  }
  CHECK(datasets_with_two == 1);
  // The dark repository quarantined its copy of the retracted version.
  CHECK_FALSE(fs::is_empty(kept / "dark-mirror" / "data" / ".quarantine"));
  }

  // Without --keep: the same walk-through, then everything is removed.
  const auto gone = tmp.path() / "gone";
  auto plain = run_fedswarm({"demo", "--dir", gone.string()}, tmp.path() / "logs-plain", {}, std::chrono::seconds(240));
  INFO("stdout (plain): " << plain.out << "\nstderr (plain): " << plain.err);
  REQUIRE(plain.exit_code == 0);
  CHECK(plain.out.find("demo finished; stopped the nodes") != std::string::npos);
  CHECK_FALSE(fs::exists(gone));
}
