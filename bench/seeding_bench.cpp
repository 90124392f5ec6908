// seeding_bench: seeding on demand at a Tier-1 centre's scale (issue 14), with a real
// `fedswarm node run`. Node A holds N complete small CMIP6-shaped versions (two files
// of 1–3 KiB each, in its DRS tree, a manifest signed by A's key, a LocalReplica row with
// resume data made by libtorrent itself: the merkle trees and every piece), none of them
// loaded. A second party — an lt::session in this process on another loopback address,
// a roster member — then asks A for versions by connecting to A's swarm port. Reports,
// against the targets:
//   - start-up: `fedswarm node run` until `status` answers and until swarm.held == N;
//   - A's anonymous RSS and CPU, idle after start;
//   - a peer's request → the first block of a cold version (p50 / p99 / max over
//     `--cold` versions), from the peer's add of the torrent (with A in its peer list, as
//     a fedswarm fetch adds it) and from its connect to A (peer_connect_alert);
//   - a CLI command's notify (`--notify` times the `notify` control request, answered
//     once the replication loop has handled it): what each `fedswarm publish` costs A;
//   - A with `--loads` versions loaded on demand: its anonymous RSS, swarm.loaded, and
//     its CPU over 10 s afterwards; full hash checks (0: the stored trees were used).
// Setup (the homes, N versions, their resume data) is timed apart and excluded from the
// figures; `--keep --dir DIR` keeps it, and a later run with the same `--dir` reuses it.
// Prints a Markdown table and the command line. Not a test: no assertions on time.
//
// Usage: seeding_bench [--n N] [--dir DIR] [--keep] [--fedswarm PATH] [--cold K] [--loads L] [--notify K] [--trace]
// (--trace: the peer's alerts for each cold version, with milliseconds since its request)
#include <signal.h>
#include <unistd.h>
#include <xxhash.h>

#include <libtorrent/alert_types.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/session_params.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "BenchProcess.hpp"
#include "BenchStats.hpp"
#include "ManifestFactory.hpp"
#include "Process.hpp"
#include "fedswarm/engine/ControlClient.hpp"
#include "fedswarm/engine/NodeHome.hpp"
#include "fedswarm/protocol/DrsPath.hpp"
#include "swarm/SwarmSettings.hpp"
#include "swarm/TorrentParams.hpp"

using namespace fedswarm;
using namespace fedswarm::bench;
namespace fs = std::filesystem;

