// gossip_bench: how fast one new record spreads through N simulated nodes (DESIGN §4:
// a new manifest reaches 99.99 % of 1000 nodes in ≤ 12 rounds at fanout 3).
//
// Runs the real gossip code — Gossip over CatalogGossipStore over an LMDB catalog per
// node — in the seeded simulation of tests/support/GossipSimulation (every node gossips
// with every other, 500 ms interval, optional loss). For each seed: `authors` nodes
// publish one record each and the federation converges (so digests carry a realistic
// version vector), a few idle rounds measure the steady-state bytes, then one node
// publishes one more manifest; counts the rounds (gossip
// intervals after the publish) until 99.99 % and 100 % of the nodes hold it, and the
// bytes sent per node per round while it spreads.
//
// Two timing models:
// - lockstep: every node ticks at the same instant and every message takes 10 ms, so a
//   record moves one hop per round by anti-entropy (the textbook round model, the
//   conservative one);
// - async: every node's timer has its own phase and messages take 1..40 ms, as with
//   real daemons on a LAN; a record can then move several hops within one interval.
// Two protocol variants: anti-entropy alone (digest push-pull each round plus the
// publisher's push) and with `relay_new` (each node pushes a record it stores for the
// first time on to `fanout` peers at once). Prints a Markdown table and the command line.
//
// Usage: gossip_bench [--n N] [--fanout F] [--seeds S] [--seed FIRST] [--loss P] [--authors A]
//                     [--variant both|anti-entropy|relay] [--timing both|lockstep|async]
//                     [--max-rounds R] [--dir DIR] [--keep]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "GossipSimulation.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

struct Options {
  std::size_t n = 1000;
  std::uint32_t fanout = 3;
  int seeds = 5;
  std::uint64_t first_seed = 1;
  double loss = 0.0;
  std::string variant = "both";
  std::string timing = "both";
  std::size_t authors = 30;
  int max_rounds = 40;
  std::filesystem::path dir;
  bool keep = false;
};

struct Run {
  int rounds_9999 = -1;  // -1: not reached within max_rounds
  int rounds_all = -1;
  double steady_bytes = 0;  // per node per round
  double spread_bytes = 0;  // per node per round, from the publish to 100 %
  double wall_s = 0;
};

struct Summary {
  std::string name;
  std::vector<Run> runs;
};

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: gossip_bench [--n N] [--fanout F] [--seeds S] [--seed FIRST] [--loss P] [--authors A]\n"
               "                    [--variant both|anti-entropy|relay] [--timing both|lockstep|async]\n"
               "                    [--max-rounds R] [--dir DIR] [--keep]\n");
  std::exit(code);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    if (a == "--n") o.n = std::stoull(next());
    else if (a == "--fanout") o.fanout = static_cast<std::uint32_t>(std::stoul(next()));
    else if (a == "--seeds") o.seeds = std::stoi(next());
    else if (a == "--seed") o.first_seed = std::stoull(next());
    else if (a == "--loss") o.loss = std::stod(next());
    else if (a == "--variant") o.variant = next();
    else if (a == "--timing") o.timing = next();
    else if (a == "--authors") o.authors = std::stoull(next());
    else if (a == "--max-rounds") o.max_rounds = std::stoi(next());
    else if (a == "--dir") o.dir = next();
    else if (a == "--keep") o.keep = true;
    else if (a == "--help" || a == "-h") usage(0);
    else usage(2);
  }
  const bool variant_ok = o.variant == "both" || o.variant == "anti-entropy" || o.variant == "relay";
  const bool timing_ok = o.timing == "both" || o.timing == "lockstep" || o.timing == "async";
  if (o.n < 2 || o.seeds < 1 || o.authors < 1 || o.authors > o.n || o.fanout < 1 || !variant_ok || !timing_ok) usage(2);
  return o;
}

Run run_one(const Options& opt, bool relay, bool lockstep, std::uint64_t seed, const std::filesystem::path& dir) {
  const auto started = std::chrono::steady_clock::now();
  SimOptions so;
  so.nodes = opt.n;
  so.publishers = opt.authors;
  so.seed = seed;
  so.dir = dir;
  so.cv_dir = std::filesystem::path(FEDSWARM_CV_DIR);
  so.links = false;
  so.loss = opt.loss;
  so.gossip.fanout = opt.fanout;
  so.gossip.relay_new = relay;
  so.same_phase = lockstep;
  if (lockstep) so.min_delay_ms = so.max_delay_ms = 10;
  GossipSimulation sim(so);

  Run r;
  const std::int64_t interval = so.interval_ms;
  for (std::size_t i = 0; i < opt.authors; ++i) sim.publish(i);
  if (!sim.run_until([&] { return sim.converged(); }, 600 * interval)) {
    std::fprintf(stderr, "seed %llu: the warm-up records did not converge\n", static_cast<unsigned long long>(seed));
    std::exit(1);
  }
  sim.run_for(3 * interval);
  const std::uint64_t idle_start = sim.total_stats().bytes_sent;
  const int idle_rounds = 5;
  sim.run_for(idle_rounds * interval);
  r.steady_bytes = double(sim.total_stats().bytes_sent - idle_start) / double(opt.n) / idle_rounds;

  // Publish half-way between two ticks (in lockstep: after the round's exchanges are
  // over), so "round k" is the k-th tick after the publish with its exchanges complete.
  sim.run_for(interval / 2);
  const std::uint64_t spread_start = sim.total_stats().bytes_sent;
  const Envelope e = sim.publish(0);
  const std::size_t want_9999 = static_cast<std::size_t>(std::ceil(0.9999 * double(opt.n)));
  for (int round = 1; round <= opt.max_rounds; ++round) {
    sim.run_for(interval);
    const std::size_t holders = sim.holders(e.author, e.seq);
    if (r.rounds_9999 < 0 && holders >= want_9999) r.rounds_9999 = round;
    if (holders == opt.n) {
      r.rounds_all = round;
      r.spread_bytes = double(sim.total_stats().bytes_sent - spread_start) / double(opt.n) / round;
      break;
    }
  }
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return r;
}

