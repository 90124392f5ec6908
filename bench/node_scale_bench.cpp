// node_scale_bench: a Tier-1 node at federation scale, with real `fedswarm node run`
// processes (issue 11). Generates N signed dataset versions with the catalog bench's
// workload (15 publishers, 3 Tier-1 among them; every version with a Tier-1 copy, as in
// a federation that meets the rule), writes them into node A's catalog (a Tier-2), then
// starts A and a fresh Tier-1 node B that catches up through gossip. Reports, against
// the targets:
//   - catch-up rate end to end (records received, verified and stored at B);
//   - during the catch-up: B's `status` latency over its control socket, the portal
//     search (latest, 15 facet counts, limit 10) on B's catalog, and B's suspect/down
//     transitions at A;
//   - afterwards, idle: B's CPU and anonymous RSS; a Tier-1 round's wall time after new
//     publications (B's own figures); publish at A → claim by B; `compliance` summary and
//     `health` latency; SIGTERM → exit;
//   - catalog bytes per version.
// Prints a Markdown table and the command line. Not a test: no assertions on time.
//
// Usage: node_scale_bench [--n N] [--dir DIR] [--keep] [--fedswarm PATH] [--publishes K]
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "BenchProcess.hpp"
#include "BenchStats.hpp"
#include "CatalogWorkload.hpp"
#include "Process.hpp"
#include "fedswarm/engine/ControlClient.hpp"
#include "fedswarm/engine/NodeHome.hpp"

using namespace fedswarm;
using namespace fedswarm::bench;

namespace {

struct Options {
  std::uint64_t n = 1'000'000;
  std::filesystem::path dir;
  bool keep = false;
  std::string fedswarm = FEDSWARM_BIN;
  int publishes = 20;
};

SearchQuery portal_query() {
  SearchQuery q;
  q.facet_fields = kFacets;
  q.limit = 10;
  return q;
}

// A node home for the bench: listen address, gossip defaults, a data root.
NodeHome make_home(const std::filesystem::path& dir, const std::string& site, Tier tier, const std::string& ip, int port) {
  Config c = Config::defaults(site, tier);
  c.listen = ip + ":" + std::to_string(port);
  c.swarm_port = static_cast<std::uint16_t>(port + 1);
  c.data_root = dir / "data";
  auto h = NodeHome::init(dir, c);
  if (!h) throw std::runtime_error(h.error().message);
  return std::move(*h);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  std::string cmdline;
  for (int i = 0; i < argc; ++i) cmdline += (i ? " " : "") + std::string(argv[i]);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--n") opt.n = std::stoull(value());
    else if (a == "--dir") opt.dir = value();
    else if (a == "--keep") opt.keep = true;
    else if (a == "--fedswarm") opt.fedswarm = value();
    else if (a == "--publishes") opt.publishes = std::stoi(value());
    else {
      std::cerr << "usage: node_scale_bench [--n N] [--dir DIR] [--keep] [--fedswarm PATH] [--publishes K]\n";
      return 2;
    }
  }
  if (!crypto_init()) return 1;
  opt.dir = work_dir(opt.dir, "fedswarm-node-scale");
  std::filesystem::create_directories(opt.dir);
  const int port = 20000 + static_cast<int>(getpid() % 20000);
  const std::string ip_a = "127.0.79.2", ip_b = "127.0.79.3";

  // --- the homes and the workload ------------------------------------------------------------
  NodeHome a = make_home(opt.dir / "a", "A", Tier::tier2, ip_a, port);
  NodeHome b = make_home(opt.dir / "b", "B", Tier::tier1, ip_b, port);
  WorkloadOptions wo;
  wo.n = opt.n;
  wo.tier1_copies = true;
  RosterMember ma = test::member(SigningKey::from_seed(SigningKey::Seed{}), "A", Tier::tier2);
  ma.key = a.key().public_key();
  ma.endpoints = {ip_a + ":" + std::to_string(port)};
  ma.swarm_port = static_cast<std::uint16_t>(port + 1);
  RosterMember mb = ma;
  mb.key = b.key().public_key();
  mb.site = "B";
  mb.tier = Tier::tier1;
  mb.endpoints = {ip_b + ":" + std::to_string(port)};
  mb.capacity = 1ull << 50;
  wo.extra_members = {ma, mb};
  PublisherGrant ga;
  ga.key = a.key().public_key();
  ga.projects = {"CMIP6"};
  wo.extra_grants = {ga};
  const std::filesystem::path fixtures = FEDSWARM_FIXTURES_DIR;
  auto counts = nlohmann::json::parse(std::ifstream(fixtures / "esgf_search" / "cmip6_facet_counts.json"))["facets"];
  test::ManifestFactory factory{std::filesystem::path(FEDSWARM_CV_DIR)};
  Workload work(wo, counts, factory);
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();

