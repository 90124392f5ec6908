// cluster_bench: real `fedswarm node run` processes on loopback (issue 3's benchmark).
//
// 1. Spread: N nodes (default 32), each on its own address 127.0.<net>.2…, one roster.
//    A manifest is published at one node (the CLI, while the nodes run); the bench polls
//    every node's control socket until all N catalogs hold it. Reported in ms and in
//    gossip intervals, over several trials, publishing at a different node each time.
// 2. Idle cost: with the N nodes converged and nothing to do, CPU % (utime+stime over a
//    window, from /proc) and RSS of each node.
// 3. Catch-up ingest: a node whose catalog holds `--catchup` records (default 100,000
//    signed manifests, ~4 files each) and an empty node start; the empty node's records/s
//    while it verifies and stores them all from its peer.
//
// Usage: cluster_bench [--nodes N] [--trials T] [--interval-ms MS] [--idle-s S]
//                      [--catchup R] [--net OCTET] [--dir DIR] [--keep]
// The fedswarm binary next to this build (FEDSWARM_BIN) is used.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <numeric>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "ManifestFactory.hpp"
#include "Process.hpp"
#include "TestSupport.hpp"
#include "fedswarm/engine/ControlClient.hpp"
#include "fedswarm/engine/NodeHome.hpp"
#include "fedswarm/engine/SampleTree.hpp"

using namespace fedswarm;
using namespace fedswarm::test;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::size_t nodes = 32;
  int trials = 5;
  int interval_ms = 500;
  int idle_s = 10;
  std::size_t catchup = 100000;
  int net = 40;
  std::filesystem::path dir;
  bool keep = false;
};

[[noreturn]] void die(const std::string& m) {
  std::cerr << "cluster_bench: " << m << "\n";
  std::exit(1);
}

RunResult must(const std::vector<std::string>& args, const std::filesystem::path& logs) {
  auto r = run_fedswarm(args, logs);
  if (r.exit_code != 0) {
    std::string line;
    for (const auto& a : args) line += a + " ";
    die("fedswarm " + line + "failed:\n" + r.err);
  }
  return r;
}

void set_config(const std::filesystem::path& home, const std::map<std::string, std::string>& values) {
  std::string text = read_file(home / "config.toml"), out, line;
  std::istringstream in(text);
  while (std::getline(in, line)) {
    for (const auto& [k, v] : values)
      if (line.rfind(k + " = ", 0) == 0) line = k + " = " + v;
    out += line + "\n";
  }
  write_file(home / "config.toml", out);
}

struct Cluster {
  std::filesystem::path root, logs, authority;
  std::vector<std::filesystem::path> homes;
  std::vector<std::unique_ptr<Process>> procs;
  int port = 0;

  Cluster(std::filesystem::path dir, int net, std::size_t n, int interval_ms) : root(std::move(dir)) {
    logs = root / "logs";
    authority = root / "authority";
    port = 20000 + static_cast<int>(std::random_device{}() % 30000);
    must({"federation", "init", "--dir", authority.string(), "--name", "bench"}, logs);
    for (std::size_t i = 0; i < n; ++i) {
      auto home = root / ("n" + std::to_string(i));
      std::string listen = "127.0." + std::to_string(net) + "." + std::to_string(2 + i) + ":" + std::to_string(port);
      must({"--home", home.string(), "init", "--site", "n" + std::to_string(i), "--tier", "2", "--listen", listen}, logs);
      set_config(home, {{"interval_ms", std::to_string(interval_ms)}});
      must({"federation", "add-node", "--dir", authority.string(), "--from-home", home.string()}, logs);
      must({"federation", "grant", "--dir", authority.string(), "--from-home", home.string(), "--project", "CMIP6"}, logs);
      homes.push_back(home);
    }
    auto roster = root / "roster.fsr";
    must({"federation", "roster", "--dir", authority.string(), "-o", roster.string()}, logs);
    for (const auto& h : homes) must({"--home", h.string(), "federation", "import", roster.string()}, logs);
    procs.resize(n);
  }
  ~Cluster() { stop_all(); }

  void start(std::size_t i) {
    procs[i] = std::make_unique<Process>(
        std::vector<std::string>{FEDSWARM_BIN, "--home", homes[i].string(), "node", "run", "--log-level", "warn"},
        logs / ("node" + std::to_string(i)));
  }
  void stop_all() {
    for (auto& p : procs)
      if (p) p->kill(SIGTERM);
    for (auto& p : procs)
      if (p) p->wait(std::chrono::seconds(20));
    procs.clear();
  }
  std::optional<nlohmann::json> status(std::size_t i) {
    auto r = control_request(homes[i], {{"cmd", "status"}}, std::chrono::seconds(5));
    if (!r) return std::nullopt;
    return *r;
  }
  std::uint64_t records(std::size_t i) {
    auto s = status(i);
    return s ? s->value("records", std::uint64_t{0}) : 0;
  }
  bool wait(const std::function<bool()>& cond, std::chrono::seconds timeout) {
    return wait_until(cond, timeout, std::chrono::milliseconds(2));
  }
};