std::string rounds_cell(const std::vector<Run>& runs, int Run::*field) {
  double sum = 0;
  int max = 0, missed = 0;
  for (const auto& r : runs) {
    if (r.*field < 0) {
      ++missed;
      continue;
    }
    sum += r.*field;
    max = std::max(max, r.*field);
  }
  char buf[96];
  if (missed == static_cast<int>(runs.size())) return "not reached";
  std::snprintf(buf, sizeof buf, "%.1f (max %d)%s", sum / double(runs.size() - missed), max,
                missed ? " + some not reached" : "");
  return buf;
}

std::string bytes_cell(const std::vector<Run>& runs, double Run::*field) {
  double sum = 0, max = 0;
  for (const auto& r : runs) {
    sum += r.*field;
    max = std::max(max, r.*field);
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f B (max %.0f)", sum / double(runs.size()), max);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  std::string cmdline;
  for (int i = 0; i < argc; ++i) cmdline += (i ? " " : "") + std::string(argv[i]);

  std::filesystem::path base = opt.dir;
  if (base.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "fedswarm-gossip-bench-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      std::perror("mkdtemp");
      return 1;
    }
    base = tmpl;
  }

  std::vector<Summary> summaries;
  struct Variant {
    std::string name;
    bool relay, lockstep;
  };
  std::vector<Variant> variants;
  for (bool lockstep : {true, false}) {
    if ((lockstep && opt.timing == "async") || (!lockstep && opt.timing == "lockstep")) continue;
    const std::string timing = lockstep ? "lockstep" : "async";
    if (opt.variant != "relay") variants.push_back({timing + ": anti-entropy + push at the publisher", false, lockstep});
    if (opt.variant != "anti-entropy")
      variants.push_back({timing + ": anti-entropy + push + relay of new records", true, lockstep});
  }
  for (const auto& [name, relay, lockstep] : variants) {
    Summary s{name, {}};
    for (int k = 0; k < opt.seeds; ++k) {
      const std::uint64_t seed = opt.first_seed + static_cast<std::uint64_t>(k);
      const std::filesystem::path dir =
          base / ((lockstep ? "lock-" : "async-") + std::string(relay ? "relay-" : "ae-") + std::to_string(seed));
      std::filesystem::create_directories(dir);
      Run r = run_one(opt, relay, lockstep, seed, dir);
      std::fprintf(stderr,
                   "%s, seed %llu: 99.99%% in %d rounds, 100%% in %d rounds, %.0f / %.0f B per node per round, %.1f s\n",
                   name.c_str(), static_cast<unsigned long long>(seed), r.rounds_9999, r.rounds_all, r.steady_bytes,
                   r.spread_bytes, r.wall_s);
      s.runs.push_back(r);
      if (!opt.keep) std::filesystem::remove_all(dir);
    }
    summaries.push_back(std::move(s));
  }
  if (!opt.keep && opt.dir.empty()) std::filesystem::remove_all(base);

  std::printf("\n## Gossip spread — N = %zu nodes, fanout %u, %d seeds, loss %.0f %%, %zu authors in the version "
              "vector\n\n",
              opt.n, opt.fanout, opt.seeds, opt.loss * 100, opt.authors + 1);
  std::printf("command: `%s`\n\n", cmdline.c_str());
  std::printf("| variant | rounds to 99.99 %% (mean, max) | rounds to 100 %% (mean, max) | bytes sent per node per round, "
              "steady | same, while spreading |\n|---|---|---|---|---|\n");
  for (const auto& s : summaries)
    std::printf("| %s | %s | %s | %s | %s |\n", s.name.c_str(), rounds_cell(s.runs, &Run::rounds_9999).c_str(),
                rounds_cell(s.runs, &Run::rounds_all).c_str(), bytes_cell(s.runs, &Run::steady_bytes).c_str(),
                bytes_cell(s.runs, &Run::spread_bytes).c_str());
  std::printf("\ntarget: 100 %% of 1000 nodes in <= 12 rounds at fanout 3. A round is one gossip interval after the "
              "publish; at N = %zu, 99.99 %% means %zu nodes.\n",
              opt.n, static_cast<std::size_t>(std::ceil(0.9999 * double(opt.n))));
  return 0;
}