  // A holds everything; both know the authority and the roster.
  std::uint64_t total = 0;
  {
    auto cat_a = a.open_catalog(false);
    auto cat_b = b.open_catalog(false);
    if (!cat_a || !cat_b) throw std::runtime_error("cannot open the catalogs");
    for (auto* c : {&**cat_a, &**cat_b})
      if (auto s = c->pin_authority(work.authority().public_key()); !s) throw std::runtime_error(s.error().message);
    auto t0 = Clock::now();
    work.stream(100'000, [&](const std::vector<Envelope>& chunk) {
      if (chunk.size() == 1 && chunk[0].kind == RecordKind::roster) {
        for (auto* c : {&**cat_a, &**cat_b})
          if (auto s = c->import_roster(chunk[0], now); !s) throw std::runtime_error(s.error().message);
      }
      for (std::size_t i = 0; i < chunk.size(); i += 10'000) {
        std::span<const Envelope> part(chunk.data() + i, std::min<std::size_t>(10'000, chunk.size() - i));
        auto r = (*cat_a)->ingest_batch(part, now, true);
        if (!r) throw std::runtime_error(r.error().message);
      }
      total += chunk.size();
      std::fprintf(stderr, "\rwriting A's catalog: %llu records, %.0f records/s", static_cast<unsigned long long>(total),
                   static_cast<double>(total) / seconds_since(t0));
    });
    std::fprintf(stderr, "\n");
    auto vv = (*cat_a)->version_vector();
    total = 0;
    for (const auto& [k, s] : *vv) total += s;
  }

  // --- the catch-up -----------------------------------------------------------------------
  auto logs = opt.dir / "logs";
  test::Process proc_a({opt.fedswarm, "--home", (opt.dir / "a").string(), "node", "run", "--log-level", "info"}, logs / "a");
  if (!test::wait_until([&] { return ask(opt.dir / "a", ControlCommand::status).ok(); }, std::chrono::seconds(60)))
    throw std::runtime_error("node A did not start: " + proc_a.err());
  const auto t_start = Clock::now();
  auto proc_b = std::make_unique<test::Process>(
      std::vector<std::string>{opt.fedswarm, "--home", (opt.dir / "b").string(), "node", "run", "--log-level", "info"},
      logs / "b");
  std::vector<double> status_ms, search_ms;
  std::uint64_t b_records = 0, transitions = 0, status_failures = 0;
  std::string last_state = "up";
  std::unique_ptr<Catalog> cat_b_ro;
  while (b_records < total) {
    auto s0 = Clock::now();
    auto s = ask(opt.dir / "b", ControlCommand::status);
    if (s) {
      status_ms.push_back(seconds_since(s0) * 1e3);
      b_records = (*s).value("records", std::uint64_t{0});
    } else if (seconds_since(t_start) > 5) {
      ++status_failures;
    }
    if (!cat_b_ro) {
      CatalogOptions co;
      co.dir = opt.dir / "b" / "catalog";
      co.read_only = true;
      if (auto c = Catalog::open(co, ProjectRegistry::builtin())) cat_b_ro = std::move(*c);
    }
    if (cat_b_ro) {
      auto q0 = Clock::now();
      if (cat_b_ro->search(portal_query())) search_ms.push_back(seconds_since(q0) * 1e3);
    }
    if (auto p = ask(opt.dir / "a", ControlCommand::peers); p)
      for (const auto& x : (*p)["peers"])
        if (x.value("site", "") == "B") {
          const std::string st = x.value("state", "?");
          if (st != last_state && (st == "suspect" || st == "down") && seconds_since(t_start) > 10) ++transitions;
          last_state = st;
        }
    std::fprintf(stderr, "\rB holds %llu of %llu records (%.0f records/s)", static_cast<unsigned long long>(b_records),
                 static_cast<unsigned long long>(total), static_cast<double>(b_records) / seconds_since(t_start));
    if (!proc_b->running()) throw std::runtime_error("node B died: " + proc_b->err());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double catch_up = seconds_since(t_start);
  std::fprintf(stderr, "\n");

  // --- idle -------------------------------------------------------------------------------
  // The Tier-1 tracker judges every version once after the catch-up's changes: wait for it.
  test::wait_until(
      [&] {
        auto s = ask(opt.dir / "b", ControlCommand::status);
        return s && !(*s)["pipeline"].value("rule_rebuilding", true) && (*s)["pipeline"].value("queued_records", 1) == 0;
      },
      std::chrono::seconds(1800), std::chrono::seconds(1));
  std::this_thread::sleep_for(std::chrono::seconds(20));  // changes of the catch-up judged, timers settled
  const double cpu0 = cpu_seconds(proc_b->pid());
  std::this_thread::sleep_for(std::chrono::seconds(20));
  const double idle_cpu = (cpu_seconds(proc_b->pid()) - cpu0) / 20.0 * 100.0;
  const std::uint64_t idle_rss = rss_anon(proc_b->pid());

  // Publications at A (its own key, pushed at once on notify) → claims by B.
  std::vector<double> claim_ms, round_ms;
  {
    auto cat_a = a.open_catalog(false);
    std::mt19937_64 rng(4242);
    for (int k = 0; k < opt.publishes; ++k) {
      test::DatasetSpec spec = factory.random_dataset(rng);
      spec.variant = "r" + std::to_string(900 + k) + "i1p1f1";
      Manifest m = factory.make(spec, "v20260101", 1, rng);
      m.published_at = now;
      const std::string id = m.instance_id();
      auto t0 = Clock::now();
      auto env = (*cat_a)->append_local(a.key(), RecordKind::manifest, m.encode(), now);
      if (!env) throw std::runtime_error(env.error().message);
      (void)ask(opt.dir / "a", ControlCommand::notify);
      const bool claimed = test::wait_until(
          [&] {
            auto claims = cat_b_ro->claims(id);
            if (!claims) return false;
            for (const auto& c : *claims)
              if (c.node == b.key().public_key() && c.action == ClaimAction::take) return true;
            return false;
          },
          std::chrono::seconds(30), std::chrono::milliseconds(5));
      if (claimed) claim_ms.push_back(seconds_since(t0) * 1e3);
      else std::fprintf(stderr, "publication %d was not claimed within 30 s\n", k);
      // The round that made the claim (or the one after it, judging B's own claim).
      if (auto s = ask(opt.dir / "b", ControlCommand::status); s && s->contains("pipeline"))
        round_ms.push_back((*s)["pipeline"].value("rule_round_last_ms", 0.0));
    }
  }
  auto after = ask(opt.dir / "b", ControlCommand::status);
  const auto& pipe = (*after)["pipeline"];
  std::vector<double> compliance_ms, health_ms;
  for (int i = 0; i < 10; ++i) {
    auto t0 = Clock::now();
    if (ask(opt.dir / "b", ControlCommand::compliance, 0)) compliance_ms.push_back(seconds_since(t0) * 1e3);
  }
  for (int i = 0; i < 5; ++i) {
    auto t0 = Clock::now();
    if (ask(opt.dir / "b", ControlCommand::health)) health_ms.push_back(seconds_since(t0) * 1e3);
  }
  auto docs = cat_b_ro->doc_count();
  const double versions = docs && *docs > 0 ? static_cast<double>(*docs) : 1.0;
  const double catalog_bytes = static_cast<double>(std::filesystem::file_size(opt.dir / "b" / "catalog" / "data.mdb"));
  cat_b_ro.reset();

  auto t_term = Clock::now();
  proc_b->kill(SIGTERM);
  auto exited = proc_b->wait(std::chrono::seconds(60));
  const double term_s = seconds_since(t_term);
  proc_a.kill(SIGTERM);
  (void)proc_a.wait(std::chrono::seconds(60));

  // --- the table ----------------------------------------------------------------------------
  const auto st = percentiles(status_ms), se = percentiles(search_ms), cl = percentiles(claim_ms),
             co = percentiles(compliance_ms), he = percentiles(health_ms);
  std::printf("\n## A Tier-1 node at federation scale — N = %llu dataset versions, %llu records\n\n",
              static_cast<unsigned long long>(opt.n), static_cast<unsigned long long>(total));
  std::printf("command: `%s`\n\n", cmdline.c_str());
  std::printf("| what | measured | target |\n|---|---|---|\n");
  std::printf("| catch-up rate (received, verified, stored) | %s records/s (%s s) | ≥ 20,000 records/s |\n",
              fmt(static_cast<double>(total) / catch_up, "%.0f").c_str(), fmt(catch_up).c_str());
  std::printf("| `status` during the catch-up, p50 / p99 / max (%zu asks, %llu unanswered) | %s / %s / %s ms | p99 ≤ 50 ms |\n",
              st.n, static_cast<unsigned long long>(status_failures), fmt(st.p50).c_str(), fmt(st.p99).c_str(), fmt(st.max).c_str());
  std::printf("| portal search at B during the catch-up, p50 / p99 (%zu) | %s / %s ms | p99 ≤ 50 ms |\n", se.n,
              fmt(se.p50).c_str(), fmt(se.p99).c_str());
  std::printf("| B's suspect/down transitions at A | %llu | 0 |\n", static_cast<unsigned long long>(transitions));
  std::printf("| idle CPU of B (20 s) | %s %% of a core | ≤ 1 %% |\n", fmt(idle_cpu, "%.2f").c_str());
  std::printf("| idle anonymous RSS of B | %s | ≤ 200 MiB |\n", human(static_cast<double>(idle_rss)).c_str());
  const auto rd = percentiles(round_ms);
  std::printf("| Tier-1 round after a new publication, p50 / p99 / max (%zu publications) | %s / %s / %s ms | p99 ≤ 20 ms |\n",
              rd.n, fmt(rd.p50, "%.2f").c_str(), fmt(rd.p99, "%.2f").c_str(), fmt(rd.max, "%.2f").c_str());
  std::printf("| every Tier-1 round since start (catch-up included), p50 / p99 / max (%llu rounds) | %s / %s / %s ms | — |\n",
              static_cast<unsigned long long>(pipe.value("rule_rounds", std::uint64_t{0})),
              fmt(pipe.value("rule_round_ms_p50", 0.0), "%.2f").c_str(), fmt(pipe.value("rule_round_ms_p99", 0.0), "%.2f").c_str(),
              fmt(pipe.value("rule_round_ms_max", 0.0), "%.2f").c_str());
  std::printf("| publish at A → claim by B, p50 / max (%zu of %d) | %s / %s ms | ≤ 2 gossip intervals + debounce (1,250 ms) |\n",
              cl.n, opt.publishes, fmt(cl.p50, "%.0f").c_str(), fmt(cl.max, "%.0f").c_str());
  std::printf("| `compliance` summary, p50 / max | %s / %s ms | ≤ 1 s |\n", fmt(co.p50).c_str(), fmt(co.max).c_str());
  std::printf("| `health`, p50 / max | %s / %s ms | ≤ 1 s |\n", fmt(he.p50).c_str(), fmt(he.max).c_str());
  std::printf("| SIGTERM → exit | %s s%s | ≤ 1 s |\n", fmt(term_s, "%.2f").c_str(), exited ? "" : " (did not exit)");
  std::printf("| catalog bytes per version (B) | %s | — |\n", human(catalog_bytes / versions).c_str());
  std::printf("\nMachine: %u cores; A and B run on it together with this process (which asks for status every 100 ms "
              "and runs the portal query on B's catalog).\n",
              std::thread::hardware_concurrency());
  if (!opt.keep) std::filesystem::remove_all(opt.dir);
  else std::fprintf(stderr, "kept %s\n", opt.dir.string().c_str());
  return 0;
}