namespace {

struct Options {
  std::uint64_t n = 100'000;
  fs::path dir;
  bool keep = false;
  std::string fedswarm = FEDSWARM_BIN;
  std::size_t cold = 20;
  std::size_t loads = 1000;
  std::size_t notify = 20;
  bool trace = false;  // print the peer's alerts (with peer_log) for each cold version
};

// What setup leaves for the runs (bench.json in the bench directory).
struct Layout {
  std::uint64_t n = 0;
  int port = 0;       // A: gossip `port`, swarm `port + 1`, HTTP `port + 2`
  int peer_port = 0;  // the peer's swarm port
};

const std::string kIpA = "127.0.87.2", kIpPeer = "127.0.87.3";
constexpr std::size_t kChunk = 2000;  // versions per scratch-session batch and catalog batch

// A node home for the bench: A's addresses, seeding on demand sized for the load phase.
NodeHome make_home(const fs::path& dir, const Layout& l, std::uint32_t max_active) {
  Config c = Config::defaults("A", Tier::tier2);
  c.listen = kIpA + ":" + std::to_string(l.port);
  c.swarm_port = static_cast<std::uint16_t>(l.port + 1);
  c.http.listen = kIpA + ":" + std::to_string(l.port + 2);
  c.data_root = dir / "data";
  c.max_active_torrents = max_active;
  c.seed_idle_s = 3600;  // nothing leaves while the bench measures
  auto h = NodeHome::init(dir, c);
  if (!h) throw std::runtime_error(h.error().message);
  return std::move(*h);
}

std::uint64_t swarm_field(const nlohmann::json& status, const char* key) {
  if (!status.contains("swarm")) return 0;
  return status["swarm"].value(key, std::uint64_t{0});
}

std::uint64_t splitmix(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// File k of version i: 1–3 KiB (one 16 KiB block, so its v2 root is its SHA-256).
Bytes content_of(std::uint64_t i, std::uint64_t k) {
  std::uint64_t x = (2 * i + k) * 0x2545f4914f6cdd1dull + 1;
  Bytes b(1024 + splitmix(x) % 2048);
  for (std::size_t j = 0; j < b.size(); j += 8) {
    const std::uint64_t v = splitmix(x);
    for (std::size_t q = 0; q < 8 && j + q < b.size(); ++q) b[j + q] = static_cast<std::uint8_t>(v >> (8 * q));
  }
  return b;
}

// Version i: a dataset of its own (the variant carries i), kFiles files with `contents`.
// Two files, not one: libtorrent 2.0.8 lays out a v2 torrent of a single file as
// <save_path>/<file>, without the <name> (version) directory, which the engine at this
// commit does not allow for (see the README's Benchmarks section).
constexpr std::size_t kFiles = 2;
Manifest manifest_of(const test::ManifestFactory& factory, std::uint64_t i, const std::vector<Bytes>& contents,
                     std::int64_t now) {
  std::mt19937_64 rng(i * 7919 + 17);
  Manifest m;
  do {  // a table with time-ranged files (fixed-field tables have one file)
    test::DatasetSpec spec = factory.random_dataset(rng);
    spec.variant = "r" + std::to_string(i + 1) + "i1p1f1";
    m = factory.make(spec, test::version_string(static_cast<int>(i % 3000)), kFiles, rng);
  } while (m.files.size() != kFiles);
  m.published_at = now;
  std::vector<Sha256> roots;
  for (std::size_t k = 0; k < kFiles; ++k) {
    ManifestFile& f = m.files[k];
    const Bytes& content = contents[k];
    f.size = content.size();
    f.sha256 = sha256(content);
    XXH128_canonical_t canon;
    XXH128_canonicalFromHash(&canon, XXH3_128bits(content.data(), content.size()));
    std::memcpy(f.xxh3.data(), canon.digest, sizeof canon.digest);
    roots.push_back(f.sha256);
  }
  m.info_dict = test::info_dict_for(m, roots);
  return m;
}

lt::settings_pack session_settings(const std::string& ip, std::uint16_t port, bool trace = false) {
  SwarmSettingsInput in;
  in.ip = lt::make_address(ip);
  in.port = port;
  lt::settings_pack s = swarm_settings(in);
  s.set_int(lt::settings_pack::alert_mask,
            static_cast<int>(static_cast<std::uint32_t>(lt::alert_category::error | lt::alert_category::status |
                                                        lt::alert_category::storage | lt::alert_category::connect |
                                                        lt::alert_category::piece_progress |
                                                        lt::alert_category::block_progress |
                                                        (trace ? lt::alert_category::peer_log | lt::alert_category::peer
                                                               : lt::alert_category_t{}))));
  s.set_int(lt::settings_pack::alert_queue_size, 100'000);
  s.set_int(lt::settings_pack::connections_limit, 5000);
  s.set_int(lt::settings_pack::connection_speed, 1000);
  return s;
}

// Handles alerts until `fn` returns true for one or `timeout` passes (false).
template <typename Fn>
bool pump(lt::session& ses, std::chrono::milliseconds timeout, Fn&& fn) {
  const auto until = Clock::now() + timeout;
  std::vector<lt::alert*> alerts;
  while (Clock::now() < until) {
    ses.wait_for_alert(std::chrono::milliseconds(20));
    ses.pop_alerts(&alerts);
    for (lt::alert* a : alerts)
      if (fn(a)) return true;
  }
  return false;
}

// The peer asks for a version as a fedswarm fetch does (SwarmEngineImpl, on_prepared):
// the torrent is added with the holder in its peer list, held paused until its check is
// over, then resumed (release_hold), and libtorrent dials the holder at once.
lt::add_torrent_params fetch_params(const ManifestTorrent& t, const fs::path& save_path, const lt::tcp::endpoint& holder) {
  lt::add_torrent_params p = fresh_params(t, save_path);
  p.peers.push_back(holder);
  hold_until_checked(p);
  return p;
}

void release_hold(lt::alert* a) {
  if (ends_hold(*a)) static_cast<lt::torrent_alert*>(a)->handle.resume();
}

// --- setup ----------------------------------------------------------------------------------------

// Writes A's home and N versions; returns the instance ids in index order.
std::vector<std::string> prepare(const Options& opt, const Layout& layout, const fs::path& a_dir) {
  NodeHome a = make_home(a_dir, layout, static_cast<std::uint32_t>(std::max<std::size_t>(2000, opt.loads + opt.cold + 100)));
  test::FederationKeys keys;
  RosterMember ma = test::member(a.key(), "A", Tier::tier2);
  ma.endpoints = {kIpA + ":" + std::to_string(layout.port)};
  ma.swarm_port = static_cast<std::uint16_t>(layout.port + 1);
  // The peer: a member (A's IP filter admits members only) with a swarm port; nothing
  // listens at its gossip endpoint.
  RosterMember mp = test::member(SigningKey::generate(), "P", Tier::tier2);
  mp.endpoints = {kIpPeer + ":" + std::to_string(layout.port)};
  mp.swarm_port = static_cast<std::uint16_t>(layout.peer_port);
  const Envelope roster = keys.roster(1, test::make_roster(1, {ma, mp}, {test::grant(a.key())}));
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();

  CatalogOptions co;
  co.dir = a.catalog_dir();
  co.durable = false;  // a bulk load; closed (and synced by LMDB's close) before A starts
  auto cat = Catalog::open(co, a.projects());
  if (!cat) throw std::runtime_error(cat.error().message);
  if (auto s = (*cat)->pin_authority(keys.authority.public_key()); !s) throw std::runtime_error(s.error().message);
  if (auto s = (*cat)->import_roster(roster, now); !s) throw std::runtime_error(s.error().message);
  if (auto r = (*cat)->ingest_batch(std::span<const Envelope>(&roster, 1), now); !r) throw std::runtime_error(r.error().message);

  test::ManifestFactory factory{fs::path(FEDSWARM_CV_DIR)};
  // The resume data is libtorrent's own: each version is added to a scratch session with
  // the engine's parameters, checked, and saved.
  lt::session scratch(lt::session_params(session_settings("127.0.0.1", 0)));
  std::vector<std::string> ids;
  ids.reserve(opt.n);
  const auto t0 = Clock::now();
  for (std::uint64_t first = 0; first < opt.n; first += kChunk) {
    const std::uint64_t last = std::min<std::uint64_t>(opt.n, first + kChunk);
    std::vector<Envelope> envs;
    std::vector<LocalReplica> locals;
    std::map<lt::sha256_hash, std::size_t> slot;  // info-hash → index in this chunk
    std::vector<std::shared_ptr<const lt::torrent_info>> infos;
    for (std::uint64_t i = first; i < last; ++i) {
      std::vector<Bytes> contents;
      for (std::size_t k = 0; k < kFiles; ++k) contents.push_back(content_of(i, k));
      Manifest m = manifest_of(factory, i, contents, now);
      auto rel = drs_version_directory(a.projects(), m.project, m.dataset_id, m.version);
      if (!rel) throw std::runtime_error(rel.error().message);
      const fs::path dir = a.config().data_root / *rel;
      fs::create_directories(dir);
      for (std::size_t k = 0; k < kFiles; ++k)
        std::ofstream(dir / m.files[k].path, std::ios::binary)
            .write(reinterpret_cast<const char*>(contents[k].data()), static_cast<std::streamsize>(contents[k].size()));
      auto torrent = torrent_of(m);
      if (!torrent) throw std::runtime_error(torrent.error().message);
      infos.push_back(torrent->ti);
      slot[torrent->ti->info_hashes().v2] = locals.size();
      // fresh_params does not check what is on disk (a fetch's staged files are reserved
      // space); here the files are the version's, and the check makes the resume data.
      lt::add_torrent_params params = fresh_params(*torrent, dir.parent_path());
      params.flags &= ~lt::torrent_flags::no_verify_files;
      scratch.async_add_torrent(std::move(params));
      LocalReplica l;
      l.instance_id = m.instance_id();
      l.state = LocalState::complete;
      l.path = dir.string();
      l.bytes_done = m.total_size();
      l.updated_at = now;
      locals.push_back(std::move(l));
      ids.push_back(m.instance_id());
      envs.push_back(Envelope::sign(a.key(), i + 1, RecordKind::manifest, m.encode()));
    }
    std::size_t saved = 0;
    std::string failure;
    pump(scratch, std::chrono::minutes(10), [&](lt::alert* al) {
      if (auto* x = lt::alert_cast<lt::add_torrent_alert>(al); x && x->error) failure = "add: " + x->error.message();
      else if (auto* c = lt::alert_cast<lt::torrent_checked_alert>(al)) c->handle.save_resume_data({});
      else if (auto* r = lt::alert_cast<lt::save_resume_data_alert>(al)) {
        auto it = slot.find(r->params.info_hashes.v2);
        if (it == slot.end()) return false;
        if (!seedable_without_check(r->params, *infos[it->second]))
          failure = "resume data of " + locals[it->second].instance_id + " does not claim every piece with its trees (" +
                    std::to_string(r->params.merkle_trees.size()) + " trees, " + std::to_string(r->params.have_pieces.count()) +
                    " of " + std::to_string(infos[it->second]->num_pieces()) + " pieces)";
        locals[it->second].resume_data = encode_resume(r->params);
        scratch.remove_torrent(r->handle);
        ++saved;
      } else if (auto* f = lt::alert_cast<lt::save_resume_data_failed_alert>(al)) {
        failure = "save_resume_data: " + f->error.message();
      } else if (auto* e = lt::alert_cast<lt::file_error_alert>(al)) {
        failure = "file error: " + e->error.message();
      }
      return !failure.empty() || saved == locals.size();
    });
    if (!failure.empty()) throw std::runtime_error(failure);
    if (saved != locals.size()) throw std::runtime_error("the scratch session did not check every version in time");
    auto r = (*cat)->ingest_batch(envs, now, true);
    if (!r) throw std::runtime_error(r.error().message);
    for (const auto& x : *r)
      if (x.outcome != IngestOutcome::stored) throw std::runtime_error("manifest not stored: " + (x.error ? x.error->message : std::string(to_string(x.outcome))));
    for (const auto& l : locals)
      if (auto s = (*cat)->put_local(l); !s) throw std::runtime_error(s.error().message);
    std::fprintf(stderr, "\rsetup: %llu of %llu versions (%.0f versions/s)", static_cast<unsigned long long>(last),
                 static_cast<unsigned long long>(opt.n), static_cast<double>(last) / seconds_since(t0));
  }
  std::fprintf(stderr, "\n");
  return ids;
}

void write_layout(const fs::path& dir, const Layout& l, const std::vector<std::string>& ids) {
  {
    std::ofstream out(dir / "ids.txt");
    for (const auto& id : ids) out << id << '\n';
  }
  nlohmann::json j = {{"n", l.n}, {"port", l.port}, {"peer_port", l.peer_port}};
  std::ofstream(dir / "bench.json") << j.dump() << '\n';  // last: its presence means "set up"
}

std::optional<Layout> read_layout(const fs::path& dir, std::vector<std::string>& ids) {
  std::ifstream in(dir / "bench.json");
  if (!in) return std::nullopt;
  auto j = nlohmann::json::parse(in);
  Layout l{j.at("n").get<std::uint64_t>(), j.at("port").get<int>(), j.at("peer_port").get<int>()};
  std::ifstream f(dir / "ids.txt");
  for (std::string line; std::getline(f, line);) ids.push_back(line);
  if (ids.size() != l.n) throw std::runtime_error("ids.txt does not list " + std::to_string(l.n) + " versions");
  return l;
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
    else if (a == "--cold") opt.cold = std::stoul(value());
    else if (a == "--loads") opt.loads = std::stoul(value());
    else if (a == "--notify") opt.notify = std::stoul(value());
    else if (a == "--trace") opt.trace = true;
    else {
      std::cerr << "usage: seeding_bench [--n N] [--dir DIR] [--keep] [--fedswarm PATH] [--cold K] [--loads L] [--notify K] [--trace]\n";
      return 2;
    }
  }
  if (!crypto_init()) return 1;
  opt.dir = work_dir(opt.dir, "fedswarm-seeding");
  opt.dir = fs::absolute(opt.dir);
  fs::create_directories(opt.dir);
  const fs::path a_dir = opt.dir / "a";

  // --- setup (timed apart) --------------------------------------------------------------------------
  std::vector<std::string> ids;
  double setup_s = -1;
  auto layout = read_layout(opt.dir, ids);
  if (layout && layout->n != opt.n) {
    std::cerr << opt.dir.string() << " holds a setup for N = " << layout->n << ", not " << opt.n << "\n";
    return 2;
  }
  if (!layout) {
    if (fs::exists(a_dir)) fs::remove_all(a_dir);  // an interrupted setup
    Layout l;
    l.n = opt.n;
    l.port = 20000 + static_cast<int>(getpid() % 20000);
    l.peer_port = l.port + 3;
    const auto t0 = Clock::now();
    ids = prepare(opt, l, a_dir);
    setup_s = seconds_since(t0);
    write_layout(opt.dir, l, ids);
    layout = l;
  }
  const std::size_t cold = std::min<std::size_t>(opt.cold, ids.size());
  const std::size_t loads = std::min<std::size_t>(opt.loads, ids.size() - cold);

  // The versions the peer asks for: `cold` for the first-byte figure, then `loads` others,
  // spread over the catalog.
  std::vector<std::size_t> cold_idx, load_idx;
  std::set<std::size_t> taken;
  for (std::size_t k = 0; k < cold; ++k) {
    std::size_t i = (k * ids.size() / cold + 11) % ids.size();
    while (!taken.insert(i).second) i = (i + 1) % ids.size();
    cold_idx.push_back(i);
  }
  for (std::size_t k = 0; k < loads; ++k) {
    std::size_t i = (k * ids.size() / std::max<std::size_t>(loads, 1) + 5) % ids.size();
    while (!taken.insert(i).second) i = (i + 1) % ids.size();
    load_idx.push_back(i);
  }
  std::map<std::size_t, ManifestTorrent> torrents;
  {
    CatalogOptions co;
    co.dir = a_dir / "catalog";
    co.read_only = true;
    auto cat = Catalog::open(co, ProjectRegistry::builtin());
    if (!cat) throw std::runtime_error(cat.error().message);
    for (auto* list : {&cold_idx, &load_idx})
      for (std::size_t i : *list) {
        auto m = (*cat)->manifest(ids[i]);
        if (!m) throw std::runtime_error(m.error().message);
        auto t = torrent_of(*m);
        if (!t) throw std::runtime_error(t.error().message);
        torrents.emplace(i, std::move(*t));
      }
  }

  // --- start-up -------------------------------------------------------------------------------------
  auto logs = opt.dir / "logs";
  fs::remove_all(logs);
  const auto t_spawn = Clock::now();
  test::Process proc_a({opt.fedswarm, "--home", a_dir.string(), "node", "run", "--log-level", "info"}, logs / "a");
  if (!test::wait_until([&] { return ask(a_dir, ControlCommand::status).ok(); }, std::chrono::seconds(600),
                        std::chrono::milliseconds(10)))
    throw std::runtime_error("node A did not start: " + proc_a.err());
  const double t_status = seconds_since(t_spawn);
  std::uint64_t held = 0;
  if (!test::wait_until(
          [&] {
            auto s = ask(a_dir, ControlCommand::status);
            if (s) held = swarm_field(*s, "held");
            if (!proc_a.running()) throw std::runtime_error("node A died: " + proc_a.err());
            return held >= ids.size();
          },
          std::chrono::seconds(1800), std::chrono::milliseconds(20)))
    throw std::runtime_error("A holds " + std::to_string(held) + " of " + std::to_string(ids.size()) + " versions");
  const double t_held = seconds_since(t_spawn);
  const std::uint64_t rss_start_peak = proc_status_bytes(proc_a.pid(), "VmHWM");
  std::fprintf(stderr, "A answers after %.2f s, holds %llu versions after %.2f s\n", t_status,
               static_cast<unsigned long long>(held), t_held);

  // --- idle -----------------------------------------------------------------------------------------
  std::this_thread::sleep_for(std::chrono::seconds(10));  // start-up work settled
  double cpu0 = cpu_seconds(proc_a.pid());
  std::this_thread::sleep_for(std::chrono::seconds(10));
  const double idle_cpu = (cpu_seconds(proc_a.pid()) - cpu0) / 10.0 * 100.0;
  const std::uint64_t idle_rss = rss_anon(proc_a.pid());
  auto s_idle = ask(a_dir, ControlCommand::status);
  const std::uint64_t idle_loaded = s_idle ? swarm_field(*s_idle, "loaded") : 0;

  // --- a CLI command's notify -----------------------------------------------------------------------
  std::vector<double> notify_ms;
  for (std::size_t k = 0; k < opt.notify; ++k) {
    const auto t0 = Clock::now();
    if (auto r = ask(a_dir, ControlCommand::notify); !r) throw std::runtime_error("notify: " + r.error().message);
    notify_ms.push_back(seconds_since(t0) * 1e3);
  }

  // --- cold versions: request → first block ---------------------------------------------------------
  lt::session peer(lt::session_params(session_settings(kIpPeer, static_cast<std::uint16_t>(layout->peer_port), opt.trace)));
  const lt::tcp::endpoint a_swarm(lt::make_address(kIpA), static_cast<std::uint16_t>(layout->port + 1));
  const fs::path peer_dir = opt.dir / "peer";
  fs::remove_all(peer_dir);
  std::vector<double> first_ms, from_tcp_ms;
  std::size_t cold_failed = 0;
  std::map<std::string, std::size_t> disconnects;  // the peer's connections to A that A closed, by reason
  for (std::size_t i : cold_idx) {
    lt::error_code ec;
    const auto t0 = Clock::now();
    lt::torrent_handle h = peer.add_torrent(fetch_params(torrents.at(i), peer_dir / std::to_string(i), a_swarm), ec);
    if (ec) throw std::runtime_error("peer: " + ec.message());
    std::optional<Clock::time_point> t_tcp;
    const bool got = pump(peer, std::chrono::seconds(30), [&](lt::alert* al) {
      release_hold(al);
      if (opt.trace)
        if (auto* ta = dynamic_cast<lt::torrent_alert*>(al); ta && ta->handle == h)
          std::fprintf(stderr, "%8.1f ms (wall %lld) %s\n", seconds_since(t0) * 1e3,
                       static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  std::chrono::system_clock::now().time_since_epoch()).count() % 100000),
                       al->message().c_str());
      if (auto* c = lt::alert_cast<lt::peer_connect_alert>(al); c && c->handle == h && !t_tcp) t_tcp = Clock::now();
      if (auto* d = lt::alert_cast<lt::peer_disconnected_alert>(al); d && d->handle == h)
        ++disconnects[d->error.message() + " (" + std::string(lt::operation_name(d->op)) + ")"];
      auto* b = lt::alert_cast<lt::block_finished_alert>(al);
      auto* p = lt::alert_cast<lt::piece_finished_alert>(al);
      if ((b && b->handle == h) || (p && p->handle == h)) {
        first_ms.push_back(seconds_since(t0) * 1e3);
        if (t_tcp) from_tcp_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - *t_tcp).count());
        return true;
      }
      return false;
    });
    if (!got) {
      ++cold_failed;
      std::fprintf(stderr, "no block of %s within 30 s\n", ids[i].c_str());
    }
  }
  auto s_cold = ask(a_dir, ControlCommand::status);
  std::string disconnect_text;
  for (const auto& [why, count] : disconnects) disconnect_text += (disconnect_text.empty() ? "" : ", ") + std::to_string(count) + "× " + why;

  // --- `loads` versions loaded ----------------------------------------------------------------------
  std::map<lt::sha256_hash, std::size_t> want;  // info-hash → index
  for (std::size_t i : load_idx) want[torrents.at(i).ti->info_hashes().v2] = i;
  const auto t_loads = Clock::now();
  std::size_t added = 0, finished = 0;
  std::string load_failure;
  for (std::size_t i : load_idx) peer.async_add_torrent(fetch_params(torrents.at(i), peer_dir / std::to_string(i), a_swarm));
  pump(peer, std::chrono::seconds(600), [&](lt::alert* al) {
    release_hold(al);
    if (auto* x = lt::alert_cast<lt::add_torrent_alert>(al)) {
      if (x->error) load_failure = "peer add: " + x->error.message();
      else if (want.count(x->handle.info_hashes().v2)) ++added;
    } else if (auto* f = lt::alert_cast<lt::torrent_finished_alert>(al)) {
      if (want.count(f->handle.info_hashes().v2)) ++finished;
    }
    return !load_failure.empty() || finished == load_idx.size();
  });
  const double loads_s = seconds_since(t_loads);
  if (!load_failure.empty()) std::fprintf(stderr, "%s\n", load_failure.c_str());
  std::this_thread::sleep_for(std::chrono::seconds(2));  // A's once-a-second bookkeeping
  auto s_loaded = ask(a_dir, ControlCommand::status);
  const std::uint64_t loaded_rss = rss_anon(proc_a.pid());
  cpu0 = cpu_seconds(proc_a.pid());
  std::this_thread::sleep_for(std::chrono::seconds(10));
  const double loaded_cpu = (cpu_seconds(proc_a.pid()) - cpu0) / 10.0 * 100.0;
  auto s_after = ask(a_dir, ControlCommand::status);
  const std::uint64_t peak_rss = proc_status_bytes(proc_a.pid(), "VmHWM");

  auto t_term = Clock::now();
  proc_a.kill(SIGTERM);
  auto exited = proc_a.wait(std::chrono::seconds(120));
  const double term_s = seconds_since(t_term);

  // --- the table ------------------------------------------------------------------------------------
  auto field = [](const Result<nlohmann::json>& s, const char* k) { return s ? swarm_field(*s, k) : 0; };
  auto met = [](bool ok) { return ok ? "met" : "**not met**"; };
  const auto fb = percentiles(first_ms), ft = percentiles(from_tcp_ms), nt = percentiles(notify_ms);
  std::printf("\n## Seeding on demand — node A holds N = %llu complete versions (two files of 1–3 KiB each)\n\n",
              static_cast<unsigned long long>(ids.size()));
  std::printf("command: `%s`\n\n", cmdline.c_str());
  std::printf("| what | measured | target | |\n|---|---|---|---|\n");
  std::printf("| start-up: `node run` → `status` answers | %s s | — | |\n", fmt(t_status, "%.2f").c_str());
  std::printf("| start-up: `node run` → swarm.held = N | %s s | — | |\n", fmt(t_held, "%.2f").c_str());
  std::printf("| A's anonymous RSS, idle after start (swarm.loaded = %llu) | %s (peak RSS during start %s) | ≤ 300 MiB | %s |\n",
              static_cast<unsigned long long>(idle_loaded), human(static_cast<double>(idle_rss)).c_str(),
              human(static_cast<double>(rss_start_peak)).c_str(), met(idle_rss <= (300ull << 20)));
  std::printf("| A's CPU, idle after start (10 s) | %s %% of a core | — | |\n", fmt(idle_cpu, "%.2f").c_str());
  std::printf("| a CLI notify (`notify` control request, nothing changed), p50 / max over %zu | %s / %s ms | independent of N | |\n",
              nt.n, fmt(nt.p50).c_str(), fmt(nt.max).c_str());
  std::printf("| peer's request (torrent added, A its peer) → first block of a cold version, p50 / p99 / max (%zu of %zu) | %s / %s / %s ms | ≤ 1 s | %s |\n",
              fb.n, cold_idx.size(), fmt(fb.p50).c_str(), fmt(fb.p99).c_str(), fmt(fb.max).c_str(),
              met(cold_failed == 0 && fb.n > 0 && fb.max <= 1000));
  std::printf("| of which A's part: the peer dials A (peer_connect_alert) → first block, p50 / p99 / max | %s / %s / %s ms | — | |\n",
              fmt(ft.p50).c_str(), fmt(ft.p99).c_str(), fmt(ft.max).c_str());
  std::printf("| connections to A closed before the first block (%zu cold versions) | %s | none | |\n", cold_idx.size(),
              disconnect_text.empty() ? "none" : disconnect_text.c_str());
  std::printf("| %zu more versions asked for at once → all received by the peer | %s s (%zu of %zu, %s loads/s) | — | |\n",
              load_idx.size(), fmt(loads_s, "%.2f").c_str(), finished, load_idx.size(),
              fmt(static_cast<double>(finished) / loads_s, "%.0f").c_str());
  std::printf("| A's anonymous RSS with swarm.loaded = %llu | %s (+%s over idle) | — | |\n",
              static_cast<unsigned long long>(field(s_loaded, "loaded")), human(static_cast<double>(loaded_rss)).c_str(),
              human(static_cast<double>(loaded_rss) - static_cast<double>(idle_rss)).c_str());
  std::printf("| A's CPU with those loaded, idle (10 s; swarm.loaded = %llu after) | %s %% of a core | — | |\n",
              static_cast<unsigned long long>(field(s_after, "loaded")), fmt(loaded_cpu, "%.2f").c_str());
  std::printf("| A's on-demand loads / full hash checks | %llu / %llu | %zu / 0 | %s |\n",
              static_cast<unsigned long long>(field(s_after, "on_demand_loads")),
              static_cast<unsigned long long>(field(s_after, "full_checks")), cold_idx.size() + load_idx.size(),
              met(field(s_after, "full_checks") == 0 && field(s_after, "on_demand_loads") == cold_idx.size() + load_idx.size()));
  std::printf("| A's peak RSS (VmHWM, whole run) | %s | — | |\n", human(static_cast<double>(peak_rss)).c_str());
  std::printf("| SIGTERM → exit | %s s%s | — | |\n", fmt(term_s, "%.2f").c_str(), exited ? "" : " (did not exit)");
  (void)s_cold;
  std::printf("\nSetup (excluded): %s. Machine: %u cores, shared; A and this process (the peer's session) run "
              "on it together; the versions' files are in the page cache.\n",
              setup_s < 0 ? "reused from --dir" : (fmt(setup_s, "%.1f") + " s").c_str(), std::thread::hardware_concurrency());
  if (!opt.keep) fs::remove_all(opt.dir);
  else std::fprintf(stderr, "kept %s (reuse it with --dir)\n", opt.dir.string().c_str());
  return 0;
}
