#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "Commands.hpp"
#include "NodeProcess.hpp"
#include "Output.hpp"
#include "Table.hpp"
#include "fedswarm/engine/ControlClient.hpp"
#include "fedswarm/engine/SampleTree.hpp"

namespace fedswarm::cli {

namespace {

// Runs one step of the walk-through: prints the equivalent command line, runs the
// command in-process, and checks its exit status.
class Walkthrough {
 public:
  Walkthrough(Context& ctx, std::ostream& out) : ctx_(ctx), out_(out) {}

  void section(const std::string& title) { out_ << "\n━━ " << ++step_ << ". " << title << "\n"; }

  template <class Fn>
  bool run(const std::string& shown, int expected, Fn&& fn) {
    out_ << "\n$ fedswarm " << shown << "\n";
    int rc = fn();
    if (rc != expected) {
      out_ << "demo: step failed: `fedswarm " << shown << "` exited " << rc << ", expected " << expected << "\n";
      ok_ = false;
    }
    return ok_;
  }
  bool ok() const { return ok_; }
  void fail() { ok_ = false; }
  Context& ctx() { return ctx_; }
  std::ostream& out() { return out_; }

 private:
  Context& ctx_;
  std::ostream& out_;
  int step_ = 0;
  bool ok_ = true;
};

std::string make_temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/fedswarm-demo-XXXXXX";
  if (!mkdtemp(tmpl.data())) return {};
  return tmpl;
}

}  // namespace

namespace {

struct DemoSite {
  std::string site;
  std::string tier;
  std::string role;
  std::string home;
  std::string listen;
};

bool port_free(const std::string& ip, int port) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  bool ok = ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(s);
  return ok;
}

// Polls `cond` every 100 ms until it holds or `timeout` passes.
bool wait_for(const std::function<bool()>& cond, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

std::optional<nlohmann::json> live_status(const DemoSite& s) {
  auto r = control_request(s.home, {{"cmd", "status"}}, std::chrono::seconds(5));
  if (!r) return std::nullopt;
  return *r;
}

std::string version_status(const DemoSite& s, const std::string& instance) {
  auto home = NodeHome::open(s.home);
  if (!home) return "?";
  auto catalog = home->open_catalog(true);
  if (!catalog) return "?";
  auto v = (*catalog)->version(instance);
  if (!v || !v->has_value()) return "not known";
  return std::string(to_string((*v)->status));
}

}  // namespace

