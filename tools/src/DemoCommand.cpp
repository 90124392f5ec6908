#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "Commands.hpp"
#include "DemoSite.hpp"
#include "NodeProcess.hpp"
#include "Output.hpp"
#include "Table.hpp"
#include "fedswarm/engine/SampleTree.hpp"
#include "fedswarm/storage/FileHasher.hpp"

namespace fedswarm::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Deadlines of the waits. Generous next to what they take on an idle machine (well
// under a second for gossip, a few seconds for the fetches), so a loaded build machine
// does not fail the demo.
constexpr std::chrono::seconds kLinkUpDeadline{30};
constexpr std::chrono::seconds kGossipDeadline{30};
constexpr std::chrono::seconds kFetchDeadline{60};

// The sample: three datasets of one version, three netCDF files each. Files of a few
// MB so that libtorrent picks pieces larger than one 16 KiB block, as with real data.
constexpr std::size_t kDatasets = 3;
constexpr std::size_t kFilesPerVersion = 3;
constexpr std::uint64_t kDefaultFileSize = 5u << 19;  // 2.5 MiB
// The new version of the first dataset changes only its last file.
constexpr std::size_t kUnchangedFiles = 2;
constexpr std::uint64_t kDefaultSeed = 20241120;

// Runs one step of the walk-through: prints the equivalent command line, runs the
// command in-process, and checks its exit status.
class Walkthrough {
 public:
  explicit Walkthrough(std::ostream& out) : out_(out) {}

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

 private:
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

std::string seconds_since(Clock::time_point t0) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << std::chrono::duration<double>(Clock::now() - t0).count() << " s";
  return s.str();
}

// The i-th facet of a dataset id (CMIP6: 2 institution_id, 3 source_id).
std::string facet_of(const std::string& dataset_id, std::size_t index) {
  std::size_t begin = 0;
  for (std::size_t i = 0; i < index; ++i) {
    begin = dataset_id.find('.', begin);
    if (begin == std::string::npos) return {};
    ++begin;
  }
  return dataset_id.substr(begin, dataset_id.find('.', begin) - begin);
}

bool same_inode(const fs::path& a, const fs::path& b) {
  struct stat sa {}, sb {};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

std::string verdict_of(int exit_code) {
  switch (exit_code) {
    case exit_ok: return "current";
    case exit_superseded: return "superseded";
    case exit_retracted: return "retracted";
    case exit_not_found: return "unknown";
  }
  return "error";
}

// What a site has not done yet, for the message when a wait passes its deadline.
struct Lag {
  const DemoSite* site;
  std::string what;
};

class Demo {
 public:
  Demo(const DemoOptions& o, std::uint64_t file_size, std::string dir, std::ostream& out)
      : opts_(o), file_size_(file_size), dir_(std::move(dir)), out_(out), w_(out), auth_(dir_ + "/authority"),
        archive_(dir_ + "/archive") {}

  int run() {
    layout();
    intro();
    create_homes() && generate() && admit() && start_nodes() && publish() && search() && subscribe() && esgf() &&
        supersede() && retract() && check() && peers();
    return finish();
  }

 private:
  const DemoOptions& opts_;
  const std::uint64_t file_size_;
  const std::string dir_;
  std::ostream& out_;
  Walkthrough w_;
  const std::string auth_;
  const std::string archive_;
  std::string net_ = "127.0.73.";
  int port_ = 7400;
  std::vector<DemoSite> sites_;
  std::vector<NodeProcess> nodes_;
  std::vector<SampleVersion> sample_;  // the first versions: A, B, C
  SampleVersion next_;                 // A's second version
  std::string retracted_;
  std::string last_progress_;
  Clock::time_point last_progress_at_;

  DemoSite& primary() { return sites_[0]; }
  DemoSite& tier1() { return sites_[1]; }
  DemoSite& dark() { return sites_[4]; }
  const SampleVersion& a1() const { return sample_[0]; }
  const SampleVersion& b1() const { return sample_[1]; }
  std::string at(const DemoSite& s) const { return "--home " + s.home + " "; }
  Context context(const DemoSite& s) const {
    Context c;
    c.home = s.home;
    return c;
  }
  // A version directory's place in any DRS tree (the archive, a node's data root).
  std::string rel(const SampleVersion& v) const { return fs::relative(v.directory, archive_).string(); }
  // A path for a table: relative to the demo directory, with the DRS facets between
  // "CMIP6/" and the version directory elided (the table's row names the dataset).
  std::string shown_path(const std::string& p) const {
    auto r = fs::relative(p, dir_).string();
    if (r.empty() || r.rfind("..", 0) == 0) r = p;
    auto drs = r.find("/CMIP6/"), last = r.rfind('/');
    if (drs != std::string::npos && last > drs + 6 && r.find('/', drs + 7) < last) r = r.substr(0, drs + 7) + "…" + r.substr(last);
    // Likewise the facets of a quarantined <dataset id>.<version> directory.
    if (auto q = r.find("/.quarantine/CMIP6."); q != std::string::npos) {
      const std::size_t id = q + 13, end = std::min(r.find('/', id), r.size()), dot = r.rfind('.', end - 1);
      if (dot > id + 6) r = r.substr(0, id + 6) + "…" + r.substr(dot);
    }
    return r;
  }

  // Five sites, each node on its own loopback address (libtorrent and the gossip layer
  // tell peers apart by address).
  void layout() {
    // Three ports per node: gossip, swarm, HTTPS.
    while (port_ < 7600 && !(port_free(net_ + "2", port_) && port_free(net_ + "2", port_ + 1) && port_free(net_ + "2", port_ + 2)))
      port_ += 3;
    sites_ = {{"IPSL", "2", "Tier-2 primary: publishes", "", ""},
              {"DKRZ", "1", "Tier-1 centre: subscribes", "", ""},
              {"CEDA", "1", "Tier-1 centre", "", ""},
              {"NCI", "2", "Tier-2 data node", "", ""},
              {"dark-mirror", "dark", "dark repository: subscribes", "", ""}};
    for (std::size_t i = 0; i < sites_.size(); ++i) {
      sites_[i].home = dir_ + "/" + sites_[i].site;
      sites_[i].listen = net_ + std::to_string(2 + i) + ":" + std::to_string(port_);
    }
  }

  void intro() {
    out_ << "fedswarm demo — a local federation in " << dir_ << "\n"
         << "A federation authority admits five nodes on loopback addresses " << net_ << "2-6 (a Tier-2\n"
         << "primary, two Tier-1 centres, a second Tier-2, a dark repository). The primary publishes\n"
         << "CMIP6 datasets as signed manifests and gossip carries them to every catalog. A Tier-1\n"
         << "centre and the dark repository subscribe and fetch the data by swarm; a new version\n"
         << "supersedes the old and only its changed file travels; a retraction reaches every copy,\n"
         << "and `check` tells the holder of any copy whether its files are still good.\n";
  }

  bool fail_with(const Error& e) {
    report_error(e, false);
    w_.fail();
    return false;
  }

  // Waits for `lagging` to return nothing; `tick` runs about once a second meanwhile. On
  // the deadline, names each site still lagging, what it has not done and its log.
  bool await(std::chrono::seconds deadline, const std::function<std::vector<Lag>()>& lagging,
             const std::function<void()>& tick = {}) {
    const auto start = Clock::now();
    auto next_tick = start + std::chrono::seconds(1);
    std::vector<Lag> lag;
    while (!(lag = lagging()).empty()) {
      const auto now = Clock::now();
      if (now - start >= deadline) {
        out_ << "demo: gave up after " << deadline.count() << " s:\n";
        for (const auto& l : lag)
          out_ << "  " << l.site->site << " " << l.what << "; see its log " << l.site->node_log() << "\n";
        w_.fail();
        return false;
      }
      if (tick && now >= next_tick) {
        tick();
        next_tick += std::chrono::seconds(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling interval of a deadline wait
    }
    return true;
  }

  // --- steps -----------------------------------------------------------------------

  bool create_homes() {
    w_.section("Create the federation authority and five node homes");
    FederationOptions f;
    f.dir = auth_;
    f.name = "demo-federation";
    Context ctx = context(primary());
    w_.run("federation init --dir " + auth_ + " --name demo-federation", exit_ok,
           [&] { return run_federation_init(ctx, f, out_); });
    for (const auto& s : sites_) {
      if (!w_.ok()) break;
      Context c = context(s);
      w_.run(at(s) + "init --site " + s.site + " --tier " + s.tier + " --listen " + s.listen + " --swarm-port " +
                 std::to_string(port_ + 1) + " --http-listen " + s.http_listen(port_ + 2),
             exit_ok, [&] {
               InitOptions i;
               i.site = s.site;
               i.tier = s.tier;
               i.listen = s.listen;
               i.swarm_port = port_ + 1;
               i.http_listen = s.http_listen(port_ + 2);
               std::ostringstream quiet;
               return run_init(c, i, quiet);
             });
    }
    if (!w_.ok()) return false;
    // The dark repository moves retracted copies aside, to show a second retraction action
    // next to the default (keep and flag).
    auto home = NodeHome::open(dark().home);
    if (!home) return fail_with(home.error());
    Config c = home->config();
    c.on_retraction = RetractionAction::quarantine;
    if (auto st = home->save_config(c); !st) return fail_with(st.error());
    out_ << "\n(" << dark().site << "/config.toml: [retraction] action = \"quarantine\": its retracted copies move to\n"
         << " data/.quarantine; the other nodes keep the default, \"keep\": kept and flagged)\n";
    return true;
  }

  bool generate() {
    w_.section("Generate a CMIP6 archive at the primary: netCDF files with tracking ids");
    SampleSpec spec;
    spec.datasets = kDatasets;
    spec.versions_per_dataset = 1;
    spec.files_per_version = kFilesPerVersion;
    spec.file_size = file_size_;
    auto written = write_sample_tree(archive_, opts_.seed ? opts_.seed : kDefaultSeed, spec);
    if (!written) return fail_with(written.error());
    sample_ = std::move(*written);
    std::uint64_t files = 0, bytes = 0;
    std::error_code ec;
    Table t({"DATASET VERSION DIRECTORY", "FILES", "SIZE"});
    for (const auto& v : sample_) {
      std::uint64_t size = 0;
      for (const auto& f : v.files) size += fs::file_size(v.directory / f, ec);
      files += v.files.size();
      bytes += size;
      t.add({rel(v) + "/", std::to_string(v.files.size()), human_bytes(size)});
    }
    out_ << "wrote " << sample_.size() << " dataset versions, " << files << " files, " << human_bytes(bytes) << " under "
         << archive_ << "\n";
    t.print(out_);
    return true;
  }

  bool admit() {
    w_.section("Admit the nodes: roster members, the primary granted its institutions, signed roster imported everywhere");
    std::set<std::string> institutions;
    for (const auto& v : sample_) institutions.insert(facet_of(v.dataset_id, 2));
    FederationOptions f;
    f.dir = auth_;
    Context ctx = context(primary());
    for (const auto& s : sites_) {
      if (!w_.ok()) return false;
      f.node_home = s.home;
      std::ostringstream quiet;
      w_.run("federation add-node --dir " + auth_ + " --from-home " + s.home, exit_ok,
             [&] { return run_federation_add_node(ctx, f, quiet); });
    }
    f.node_home = primary().home;
    f.projects = {"CMIP6"};
    f.institutions.assign(institutions.begin(), institutions.end());
    f.output = dir_ + "/roster.fsr";
    std::string inst_args;
    for (const auto& i : institutions) inst_args += " --institution " + i;
    w_.ok() && w_.run("federation grant --dir " + auth_ + " --from-home " + primary().home + " --project CMIP6" + inst_args,
                      exit_ok, [&] { return run_federation_grant(ctx, f, out_); }) &&
        w_.run("federation roster --dir " + auth_ + " -o " + f.output, exit_ok,
               [&] { return run_federation_roster(ctx, f, out_); });
    for (const auto& s : sites_) {
      if (!w_.ok()) return false;
      Context c = context(s);
      f.file = f.output;
      std::ostringstream quiet;
      w_.run(at(s) + "federation import " + f.output, exit_ok, [&] { return run_federation_import(c, f, quiet); });
    }
    return w_.ok();
  }

  bool start_nodes() {
    w_.section("Start the five nodes (fedswarm node run); they dial each other and authenticate");
    for (const auto& s : sites_) {
      out_ << "$ fedswarm " << at(s) << "node run &\n";
      auto p = NodeProcess::start(s.home);
      if (!p) return fail_with(p.error());
      nodes_.push_back(std::move(*p));
    }
    const int others = static_cast<int>(sites_.size() - 1);
    bool meshed = await(kLinkUpDeadline, [&] {
      std::vector<Lag> lag;
      for (const auto& s : sites_) {
        auto st = s.status();
        int up = st ? (*st)["peers"].value("up", 0) : 0;
        if (up != others)
          lag.push_back({&s, st ? "has " + std::to_string(up) + " of " + std::to_string(others) + " peer links up"
                                : "does not answer on its control socket"});
      }
      return lag;
    });
    Table t({"SITE", "ROLE", "ADDRESS", "PEERS UP"});
    for (const auto& s : sites_) {
      auto st = s.status();
      t.add({s.site, s.role, s.listen, st ? std::to_string((*st)["peers"].value("up", 0)) : "not running"});
    }
    t.print(out_);
    return meshed;
  }

  // Sites whose catalog lacks some of the first `n` records, or differs from the others
  // (replica records of the subscribers may still be on their way).
  std::vector<Lag> not_converged(std::uint64_t n, std::uint64_t* converged) const {
    std::vector<Lag> lag;
    std::map<const DemoSite*, std::uint64_t> have;
    std::uint64_t most = n;
    for (const auto& s : sites_) {
      auto st = s.status();
      have[&s] = st ? st->value("records", std::uint64_t{0}) : 0;
      most = std::max(most, have[&s]);
    }
    for (const auto& [s, h] : have)
      if (h < most) lag.push_back({s, "holds " + std::to_string(h) + " of " + std::to_string(most) + " records"});
    *converged = most;
    return lag;
  }

  void records_table() {
    Table t({"SITE", "ROLE", "RECORDS IN CATALOG"});
    for (const auto& s : sites_) {
      auto st = s.status();
      t.add({s.site, s.role, st ? std::to_string(st->value("records", std::uint64_t{0})) : "?"});
    }
    t.print(out_);
  }

  // Publishes the archive at the primary and waits until every catalog holds every
  // record the primary holds then.
  bool publish_and_spread() {
    Context ctx = context(primary());
    const auto t0 = Clock::now();
    if (!w_.run(at(primary()) + "publish " + archive_, exit_ok, [&] {
          PublishOptionsCli p;
          p.paths = {archive_};
          return run_publish(ctx, p, out_);
        }))
      return false;
    auto own = primary().status();
    const std::uint64_t n = own ? own->value("records", std::uint64_t{0}) : 0;
    std::uint64_t converged = n;
    bool spread = await(kGossipDeadline, [&] { return not_converged(n, &converged); });
    const std::string after = seconds_since(t0);
    out_ << "\n";
    records_table();
    if (spread) out_ << "every catalog holds the same " << converged << " records " << after << " after the publish started\n";
    return spread;
  }

  bool publish() {
    w_.section("Publish at the primary while every node runs; gossip carries the manifests to every catalog");
    return publish_and_spread();
  }

  bool search() {
    w_.section("Search at the dark repository: the same catalog, offline, with facet counts");
    Context c = context(dark());
    return w_.run(at(dark()) + "search --facets source_id,experiment_id", exit_ok, [&] {
      SearchOptions s;
      s.facets = "source_id,experiment_id";
      return run_search(c, s, out_);
    });
  }

  bool subscribe_at(const DemoSite& s, const std::string& constraints, const std::string& name) {
    Context c = context(s);
    return w_.run(at(s) + "subscribe add '" + constraints + "' --name " + name, exit_ok, [&] {
      SubscribeOptions o;
      o.constraints = {constraints};
      o.name = name;
      return run_subscribe_add(c, o, out_);
    });
  }

  // Versions `s` was asked for and has not yet placed in its DRS tree and begun seeding,
  // with what its engine says about them (for the message if the deadline passes).
  std::vector<Lag> not_placed(const DemoSite& s, const std::vector<const SampleVersion*>& wanted) const {
    std::vector<Lag> lag;
    auto transfers = s.transfers();
    for (const auto* v : wanted) {
      const nlohmann::json* row = nullptr;
      if (transfers)
        for (const auto& t : (*transfers)["transfers"])
          if (t.value("instance_id", "") == v->instance_id()) row = &t;
      std::error_code ec;
      if (row && row->value("kind", "") == "seed" && fs::is_directory(fs::path(s.data_root()) / rel(*v), ec)) continue;
      std::string what = "has not placed " + v->instance_id() + " in " + s.data_root();
      if (!transfers) what += " (no answer on its control socket)";
      else if (!row) what += " (not among its transfers)";
      else {
        what += " (" + row->value("activity", std::string("?")) + ", " +
                human_bytes(row->value("bytes_done", std::uint64_t{0})) + " of " +
                human_bytes(row->value("bytes_total", std::uint64_t{0}));
        if (auto e = row->value("last_error", std::string()); !e.empty()) what += ", last error: " + e;
        what += ")";
      }
      if (transfers && transfers->contains("counters")) {
        const auto& banned = (*transfers)["counters"]["banned_peers"];
        if (banned.is_array() && !banned.empty()) {
          what += "; it banned swarm peer(s)";
          for (const auto& b : banned) what += " " + b.get<std::string>();
          what += " for corrupt data";
        }
      }
      lag.push_back({&s, std::move(what)});
    }
    return lag;
  }

  // One line of fetch progress: verified bytes of the wanted versions at each subscriber;
  // printed when it changed, else every 10 s, so a stalled fetch does not flood the output.
  void progress_line(const std::vector<std::pair<const DemoSite*, std::vector<const SampleVersion*>>>& plan,
                     Clock::time_point t0) {
    std::ostringstream line;
    for (const auto& [site, wanted] : plan) {
      std::uint64_t done = 0, total = 0;
      std::set<std::string> ids;
      for (const auto* v : wanted) ids.insert(v->instance_id());
      if (auto t = site->transfers())
        for (const auto& x : (*t)["transfers"])
          if (ids.count(x.value("instance_id", ""))) {
            done += x.value("bytes_done", std::uint64_t{0});
            total += x.value("bytes_total", std::uint64_t{0});
          }
      line << "  " << site->site << " " << human_bytes(done) << " / " << human_bytes(total);
    }
    const auto now = Clock::now();
    if (line.str() == last_progress_ && now - last_progress_at_ < std::chrono::seconds(10)) return;
    last_progress_ = line.str();
    last_progress_at_ = now;
    out_ << "  after " << seconds_since(t0) << ":" << last_progress_ << "\n";
  }

  bool await_placed(const std::vector<std::pair<const DemoSite*, std::vector<const SampleVersion*>>>& plan,
                    Clock::time_point t0) {
    last_progress_.clear();
    return await(
        kFetchDeadline,
        [&] {
          std::vector<Lag> lag;
          for (const auto& [site, wanted] : plan)
            for (auto& l : not_placed(*site, wanted)) lag.push_back(std::move(l));
          return lag;
        },
        [&] { progress_line(plan, t0); });
  }

  // Which node holds which version: the local replica state in each node's catalog.
  void holdings_table(const std::vector<const SampleVersion*>& versions) {
    std::vector<std::string> header{"DATASET VERSION"};
    std::vector<std::map<std::string, LocalReplica>> locals;
    for (const auto& s : sites_) {
      header.push_back(s.site);
      locals.push_back(s.locals());
    }
    Table t(header);
    for (const auto* v : versions) {
      std::vector<std::string> row{v->instance_id()};
      for (const auto& l : locals) {
        auto it = l.find(v->instance_id());
        row.push_back(it == l.end() ? "-" : std::string(to_string(it->second.state)));
      }
      t.add(std::move(row));
    }
    t.print(out_);
  }

  // Swarm traffic per node, summed over its transfers (`transfers --json --all`).
  void traffic_table(const std::vector<const DemoSite*>& sites) {
    Table t({"SITE", "ROLE", "SEEDING", "RECEIVED FROM PEERS", "SENT TO PEERS"});
    for (const auto* s : sites) {
      auto tr = s->transfers();
      if (!tr) {
        t.add({s->site, s->role, "?", "?", "?"});
        continue;
      }
      std::uint64_t seeding = 0, down = 0, up = 0;
      for (const auto& x : (*tr)["transfers"]) {
        seeding += x.value("kind", "") == "seed";
        down += x.value("bytes_downloaded", std::uint64_t{0});
        up += x.value("bytes_uploaded", std::uint64_t{0});
      }
      t.add({s->site, s->role, std::to_string(seeding) + " versions", human_bytes(down), human_bytes(up)});
    }
    t.print(out_);
  }

  bool subscribe() {
    w_.section("Subscriptions: a Tier-1 centre mirrors the project, the dark repository two models; both fetch by swarm");
    const std::string models = "source_id=" + facet_of(a1().dataset_id, 3) + " source_id=" + facet_of(b1().dataset_id, 3);
    const auto t0 = Clock::now();
    if (!subscribe_at(tier1(), "project=CMIP6", "cmip6-mirror") || !subscribe_at(dark(), models, "two-models")) return false;
    std::vector<const SampleVersion*> all, two{&a1(), &b1()};
    for (const auto& v : sample_) all.push_back(&v);
    out_ << "\nwaiting for " << tier1().site << " and " << dark().site
         << " to fetch, verify (SHA-256 against the signed manifests) and place their versions:\n";
    if (!await_placed({{&tier1(), all}, {&dark(), two}}, t0)) return false;
    out_ << "both subscribers placed every wanted version in their DRS tree " << seconds_since(t0)
         << " after subscribing\n\nWho holds what (local replica state in each node's catalog):\n";
    holdings_table(all);
    out_ << "\nSwarm traffic so far (payload bytes over all of a node's transfers; subscribers may also\n"
         << "serve each other the pieces they already have):\n";
    traffic_table({&primary(), &tier1(), &dark()});
    Context c = context(dark());
    return w_.run(at(dark()) + "transfers --all", exit_ok, [&] {
      TransfersOptions o;
      o.all = true;
      return run_transfers(c, o, out_);
    });
  }

  // The ESGF search API and file server of the nodes, asked with curl as any ESGF user's
  // script would: the dark repository's node answers for the whole federation, and a
  // file of the Tier-1 copy downloads by the `url` of its File record.
  bool esgf() {
    w_.section("ESGF clients: esg-search at the dark repository's node over HTTPS; a file downloaded from the Tier-1 copy by its url");
    // The subscribers' replica records are still spreading: every catalog first holds them all.
    std::uint64_t converged = 0;
    if (!await(kGossipDeadline, [&] { return not_converged(0, &converged); })) return false;
    const std::string dark_url = "https://" + dark().http_listen(port_ + 2);
    const std::string q = dark_url + "/esg-search/search?format=application%2Fsolr%2Bjson&project=CMIP6&limit=0&facets=source_id";
    auto answer = curl_json(dark(), q);
    if (!answer) return false;
    out_ << "numFound " << (*answer)["response"]["numFound"] << " dataset versions; source_id counts "
         << (*answer)["facet_counts"]["facet_fields"]["source_id"].dump() << "\n";
    const std::string id = a1().instance_id();
    auto files = curl_json(dark(), dark_url + "/esg-search/search?format=application%2Fsolr%2Bjson&type=File&replica=true&dataset_id=" +
                                       id + "%7C" + tier1().site);
    if (!files) return false;
    const auto& docs = (*files)["response"]["docs"];
    if (docs.empty()) return fail_with(make_error(Errc::not_found, "demo_no_file_record", "no File record of " + id + " at " + tier1().site));
    const auto& doc = docs[0];
    const std::string url = doc["url"][0].get<std::string>();
    const std::string file_url = url.substr(0, url.find('|'));
    out_ << "File record: " << doc["title"].get<std::string>() << "  size " << doc["size"] << "  SHA256 "
         << doc["checksum"][0].get<std::string>().substr(0, 16) << "…\n  url " << url << "\n";
    const fs::path target = fs::path(dir_) / "downloads" / doc["title"].get<std::string>();
    fs::create_directories(target.parent_path());
    if (!curl(tier1(), file_url, "-o '" + target.string() + "'")) return false;
    FileHasher hasher;
    auto digest = hasher.hash(target, 0);
    if (!digest) return fail_with(digest.error());
    const bool same = to_hex(digest->sha256) == doc["checksum"][0].get<std::string>();
    out_ << "downloaded " << shown_path(target.string()) << " from " << tier1().site << ": SHA-256 "
         << (same ? "matches the signed manifest" : "DIFFERS from the signed manifest") << "\n";
    if (!same) w_.fail();
    return same;
  }

  // Runs curl against a node's HTTPS face, trusting that node's certificate, and shows
  // the command line. `args` go before the URL.
  bool curl(const DemoSite& s, const std::string& url, const std::string& args, std::string* body = nullptr) {
    const std::string ca = s.home + "/tls/cert.pem";
    out_ << "$ curl -sS --cacert " << shown_path(ca) << (args.empty() ? "" : " " + args) << " '" << url << "'\n";
    const std::string cmd = "curl -sS --fail --max-time 60 --cacert '" + ca + "' " + args + " '" + url + "' 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return fail_with(make_error(Errc::io, "demo_curl", "cannot run curl; install it: apt-get install curl"));
    std::string out;
    char buf[4096];
    while (std::size_t k = std::fread(buf, 1, sizeof buf, p)) out.append(buf, k);
    const int rc = ::pclose(p);
    if (rc != 0)
      return fail_with(make_error(Errc::io, "demo_curl", "curl failed (" + out.substr(0, 400) + "); see " + s.node_log()));
    if (body) *body = std::move(out);
    return true;
  }
  std::optional<nlohmann::json> curl_json(const DemoSite& s, const std::string& url) {
    std::string body;
    if (!curl(s, url, "", &body)) return std::nullopt;
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) {
      fail_with(make_error(Errc::invalid, "demo_bad_json", "the answer of " + url + " is not JSON: " + body.substr(0, 200)));
      return std::nullopt;
    }
    return j;
  }

  bool supersede() {
    w_.section("A new version supersedes the old: only the changed file travels, unchanged ones are linked");
    SampleSpec spec;
    spec.datasets = 1;
    spec.versions_per_dataset = 2;
    spec.first_version = 1;
    spec.files_per_version = kFilesPerVersion;
    spec.file_size = file_size_;
    spec.unchanged_files = kUnchangedFiles;
    auto written = write_sample_tree(archive_, opts_.seed ? opts_.seed : kDefaultSeed, spec);
    if (!written) return fail_with(written.error());
    if (written->size() != 1 || (*written)[0].dataset_id != a1().dataset_id) {
      out_ << "demo: the sample generator did not write the next version of " << a1().dataset_id << "\n";
      w_.fail();
      return false;
    }
    next_ = std::move((*written)[0]);
    out_ << primary().site << " reissues " << a1().dataset_id << " as " << next_.version << ":\n  "
         << next_.files.back() << " is corrected (new data, new tracking id);\n  the other " << kUnchangedFiles
         << " files are unchanged, byte for byte. Written to " << rel(next_) << "/\n";
    const auto t0 = Clock::now();
    if (!publish_and_spread()) return false;
    out_ << "\nwaiting for " << tier1().site << " and " << dark().site << " to fetch " << next_.version << ":\n";
    if (!await_placed({{&tier1(), {&next_}}, {&dark(), {&next_}}}, t0)) return false;
    out_ << "both subscribers placed " << next_.version << " " << seconds_since(t0) << " after the publish started\n\n";

    Table t({"SITE", a1().version, next_.version + " (NEW)", "RECEIVED FROM PEERS", "LINKED FROM " + a1().version,
             "SAME INODE AS " + a1().version});
    for (const auto* s : {&tier1(), &dark()}) {
      auto locals = s->locals();
      auto state = [&](const SampleVersion& v) {
        auto it = locals.find(v.instance_id());
        return it == locals.end() ? std::string("-") : std::string(to_string(it->second.state));
      };
      auto row = s->transfer(next_.instance_id());
      const fs::path root = s->data_root();
      std::size_t linked = 0;
      for (const auto& f : next_.files) linked += same_inode(root / rel(next_) / f, root / rel(a1()) / f);
      t.add({s->site, state(a1()), state(next_), row ? human_bytes(row->value("bytes_downloaded", std::uint64_t{0})) : "?",
             row ? human_bytes(row->value("bytes_linked", std::uint64_t{0})) : "?",
             std::to_string(linked) + " of " + std::to_string(next_.files.size()) + " files"});
    }
    t.print(out_);
    out_ << "RECEIVED and LINKED: the engine's counters for the " << next_.version << " fetch (`transfers --json`).\n"
         << "A file whose signed merkle root equals one of the old version's is hard-linked from the local\n"
         << "copy into staging before libtorrent checks it, so only the corrected file comes from peers.\n";
    Context c = context(dark());
    return w_.run(at(dark()) + "show " + next_.instance_id() + " --no-files", exit_ok, [&] {
      ShowOptions o;
      o.target = next_.instance_id();
      o.files = false;
      return run_show(c, o, out_);
    });
  }

  bool retract() {
    w_.section("Retract a version at the primary (signed, with the errata id); it reaches every copy");
    retracted_ = b1().instance_id();
    RetractOptions r;
    r.target = retracted_;
    r.reason = "wrong calendar attribute in the time axis";
    r.errata = "2f6a7c4e-1d2b-4c3a-9e8f-0a1b2c3d4e5f";
    Context ctx = context(primary());
    if (!w_.run(at(primary()) + "retract " + retracted_ + " --reason \"" + r.reason + "\" --errata " + r.errata, exit_ok,
                [&] { return run_retract(ctx, r, out_); }))
      return false;
    bool reached = await(kGossipDeadline, [&] {
      std::vector<Lag> lag;
      for (const auto& s : sites_) {
        if (s.version_status(retracted_) != "retracted") lag.push_back({&s, "has not stored the retraction"});
        else if (s.transfer(retracted_)) lag.push_back({&s, "still offers the retracted version to the swarm"});
      }
      auto l = dark().locals();
      if (auto it = l.find(retracted_); it == l.end() || it->second.state != LocalState::quarantined)
        lag.push_back({&dark(), "has not quarantined its copy"});
      return lag;
    });
    Table t({"SITE", "ROLE", "STATUS", "SEEDED", "LOCAL COPY"});
    for (const auto& s : sites_) {
      auto l = s.locals();
      auto it = l.find(retracted_);
      std::string copy = "-";
      if (it != l.end())
        copy = std::string(to_string(it->second.state)) + (it->second.path.empty() ? "" : " at " + shown_path(it->second.path));
      t.add({s.site, s.role, s.version_status(retracted_), s.transfer(retracted_) ? "yes" : "no", copy});
    }
    out_ << "\n";
    t.print(out_);
    if (reached)
      out_ << "every node stopped offering it; " << tier1().site << " keeps its copy (flagged), " << dark().site
           << " moved its copy to the quarantine\n";
    return reached;
  }

  bool check() {
    w_.section("Ask the copies about their files: is this copy still good?");
    struct Probe {
      const DemoSite* site;
      fs::path file;
      int expected;
    };
    auto dark_locals = dark().locals();
    const fs::path quarantined = dark_locals.count(retracted_) ? fs::path(dark_locals[retracted_].path) : fs::path();
    const std::vector<Probe> probes{
        {&tier1(), fs::path(tier1().data_root()) / rel(b1()) / b1().files.front(), exit_retracted},
        {&tier1(), fs::path(tier1().data_root()) / rel(a1()) / a1().files.back(), exit_superseded},
        {&dark(), quarantined / b1().files.front(), exit_retracted},
        {&dark(), fs::path(dark().data_root()) / rel(next_) / next_.files.back(), exit_ok},
    };
    Table t({"SITE", "FILE OF ITS COPY", "HELD IN", "VERDICT", "EXIT"});
    for (const auto& p : probes) {
      Context c = context(*p.site);
      int rc = -1;
      if (!w_.run(at(*p.site) + "check " + p.file.string(), p.expected, [&] {
            CheckOptions k;
            k.targets = {p.file.string()};
            return rc = run_check(c, k, out_);
          }))
        return false;
      t.add({p.site->site, p.file.filename().string(), shown_path(p.file.parent_path().string()), verdict_of(rc),
             std::to_string(rc)});
    }
    out_ << "\n";
    t.print(out_);
    out_ << "check exits 0 for current, 10 for superseded, 11 for retracted: scripts can trust it.\n";
    return true;
  }

  bool peers() {
    w_.section("How the primary sees its peers");
    Context ctx = context(primary());
    return w_.run(at(primary()) + "peers", exit_ok, [&] { return run_peers(ctx, PeersOptions{}, out_); });
  }

  int finish() {
    out_ << "\n";
    std::error_code ec;
    if (!w_.ok()) {
      for (auto& n : nodes_) n.stop();
      out_ << "demo FAILED; its files are kept in " << dir_ << " for inspection (node logs in */logs/node.log)\n";
      return exit_failure;
    }
    if (opts_.keep) {
      out_ << "demo finished. The federation keeps running in " << dir_ << "; explore it with, e.g.:\n"
           << "  fedswarm --home " << tier1().home << " transfers --all\n"
           << "  ls -li " << tier1().data_root() << "/" << fs::path(rel(next_)).parent_path().string() << "/*\n"
           << "  fedswarm --home " << dark().home << " subscribe list\n"
           << "  fedswarm --home " << sites_[3].home << " show " << retracted_ << "\n"
           << "Stop the nodes with: kill";
      for (auto& n : nodes_) {
        out_ << " " << n.pid();
        n.detach();
      }
      out_ << "\n";
    } else {
      for (auto& n : nodes_) n.stop();
      fs::remove_all(dir_, ec);
      out_ << "demo finished; stopped the nodes and removed " << dir_ << " (use --keep to explore it)\n";
    }
    return exit_ok;
  }
};

}  // namespace

int run_demo(Context& outer, const DemoOptions& o, std::ostream& out) {
  std::uint64_t file_size = kDefaultFileSize;
  if (!o.file_size.empty()) {
    auto parsed = parse_size(o.file_size);
    // Below ~2 KiB a netCDF file is all header; far above, the demo stops being quick.
    if (!parsed || *parsed < 4096 || *parsed > (1ull << 30))
      return report_error(make_error(Errc::invalid, "bad_size",
                                     "--file-size \"" + o.file_size + "\" is not a size between 4K and 1G (e.g. 2.5M)"),
                          outer.json);
    file_size = *parsed;
  }
  std::string dir = o.dir.empty() ? make_temp_dir() : o.dir;
  if (dir.empty()) return report_error(make_error(Errc::io, "io_error", "cannot create a temporary directory; set TMPDIR"), outer.json);
  std::error_code ec;
  fs::create_directories(dir, ec);
  dir = fs::absolute(dir, ec).string();
  return Demo(o, file_size, dir, out).run();
}

void add_demo_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<DemoOptions>();
  auto* cmd = app.add_subcommand(
      "demo", "a local federation of five nodes: publish, gossip, subscribe and fetch by swarm, supersede, retract, check");
  cmd->add_flag("--keep", o->keep, "leave the federation running and its files in place to explore");
  cmd->add_option("--dir", o->dir, "where to create the demo (default: a new temporary directory)");
  cmd->add_option("--seed", o->seed, "seed of the generated archive");
  cmd->add_option("--file-size", o->file_size, "approximate size of each generated netCDF file (default 2.5M)");
  cmd->callback([&ctx, o] { ctx.exit_code = run_demo(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