struct ProcStat {
  double cpu_s = 0;
  double rss_mib = 0;
};

ProcStat proc_stat(pid_t pid) {
  ProcStat s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = all.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream rest(all.substr(close + 2));
  std::string field;
  std::vector<std::string> f;
  while (rest >> field) f.push_back(field);
  // Fields after the command: state(3) … utime(14) stime(15), counted from 3.
  if (f.size() > 13) s.cpu_s = (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) s.rss_mib = std::stod(line.substr(6)) / 1024.0;
  return s;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

// Fills `home`'s catalog with `n` manifests signed by its own key (seq 1..n).
void prefill(const std::filesystem::path& home, std::size_t n) {
  auto h = NodeHome::open(home);
  if (!h) die(h.error().message);
  auto catalog = h->open_catalog(false);
  if (!catalog) die(catalog.error().message);
  ManifestFactory factory(cv_dir());
  std::mt19937_64 rng(42);
  std::set<std::string> seen;
  std::vector<Envelope> batch;
  std::uint64_t seq = 0;
  auto vv = (*catalog)->version_vector();
  if (vv)
    if (auto it = vv->find(h->key().public_key()); it != vv->end()) seq = it->second;
  while (seq < n) {
    DatasetSpec spec = factory.random_dataset(rng);
    std::string version = version_string(static_cast<int>(rng() % 3000));
    if (!seen.insert(spec.dataset_id() + "." + version).second) continue;
    Manifest m = factory.make(spec, version, 4, rng);
    batch.push_back(Envelope::sign(h->key(), ++seq, RecordKind::manifest, m.encode()));
    if (batch.size() == 5000 || seq == n) {
      auto r = (*catalog)->ingest_batch(batch, std::time(nullptr), true);
      if (!r) die(r.error().message);
      for (const auto& x : *r)
        if (x.outcome != IngestOutcome::stored) die("prefill record refused: " + (x.error ? x.error->message : "?"));
      batch.clear();
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--nodes") o.nodes = std::stoul(next());
    else if (a == "--trials") o.trials = std::stoi(next());
    else if (a == "--interval-ms") o.interval_ms = std::stoi(next());
    else if (a == "--idle-s") o.idle_s = std::stoi(next());
    else if (a == "--catchup") o.catchup = std::stoul(next());
    else if (a == "--net") o.net = std::stoi(next());
    else if (a == "--dir") o.dir = next();
    else if (a == "--keep") o.keep = true;
    else die("unknown option " + a + " (see the comment at the top of bench/cluster_bench.cpp)");
  }
  std::string cmdline;
  for (int i = 0; i < argc; ++i) cmdline += (i ? " " : "") + std::string(argv[i]);
  struct rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
    rl.rlim_cur = std::min<rlim_t>(4096, rl.rlim_max);
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  std::optional<TempDir> tmp;
  std::filesystem::path root = o.dir;
  if (root.empty() && o.keep) root = std::filesystem::temp_directory_path() / ("fedswarm-cluster-bench-" + std::to_string(getpid()));
  if (root.empty()) root = tmp.emplace("fedswarm-cluster-bench").path();

  // --- 1. spread ------------------------------------------------------------------------
  std::cerr << "setting up " << o.nodes << " nodes in " << root << "\n";
  std::vector<double> all_ms, node_ms, publish_ms;
  std::vector<double> idle_cpu, idle_rss;
  std::uint64_t steady_bytes_per_node_s = 0;
  {
    Cluster c(root / "spread", o.net, o.nodes, o.interval_ms);
    for (std::size_t i = 0; i < o.nodes; ++i) c.start(i);
    auto t_start = Clock::now();
    bool meshed = c.wait(
        [&] {
          for (std::size_t i = 0; i < o.nodes; ++i) {
            auto s = c.status(i);
            if (!s || (*s)["peers"].value("up", 0) != static_cast<int>(o.nodes - 1)) return false;
          }
          return true;
        },
        std::chrono::seconds(120));
    if (!meshed) die("the nodes did not all link up within 120 s; logs in " + c.logs.string());
    std::cerr << "full mesh after " << std::chrono::duration<double>(Clock::now() - t_start).count() << " s\n";
    for (int t = 0; t < o.trials; ++t) {
      std::size_t at = static_cast<std::size_t>(t) * 7 % o.nodes;
      auto tree = root / ("tree" + std::to_string(t));
      SampleSpec spec;
      spec.datasets = 1;
      spec.file_size = 4096;
      if (!write_sample_tree(tree, 1000 + static_cast<std::uint64_t>(t), spec)) die("sample tree");
      const std::uint64_t before = c.records(at);
      // From the start of the publish command (scan, hash, sign, commit, notify the node),
      // so the figure is what an operator sees.
      auto t0 = Clock::now();
      must({"--home", c.homes[at].string(), "publish", tree.string()}, c.logs);
      publish_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      std::vector<bool> have(o.nodes, false);
      std::size_t count = 0;
      bool ok = c.wait(
          [&] {
            for (std::size_t i = 0; i < o.nodes; ++i) {
              if (have[i]) continue;
              if (c.records(i) > before) {
                have[i] = true;
                ++count;
                if (i != at) node_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
              }
            }
            return count == o.nodes;
          },
          std::chrono::seconds(60));
      if (!ok) die("trial " + std::to_string(t) + ": not every node got the record within 60 s");
      all_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      std::cerr << "trial " << t << ": all " << o.nodes << " nodes after " << all_ms.back() << " ms\n";
    }

    // --- 2. idle cost ---------------------------------------------------------------------
    std::vector<ProcStat> a, b;
    std::uint64_t bytes0 = 0, bytes1 = 0;
    for (std::size_t i = 0; i < o.nodes; ++i) {
      a.push_back(proc_stat(c.procs[i]->pid()));
      if (auto s = c.status(i)) bytes0 += (*s)["gossip"].value("bytes_sent", std::uint64_t{0});
    }
    auto w0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(o.idle_s));  // the measurement window
    double window = std::chrono::duration<double>(Clock::now() - w0).count();
    for (std::size_t i = 0; i < o.nodes; ++i) {
      b.push_back(proc_stat(c.procs[i]->pid()));
      if (auto s = c.status(i)) bytes1 += (*s)["gossip"].value("bytes_sent", std::uint64_t{0});
      idle_cpu.push_back(100.0 * (b[i].cpu_s - a[i].cpu_s) / window);
      idle_rss.push_back(b[i].rss_mib);
    }
    steady_bytes_per_node_s = static_cast<std::uint64_t>(static_cast<double>(bytes1 - bytes0) / window / static_cast<double>(o.nodes));
    c.stop_all();
  }

  // --- 3. catch-up ingest -----------------------------------------------------------------
  double catchup_s = 0;
  {
    Cluster c(root / "catchup", o.net + 1, 2, o.interval_ms);
    std::cerr << "writing " << o.catchup << " signed manifests into node 0's catalog\n";
    prefill(c.homes[0], o.catchup);
    c.start(0);
    if (!c.wait([&] { return c.status(0).has_value(); }, std::chrono::seconds(30))) die("node 0 did not start");
    const std::uint64_t target = c.records(0);
    auto t0 = Clock::now();
    c.start(1);
    if (!c.wait([&] { return c.records(1) >= target; }, std::chrono::seconds(600)))
      die("node 1 did not catch up within 600 s");
    catchup_s = std::chrono::duration<double>(Clock::now() - t0).count();
    c.stop_all();
  }

  double mean_all = std::accumulate(all_ms.begin(), all_ms.end(), 0.0) / static_cast<double>(all_ms.size());
  double max_all = *std::max_element(all_ms.begin(), all_ms.end());
  auto fmt = [](double v, int prec = 1) {
    char b[64];
    std::snprintf(b, sizeof(b), "%.*f", prec, v);
    return std::string(b);
  };
  std::cout << "\n## fedswarm nodes on loopback — " << o.nodes << " processes, gossip interval " << o.interval_ms
            << " ms, fanout 3\n\ncommand: `" << cmdline << "`\n\n"
            << "| measure | value | target |\n|---|---|---|\n"
            << "| publish at one → present in all " << o.nodes << " catalogs, mean over " << all_ms.size()
            << " trials | " << fmt(mean_all) << " ms = " << fmt(mean_all / o.interval_ms, 2) << " intervals | ≤ 5 intervals |\n"
            << "| … of which the publish command itself (scan, hash, sign, commit), mean | "
            << fmt(std::accumulate(publish_ms.begin(), publish_ms.end(), 0.0) / static_cast<double>(publish_ms.size()))
            << " ms | |\n"
            << "| … worst trial | " << fmt(max_all) << " ms = " << fmt(max_all / o.interval_ms, 2) << " intervals | |\n"
            << "| … per node, p50 / p99 | " << fmt(percentile(node_ms, 0.5)) << " / " << fmt(percentile(node_ms, 0.99))
            << " ms | |\n"
            << "| catch-up: " << o.catchup << " records from one peer | " << fmt(catchup_s, 2) << " s = "
            << fmt(static_cast<double>(o.catchup) / catchup_s, 0) << " records/s (verify + store) | ≥ 20,000/s |\n"
            << "| idle node with " << o.nodes - 1 << " peers: CPU, mean / max | " << fmt(percentile(idle_cpu, 0.5), 2) << " % / "
            << fmt(*std::max_element(idle_cpu.begin(), idle_cpu.end()), 2) << " % of one core | |\n"
            << "| idle node: RSS, mean / max | " << fmt(std::accumulate(idle_rss.begin(), idle_rss.end(), 0.0) / static_cast<double>(idle_rss.size()))
            << " / " << fmt(*std::max_element(idle_rss.begin(), idle_rss.end())) << " MiB | |\n"
            << "| idle node: gossip bytes sent | " << steady_bytes_per_node_s << " B/s | |\n";
  if (o.keep) std::cerr << "kept " << root << "\n";
  return 0;
}