int run_demo(Context& outer, const DemoOptions& o, std::ostream& out) {
  std::string dir = o.dir.empty() ? make_temp_dir() : o.dir;
  if (dir.empty()) return report_error(make_error(Errc::io, "io_error", "cannot create a temporary directory; set TMPDIR"), outer.json);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string auth = dir + "/authority";
  const std::string archive = dir + "/archive";

  // Five sites, each node on its own loopback address (libtorrent and the gossip layer
  // tell peers apart by address).
  const std::string net = "127.0.73.";
  int port = 7400;
  while (port < 7600 && !(port_free(net + "2", port) && port_free(net + "2", port + 1))) port += 2;
  std::vector<DemoSite> sites = {{"IPSL", "2", "Tier-2 primary: publishes", "", ""},
                                 {"DKRZ", "1", "Tier-1 centre", "", ""},
                                 {"CEDA", "1", "Tier-1 centre", "", ""},
                                 {"NCI", "2", "Tier-2 data node", "", ""},
                                 {"dark-mirror", "dark", "dark repository", "", ""}};
  for (std::size_t i = 0; i < sites.size(); ++i) {
    sites[i].home = dir + "/" + sites[i].site;
    sites[i].listen = net + std::to_string(2 + i) + ":" + std::to_string(port);
  }
  DemoSite& primary = sites[0];
  DemoSite& dark = sites[4];
  Context ctx;
  ctx.home = primary.home;
  Walkthrough w(ctx, out);
  auto at = [](const DemoSite& s) { return "--home " + s.home + " "; };
  const std::string home = at(primary);
  std::vector<NodeProcess> nodes;

  out << "fedswarm demo — a local federation in " << dir << "\n"
      << "A federation authority admits five nodes on loopback addresses " << net << "2-6 (a Tier-2\n"
      << "primary, two Tier-1 centres, a second Tier-2, a dark repository). The primary publishes a\n"
      << "CMIP6-like DRS tree as signed manifests; gossip carries them to every catalog; a\n"
      << "retraction reaches every site, and any copy can ask whether its files are still good.\n";

  w.section("Create the federation authority and five node homes");
  FederationOptions f;
  f.dir = auth;
  f.name = "demo-federation";
  w.run("federation init --dir " + auth + " --name demo-federation", exit_ok, [&] { return run_federation_init(ctx, f, out); });
  for (const auto& s : sites) {
    if (!w.ok()) break;
    Context c;
    c.home = s.home;
    w.run(at(s) + "init --site " + s.site + " --tier " + s.tier + " --listen " + s.listen + " --swarm-port " +
              std::to_string(port + 1),
          exit_ok, [&] {
            InitOptions i;
            i.site = s.site;
            i.tier = s.tier;
            i.listen = s.listen;
            i.swarm_port = port + 1;
            std::ostringstream quiet;
            return run_init(c, i, quiet);
          });
  }

  std::vector<SampleVersion> sample;
  if (w.ok()) {
    w.section("Generate a CMIP6-like archive at the primary (netCDF files with tracking ids)");
    SampleSpec spec;
    spec.datasets = 4;
    spec.versions_per_dataset = 2;
    spec.files_per_version = 3;
    spec.file_size = 1 << 20;
    auto written = write_sample_tree(archive, o.seed ? o.seed : 20241120, spec);
    if (!written) {
      report_error(written.error(), false);
      return exit_failure;
    }
    sample = std::move(*written);
    std::uint64_t files = 0;
    for (const auto& v : sample) files += v.files.size();
    out << "wrote " << sample.size() << " dataset versions, " << files << " files under " << archive << "\n";
    for (const auto& v : sample) out << "  " << std::filesystem::relative(v.directory, archive).string() << "/\n";
  }

  if (w.ok()) {
    w.section("Admit the nodes: roster members, the primary granted its institutions, signed roster imported everywhere");
    std::set<std::string> institutions;
    for (const auto& v : sample) {
      auto first = v.dataset_id.find('.'), second = v.dataset_id.find('.', first + 1), third = v.dataset_id.find('.', second + 1);
      institutions.insert(v.dataset_id.substr(second + 1, third - second - 1));
    }
    for (const auto& s : sites) {
      if (!w.ok()) break;
      f.node_home = s.home;
      std::ostringstream quiet;
      w.run("federation add-node --dir " + auth + " --from-home " + s.home, exit_ok,
            [&] { return run_federation_add_node(ctx, f, quiet); });
    }
    f.node_home = primary.home;
    f.projects = {"CMIP6"};
    f.institutions.assign(institutions.begin(), institutions.end());
    f.output = dir + "/roster.fsr";
    std::string inst_args;
    for (const auto& i : institutions) inst_args += " --institution " + i;
    w.ok() && w.run("federation grant --dir " + auth + " --from-home " + primary.home + " --project CMIP6" + inst_args, exit_ok,
                    [&] { return run_federation_grant(ctx, f, out); }) &&
        w.run("federation roster --dir " + auth + " -o " + f.output, exit_ok, [&] { return run_federation_roster(ctx, f, out); });
    for (const auto& s : sites) {
      if (!w.ok()) break;
      Context c;
      c.home = s.home;
      f.file = f.output;
      std::ostringstream quiet;
      w.run(at(s) + "federation import " + f.output, exit_ok, [&] { return run_federation_import(c, f, quiet); });
    }
  }

  if (w.ok()) {
    w.section("Start the five nodes (fedswarm node run); they dial each other and authenticate");
    for (const auto& s : sites) {
      out << "$ fedswarm " << at(s) << "node run &\n";
      auto p = NodeProcess::start(s.home);
      if (!p) {
        report_error(p.error(), false);
        return exit_failure;
      }
      nodes.push_back(std::move(*p));
    }
    bool meshed = wait_for(
        [&] {
          for (const auto& s : sites) {
            auto st = live_status(s);
            if (!st || (*st)["peers"].value("up", 0) != static_cast<int>(sites.size() - 1)) return false;
          }
          return true;
        },
        std::chrono::seconds(30));
    Table t({"SITE", "ROLE", "ADDRESS", "PEERS UP"});
    for (const auto& s : sites) {
      auto st = live_status(s);
      t.add({s.site, s.role, s.listen, st ? std::to_string((*st)["peers"].value("up", 0)) : "not running"});
    }
    t.print(out);
    if (!meshed) {
      out << "demo: the nodes did not all link up within 30 s; see " << dir << "/*/logs/node.log\n";
      w.fail();
    }
  }

  auto records_everywhere = [&](std::uint64_t n) {
    for (const auto& s : sites) {
      auto st = live_status(s);
      if (!st || st->value("records", std::uint64_t{0}) != n) return false;
    }
    return true;
  };
  auto records_table = [&] {
    Table t({"SITE", "ROLE", "RECORDS IN CATALOG"});
    for (const auto& s : sites) {
      auto st = live_status(s);
      t.add({s.site, s.role, st ? std::to_string(st->value("records", std::uint64_t{0})) : "?"});
    }
    t.print(out);
  };

  if (w.ok()) {
    w.section("Publish at the primary while every node runs; gossip carries the manifests to every catalog");
    auto t0 = std::chrono::steady_clock::now();
    w.run(home + "publish " + archive, exit_ok, [&] {
      PublishOptionsCli p;
      p.paths = {archive};
      return run_publish(ctx, p, out);
    });
    auto own = live_status(primary);
    const std::uint64_t n = own ? own->value("records", std::uint64_t{0}) : 0;
    bool spread = w.ok() && wait_for([&] { return records_everywhere(n); }, std::chrono::seconds(30));
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    out << "\n";
    records_table();
    if (spread) out << "every catalog holds all " << n << " records " << ms << " ms after the publish started\n";
    else if (w.ok()) {
      out << "demo: the records did not reach every catalog within 30 s\n";
      w.fail();
    }
  }

  if (w.ok()) {
    w.section("Search at the dark repository: the same catalog, offline, with facet counts");
    Context c;
    c.home = dark.home;
    w.run(at(dark) + "search --facets source_id,experiment_id,variable_id", exit_ok, [&] {
      SearchOptions s;
      s.facets = "source_id,experiment_id,variable_id";
      return run_search(c, s, out);
    });
  }

  std::string retracted, superseded_file, retracted_file, current_file;
  if (w.ok() && sample.size() >= 4) {
    // The sample lists each dataset's versions oldest first.
    const SampleVersion& old_v = sample[0];
    const SampleVersion& new_v = sample[1];
    const SampleVersion& other = sample[3];
    retracted = new_v.instance_id();
    superseded_file = (old_v.directory / old_v.files.front()).string();
    retracted_file = (new_v.directory / new_v.files.front()).string();
    current_file = (other.directory / other.files.front()).string();

    w.section("Retract a version at the primary (signed, with the errata id); it reaches every site");
    RetractOptions r;
    r.target = retracted;
    r.reason = "wrong calendar attribute in the time axis";
    r.errata = "2f6a7c4e-1d2b-4c3a-9e8f-0a1b2c3d4e5f";
    w.run(home + "retract " + retracted + " --reason \"" + r.reason + "\" --errata " + r.errata, exit_ok,
          [&] { return run_retract(ctx, r, out); });
    bool reached = w.ok() && wait_for(
                                 [&] {
                                   for (const auto& s : sites)
                                     if (version_status(s, retracted) != "retracted") return false;
                                   return true;
                                 },
                                 std::chrono::seconds(30));
    Table t({"SITE", "ROLE", "STATUS OF " + retracted});
    for (const auto& s : sites) t.add({s.site, s.role, version_status(s, retracted)});
    out << "\n";
    t.print(out);
    if (!reached && w.ok()) {
      out << "demo: the retraction did not reach every site within 30 s\n";
      w.fail();
    }
  }

  if (w.ok() && !retracted.empty()) {
    w.section("Ask the dark repository about files: is this copy still good?");
    Context c;
    c.home = dark.home;
    auto check = [&](const std::string& file, int expected) {
      return w.run(at(dark) + "check " + file, expected, [&] {
        CheckOptions k;
        k.targets = {file};
        return run_check(c, k, out);
      });
    };
    check(current_file, exit_ok) && check(superseded_file, exit_superseded) && check(retracted_file, exit_retracted);
  }

  if (w.ok()) {
    w.section("How the primary sees its peers");
    w.run(home + "peers", exit_ok, [&] { return run_peers(ctx, PeersOptions{}, out); });
  }

  out << "\n";
  if (!w.ok()) {
    for (auto& n : nodes) n.stop();
    out << "demo FAILED; its files are kept in " << dir << " for inspection (node logs in */logs/node.log)\n";
    return exit_failure;
  }
  if (o.keep) {
    out << "demo finished. The federation keeps running in " << dir << "; explore it with, e.g.:\n"
        << "  fedswarm --home " << dark.home << " status\n"
        << "  fedswarm --home " << primary.home << " peers\n"
        << "  fedswarm --home " << sites[1].home << " search --facets all\n"
        << "  fedswarm --home " << sites[3].home << " show " << retracted << "\n"
        << "Stop the nodes with: kill";
    for (auto& n : nodes) {
      out << " " << n.pid();
      n.detach();
    }
    out << "\n";
  } else {
    for (auto& n : nodes) n.stop();
    std::filesystem::remove_all(dir, ec);
    out << "demo finished; stopped the nodes and removed " << dir << " (use --keep to explore it)\n";
  }
  return exit_ok;
}

void add_demo_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<DemoOptions>();
  auto* cmd = app.add_subcommand("demo", "a local federation of five nodes: publish, gossip, search, retract, check");
  cmd->add_flag("--keep", o->keep, "leave the federation running and its files in place to explore");
  cmd->add_option("--dir", o->dir, "where to create the demo (default: a new temporary directory)");
  cmd->add_option("--seed", o->seed, "seed of the generated archive");
  cmd->callback([&ctx, o] { ctx.exit_code = run_demo(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
