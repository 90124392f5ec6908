// The composition root of a node: it builds the subsystems, wires their events to each
// other and answers control requests by asking them. engine/README.md draws the
// threads; each subsystem's header states its contract.
#include "fedswarm/engine/NodeDaemon.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <random>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "control/ControlServer.hpp"
#include "dashboard/DashboardApi.hpp"
#include "dashboard/DashboardPage.hpp"
#include "dashboard/RecentRetractions.hpp"
#include "fedswarm/engine/ControlApi.hpp"
#include "fedswarm/engine/ControlClient.hpp"
#include "fedswarm/engine/HealthReport.hpp"
#include "fedswarm/engine/SelfSignedCertificate.hpp"
#include "fedswarm/protocol/ComponentVersion.hpp"
#include "gossip/CatalogGossipStore.hpp"
#include "gossip/GossipNode.hpp"
#include "http/FileServer.hpp"
#include "http/HttpServer.hpp"
#include "http/EsgSearchService.hpp"
#include "metrics/MetricsText.hpp"
#include "metrics/NodeMetrics.hpp"
#include "links/LinkTable.hpp"
#include "node/HomeLock.hpp"
#include "replication/ReplicationLoop.hpp"
#include "replication/TierOneDuty.hpp"

namespace fedswarm {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

namespace {

// How long a control request waits for the io thread or the replication loop.
constexpr auto kControlWait = std::chrono::seconds(5);
// Records a node may lag behind its most advanced peer and still act on the Tier-1 rule
// (see send_liveness): a few gossip batches, far above the few records that a peer may
// hold and this node refuses.
constexpr std::uint64_t kCatchUpSlack = 5000;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Records one side holds beyond the other, summed over authors.
std::uint64_t missing(const VersionVector& have, const VersionVector& other) {
  std::uint64_t n = 0;
  for (const auto& [author, seq] : have) {
    auto it = other.find(author);
    const std::uint64_t theirs = it == other.end() ? 0 : it->second;
    if (seq > theirs) n += seq - theirs;
  }
  return n;
}

}  // namespace

struct NodeDaemon::Impl {
  const NodeHome& home;
  const Config& config;
  NodeRunOptions options;
  std::shared_ptr<spdlog::logger> log;
  std::unique_ptr<HomeLock> lock;
  std::unique_ptr<Catalog> catalog;
  PublicKey self;

  asio::io_context io{1};
  asio::signal_set signals{io, SIGINT, SIGTERM};
  asio::steady_timer round_timer{io};
  std::unique_ptr<CatalogGossipStore> store;
  std::unique_ptr<LinkTable> links;
  std::unique_ptr<GossipNode> node;
  std::unique_ptr<ReplicationLoop> replication;
  std::unique_ptr<ControlServer> control;
  // The HTTP face: its own worker threads read the catalog; stopped first on shutdown.
  std::unique_ptr<FileServer> files;
  std::unique_ptr<EsgSearchService> esg;  // before `http`: outlives the server
  std::unique_ptr<RecentRetractions> retractions;
  std::unique_ptr<DashboardApi> api;      // before `http`: outlives the server
  std::unique_ptr<HttpServer> http;
  // [metrics] listen set: /metrics on its own plain-HTTP listener.
  std::unique_ptr<HttpServer> metrics_http;
  // Set once setup() has built every subsystem /metrics reads (the HTTP servers start
  // before them).
  std::atomic<bool> ready{false};

  SteadyClock::time_point started = SteadyClock::now();
  std::int64_t started_unix = unix_now();
  std::uint64_t pushed_seq = 0;  // own records already pushed
  bool pushing = false, push_again = false;
  bool stopping = false;

  Impl(const NodeHome& h, NodeRunOptions o) : home(h), config(h.config()), options(std::move(o)) {}

  std::int64_t now_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started).count() + 1;
  }

  // --- set-up --------------------------------------------------------------------------------

  Status open_logs() {
    std::error_code ec;
    std::filesystem::create_directories(home.log_dir(), ec);
    std::vector<spdlog::sink_ptr> sinks;
    try {
      if (options.log_to_stderr) sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
      sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>((home.log_dir() / "node.log").string()));
    } catch (const spdlog::spdlog_ex& e) {
      return make_error(Errc::io, "log_file", std::string("cannot open the log: ") + e.what());
    }
    log = std::make_shared<spdlog::logger>("fedswarm", sinks.begin(), sinks.end());
    auto level = spdlog::level::from_str(options.log_level);
    if (level == spdlog::level::off && options.log_level != "off")
      return make_error(Errc::invalid, "bad_log_level", "log level '" + options.log_level +
                                                            "' is not one of trace, debug, info, warn, error, off");
    log->set_level(level);
    log->flush_on(spdlog::level::info);
    log->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ " + config.site + " %v");
    return {};
  }

  Status setup() {
    FEDSWARM_TRY(open_logs());
    FEDSWARM_ASSIGN_OR_RETURN(lock, HomeLock::take(home.dir()));
    FEDSWARM_ASSIGN_OR_RETURN(catalog, home.open_catalog(false));
    self = home.key().public_key();
    retractions = std::make_unique<RecentRetractions>(*catalog);
    FEDSWARM_TRY(start_http());

    CatalogGossipStoreOptions so;
    so.verify_threads = config.verify_threads;
    so.post = [this](std::function<void()> f) { asio::post(io, std::move(f)); };
    store = std::make_unique<CatalogGossipStore>(*catalog, so);
    if (auto it = store->committed().find(self); it != store->committed().end()) pushed_seq = it->second;

    PeerLink::Settings ls;
    ls.handshake_timeout_ms = config.handshake_timeout_ms;
    ls.idle_timeout_ms = config.down_after_ms;
    LinkTable::Callbacks lc;
    lc.admit = [this](const PeerId& k) { return node && node->admit(k); };
    lc.established = [this](const PeerId& peer) {
      log->info("link up: {} ({})", name_of(peer), links->address_of(peer));
      node->link_up(peer);
    };
    lc.message = [this](const PeerId& peer, GossipMessage&& m, std::size_t bytes) {
      if (const auto* batch = std::get_if<RecordBatch>(&m.body))
        for (const auto& r : batch->records) retractions->note(r);
      node->on_message(peer, m, bytes);
    };
    lc.closed = [this](const PeerId& peer, const std::string& why, bool fault) {
      if (fault) log->warn("link to {} closed: {}", name_of(peer), why);
      else log->info("link to {} closed: {}", name_of(peer), why);
      node->link_down(peer, why, fault);
    };
    lc.dial_failed = [this](const PeerId& peer, const std::string& why) {
      log->debug("dial {} failed: {}", name_of(peer), why);
      node->dial_failed(peer, why);
    };
    lc.warn = [this](const std::string& what) { log->warn("{}", what); };
    links = std::make_unique<LinkTable>(io, home.key(), ls, lc);

    GossipNodeConfig gc;
    gc.gossip.fanout = config.gossip_fanout;
    gc.gossip.batch_bytes = config.gossip_batch_bytes;
    gc.membership.suspect_after_ms = config.suspect_after_ms;
    gc.membership.down_after_ms = config.down_after_ms;
    gc.membership.backoff_initial_ms = config.gossip_interval_ms;
    gc.membership.backoff_max_ms = config.backoff_max_ms;
    gc.seed = std::random_device{}();
    gc.now_ms = [this] { return now_ms(); };
    GossipNode::Callbacks nc;
    nc.heartbeat = [this] { return heartbeat(); };
    nc.state_changed = [this](const PeerId&, const PeerInfo&) { send_liveness(); };
    node = std::make_unique<GossipNode>(gc, self, *store, *links, nc);
    set_roster_from_catalog();

    store->set_on_stored([this](const std::vector<std::string>& touched, bool roster) {
      if (roster) adopt_roster();
      if (replication) replication->records_changed(touched, roster);
    });
    store->set_on_saturation([this](bool saturated) {
      if (saturated) log->info("catalog writer busy ({} records queued): reading from peers paused", store->queued_records());
      else log->info("catalog writer caught up ({} records queued): reading from peers again", store->queued_records());
      node->set_saturated(saturated);
    });

    FEDSWARM_TRY(links->listen(config.listen, "change [network] listen in " + (home.dir() / "config.toml").string() +
                                                  " (the roster must carry the same endpoint)"));
    ReplicationLoopOptions ro;
    ro.home = &home;
    ro.catalog = catalog.get();
    ro.swarm_ip = links->local_address().to_string();
    ro.log = log;
    ro.own_records = [this] { asio::post(io, [this] { push_own(); }); };
    FEDSWARM_ASSIGN_OR_RETURN(replication, ReplicationLoop::start(ro));
    FEDSWARM_ASSIGN_OR_RETURN(control, ControlServer::open(control_socket_path(home.dir()),
                                                           [this](const nlohmann::json& r) { return on_control(r); }));
    ready.store(true, std::memory_order_release);
    return {};
  }

  // The HTTP face ([http]): a self-signed certificate made if the home has none (homes
  // made before the HTTP face existed), the file server, the esg-search handler.
  Status start_http() {
    const HttpConfig& hc = config.http;
    HttpServer::Routes metrics_route{{"/metrics", [this](std::string_view, std::string_view) { return metrics(); }}};
    if (!config.metrics.listen.empty()) FEDSWARM_TRY(start_metrics_listener(metrics_route));
    if (!hc.enabled) return {};
    const std::string config_file = (home.dir() / "config.toml").string();
    if (hc.tls) {
      auto made = SelfSignedCertificate::ensure(hc);
      if (!made) return made.error().with_context("[http] in " + config_file);
      if (*made) log->info("created {}", SelfSignedCertificate::replace_hint(hc));
    }
    files = std::make_unique<FileServer>(
        *catalog, home.projects(), FileServerOptions{{home.staging_dir(), home.quarantine_dir()}, hc.serve_retracted});
    esg = std::make_unique<EsgSearchService>(
        *catalog, EsgSearchSite{self, config.site, config.tier, hc.url(), url_host(hc.url()), &home.projects()});
    HttpServer::Handler search = [s = esg.get()](std::string_view path, std::string_view query) {
      return path == "/esg-search/wget" ? s->wget(query) : s->search(query);
    };
    // The dashboard's API asks the control handler itself, on the HTTP worker threads.
    api = std::make_unique<DashboardApi>([this](const nlohmann::json& r) { return on_control(r); },
                                         [this](std::size_t limit) { return retractions->list(limit); });
    HttpServer::Handler dashboard = [this](std::string_view path, std::string_view query) {
      if (path == "/") return dashboard_page();
      if (!path.starts_with(DashboardApi::kPrefix))
        return DashboardApi::error_answer(404, "unknown_endpoint", "the API is under /api/v1/");
      if (!ready)
        return DashboardApi::error_answer(503, "node_starting", "the node is starting; try again in a moment");
      return api->answer(path, query);
    };
    auto server = HttpServer::start(HttpServerOptions::from(hc), std::move(search), files.get(),
                                    [this](const std::string& m) { log->warn("{}", m); }, std::move(dashboard),
                                    config.metrics.listen.empty() ? metrics_route : HttpServer::Routes{});
    if (!server) {
      if (server.error().reason == "http_listen")
        return make_error(server.error().code, server.error().reason,
                          server.error().message + "; change [http] listen in " + config_file +
                              " (or set [http] enabled = false)");
      return server.error().with_context(config_file);
    }
    http = std::move(*server);
    log->info("HTTP{} on {}, public URL {}", hc.tls ? "S" : "", http->local_address(), hc.url());
    return {};
  }

  // [metrics] listen: plain HTTP, /metrics only, one worker (a scrape every few seconds).
  Status start_metrics_listener(HttpServer::Routes routes) {
    HttpServerOptions o;
    o.listen = config.metrics.listen;
    o.tls = false;
    o.threads = 1;
    o.max_connections = 64;
    auto server = HttpServer::start(o, {}, nullptr, [this](const std::string& m) { log->warn("{}", m); }, {}, std::move(routes));
    if (!server)
      return make_error(server.error().code, server.error().reason,
                        server.error().message + "; change [metrics] listen in " + (home.dir() / "config.toml").string());
    metrics_http = std::move(*server);
    log->info("metrics on http://{}/metrics", metrics_http->local_address());
    return {};
  }

  // --- /metrics (HTTP worker threads) ----------------------------------------------------------

  // The io thread's part, taken there like the control server's `status`: counters and
  // membership only, O(peers × authors), never the catalog.
  NodeMetricsInputs metrics_io() const {
    NodeMetricsInputs in;
    in.roster_serial = store->roster_serial();
    const VersionVector vv = store->committed();
    in.authors = vv.size();
    for (const auto& [author, seq] : vv) in.records_known += seq;
    const GossipStats& g = node->stats();
    in.gossip = {g.rounds,           g.digests_sent,     g.digests_received, g.records_sent, g.records_received,
                 g.records_stored,   g.records_duplicate, g.records_parked,  g.bytes_sent,   g.bytes_received};
    in.punishments = g.punishments;
    in.records_refused = g.refused;
    in.links_refused = links->refusals();
    in.queued_records = store->queued_records();
    in.saturated = store->saturated();
    const auto ws = store->writer_stats();
    in.written_records = ws.records;
    in.write_groups = ws.groups;
    for (const auto& [key, info] : node->membership().peers()) {
      PeerMetrics p;
      p.site = info.member.site;
      p.state = std::string(to_string(info.state));
      p.connected = info.connected;
      if (auto it = node->peer_vectors().find(key); it != node->peer_vectors().end()) {
        p.behind = missing(vv, it->second);
        p.ahead = missing(it->second, vv);
      }
      const PeerTraffic t = links->traffic(key);
      p.link_bytes_sent = t.bytes_out;
      p.link_bytes_received = t.bytes_in;
      in.peers.push_back(std::move(p));
    }
    return in;
  }

  // The exposition: the io thread's snapshot, the replication loop's published view,
  // the catalog's O(1) stats, the HTTP counters and /proc/self. Blocks only this worker.
  HttpAnswer metrics() {
    if (!ready.load(std::memory_order_acquire)) return HttpAnswer::text(503, "the node is starting\n");
    auto snap = on_io([this] { return metrics_io(); });
    if (!snap) return HttpAnswer::text(503, snap.error().message + "\n");
    NodeMetricsInputs in = std::move(*snap);
    in.version = std::string(fedswarm_version());
    in.commit = options.source_commit.empty() ? "unknown" : options.source_commit;
    in.site = config.site;
    in.tier = config.tier;
    in.started_at = started_unix;
    in.replication = replication->view();
    if (auto st = catalog->stats()) in.catalog = *st;
    std::error_code ec;
    if (const auto sp = std::filesystem::space(config.data_root, ec); !ec) in.data_root_size = sp.capacity;
    if (http) in.http = http->stats();
    if (metrics_http) in.metrics_http = metrics_http->stats();
    in.process = read_process_metrics();
    return HttpAnswer{200, std::string(MetricsText::kContentType), render_node_metrics(in), {}};
  }

  // "https://host:port/path" -> "host" (an index_node / data_node name).
  static std::string url_host(std::string_view url) {
    if (auto p = url.find("://"); p != std::string_view::npos) url.remove_prefix(p + 3);
    url = url.substr(0, url.find('/'));
    if (!url.empty() && url.front() == '[') return std::string(url.substr(1, url.find(']') - 1));
    return std::string(url.substr(0, url.rfind(':') == std::string_view::npos ? url.size() : url.rfind(':')));
  }

  // --- roster and liveness (io thread) -------------------------------------------------------

  void set_roster_from_catalog() {
    auto roster = catalog->roster();
    if (!roster) return log->error("reading the roster: {}", roster.error().message);
    if (!*roster) {
      log->warn("no roster imported: this node admits no peer until `fedswarm federation import ROSTER` is run");
      return;
    }
    use_roster(**roster);
  }

  void adopt_roster() {
    if (auto r = store->take_roster()) use_roster(*r);
  }

  void use_roster(const Roster& roster) {
    if (!roster.member(self))
      log->warn("this node's key {} is not in roster serial {}: peers will refuse it", short_key(self), roster.serial);
    node->set_roster(roster);
    log->info("roster serial {} of {}: {} members", roster.serial, roster.federation, roster.members.size());
    send_liveness();
  }

  std::string name_of(const PeerId& key) const {
    const PeerInfo* info = node ? node->membership().peer(key) : nullptr;
    return info ? info->member.site : short_key(key);
  }

  // Members' liveness as the rule reads it: up and suspect count alive, since their
  // link or heartbeats last resumed after being down (up_since: a holder's copy is kept
  // over a surplus one only once it has been up for [policy] surplus_settle_seconds); a
  // down member went down `down_after_ms` after it was last heard from, or, never heard
  // from in this run, when this node started (the most it can vouch for).
  void send_liveness() {
    if (!replication || stopping) return;
    LivenessMap m;
    m[self] = MemberLiveness{};
    bool settled = now_ms() >= static_cast<std::int64_t>(config.down_after_ms);
    bool all_heard = true;
    std::vector<std::string> peers;
    for (const auto& [key, info] : node->membership().peers()) {
      MemberLiveness l;
      if (info.state == PeerState::down) {
        l.alive = false;
        const std::int64_t since_ms = info.last_seen_ms > 0 ? info.last_seen_ms + config.down_after_ms : 0;
        l.down_since = started_unix + since_ms / 1000;
      } else {
        l.up_since = started_unix + info.up_since_ms / 1000;
      }
      m[key] = l;
      if (info.last_seen_ms == 0) all_heard = false;
      // Private torrents have no peer exchange: fetchers of the same version must be
      // told about each other, not only about the holders, to swarm.
      if (auto ep = swarm_endpoint_of(info.member)) peers.push_back(std::move(*ep));
    }
    // A node catching up receives manifests long before the replica records that satisfy
    // them (each author's log arrives in its own order): judged then, thousands of
    // compliant versions look violating and it would sign claims and declines for all of
    // them. It acts once no live peer holds more than kCatchUpSlack records it lacks.
    std::uint64_t behind = 0;
    const VersionVector& vv = store->committed();
    for (const auto& [key, pv] : node->peer_vectors()) {
      const PeerInfo* info = node->membership().peer(key);
      if (info && info->state != PeerState::down) behind = std::max(behind, missing(pv, vv));
    }
    replication->liveness(std::move(m), (settled || all_heard) && behind <= kCatchUpSlack, std::move(peers));
  }

  Heartbeat heartbeat() const {
    Heartbeat hb;
    hb.software_version = "fedswarm/" + std::string(fedswarm_version());
    hb.uptime_s = static_cast<std::uint64_t>(now_ms() / 1000);
    hb.roster_serial = store->roster_serial();
    for (const auto& [author, seq] : store->committed()) hb.records_known += seq;
    hb.free_capacity = config.capacity;
    if (hb.free_capacity == 0 && replication) hb.free_capacity = replication->view()->data_root_free.value_or(0);
    return hb;
  }

  // This node's records not yet pushed (by the CLI, the Tier-1 duty, placement): read
  // off the io thread, then pushed to a few live peers.
  void push_own() {
    if (stopping) return;
    if (pushing) {
      push_again = true;
      return;
    }
    pushing = true;
    store->refresh([this] {
      adopt_roster();
      std::vector<GossipStore::Range> ranges{{self, pushed_seq, UINT64_MAX}};
      store->read(std::move(ranges), 10000, config.gossip_batch_bytes, [this](std::vector<Envelope> records) {
        pushing = false;
        for (const auto& r : records) retractions->note(r);
        if (!records.empty() && records.back().seq > pushed_seq) {
          pushed_seq = records.back().seq;
          node->push(records);
          log->info("pushed {} new local record(s) (seq up to {})", records.size(), pushed_seq);
        }
        if (std::exchange(push_again, false)) push_own();
      });
    });
  }

  void schedule_round() {
    round_timer.expires_after(std::chrono::milliseconds(config.gossip_interval_ms));
    round_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      node->round();
      send_liveness();
      push_own();
      schedule_round();
    });
  }

  // --- control (control threads) --------------------------------------------------------------

  // Runs `f` on the io thread and waits for its answer.
  template <class F>
  auto on_io(F f) -> Result<decltype(f())> {
    using T = decltype(f());
    auto p = std::make_shared<std::promise<T>>();
    auto fut = p->get_future();
    asio::post(io, [p, f = std::move(f)]() mutable { p->set_value(f()); });
    if (fut.wait_for(kControlWait) != std::future_status::ready)
      return make_error(Errc::unavailable, "node_busy", "the node's io thread did not answer in time; try again");
    return fut.get();
  }

  StatusAnswer status_io() const {
    StatusAnswer s;
    s.node_key = self;
    s.site = config.site;
    s.tier = config.tier;
    s.listen = config.listen;
    s.started_at = started_unix;
    s.uptime_s = now_ms() / 1000;
    s.roster_serial = store->roster_serial();
    const VersionVector vv = store->committed();
    s.authors = vv.size();
    for (const auto& [author, seq] : vv) s.records += seq;
    for (const auto& [key, info] : node->membership().peers()) {
      switch (info.state) {
        case PeerState::up: ++s.peers_up; break;
        case PeerState::suspect: ++s.peers_suspect; break;
        case PeerState::down: ++s.peers_down; break;
      }
      LagRow l{info.member.site, key, std::nullopt, std::nullopt};
      if (auto it = node->peer_vectors().find(key); it != node->peer_vectors().end()) {
        l.behind = missing(vv, it->second);
        l.ahead = missing(it->second, vv);
      }
      s.lag.push_back(std::move(l));
    }
    for (const auto& [reason, n] : links->refusals()) s.refused[reason] += n;
    for (const auto& [reason, n] : node->stats().refused) s.refused[reason] += n;
    const GossipStats& g = node->stats();
    s.gossip = {g.rounds,           g.digests_sent,     g.digests_received, g.records_sent, g.records_received,
                g.records_stored,   g.records_duplicate, g.records_parked,  g.bytes_sent,   g.bytes_received};
    s.pipeline.queued_records = store->queued_records();
    s.pipeline.saturated = store->saturated();
    const auto ws = store->writer_stats();
    s.pipeline.written_records = ws.records;
    s.pipeline.write_groups = ws.groups;
    return s;
  }

  PeersAnswer peers_io() const {
    PeersAnswer a;
    const std::int64_t now = now_ms();
    const VersionVector vv = store->committed();
    const GossipStats& g = node->stats();
    for (const auto& [key, i] : node->membership().peers()) {
      PeerRow p;
      p.key = key;
      p.site = i.member.site;
      p.tier = i.member.tier;
      p.address = links->address_of(key);
      if (p.address.empty() && !i.member.endpoints.empty()) p.address = i.member.endpoints.front();
      p.state = std::string(to_string(i.state));
      p.connected = i.connected;
      if (i.last_seen_ms) p.last_seen_ms_ago = now - i.last_seen_ms;
      if (auto it = g.sent_to.find(key); it != g.sent_to.end()) p.records_sent = it->second;
      if (auto it = g.received_from.find(key); it != g.received_from.end()) p.records_received = it->second;
      const PeerTraffic t = links->traffic(key);
      p.bytes_sent = t.bytes_out;
      p.bytes_received = t.bytes_in;
      p.backoff_ms = i.backoff_ms;
      p.failures = i.failures;
      p.next_dial_in_ms = !i.connected && i.next_dial_ms > now ? i.next_dial_ms - now : 0;
      p.last_error = i.last_error;
      if (auto it = node->peer_vectors().find(key); it != node->peer_vectors().end()) {
        p.behind = missing(vv, it->second);
        p.ahead = missing(it->second, vv);
      }
      p.heartbeat = i.heartbeat;
      a.peers.push_back(std::move(p));
    }
    return a;
  }

  Result<StatusAnswer> status() {
    FEDSWARM_ASSIGN_OR_RETURN(StatusAnswer s, on_io([this] { return status_io(); }));
    const auto v = replication->fresh_view();
    if (v->has_swarm) {
      const SwarmTotals& t = v->totals;
      s.swarm = SwarmStatus{v->swarm_listen, v->fetching,       v->seeding,         v->paused,
                            t.placed,        t.banned_peers,    t.held,             t.loaded,
                            t.on_demand_loads, t.full_checks,   t.foreign_refused,  t.foreign_served,
                            t.foreign_dials_refused};
      // A foreign address at the swarm port is refused like a bad record: health lists it.
      if (t.foreign_refused > 0) s.refused["swarm_foreign_peer"] = t.foreign_refused;
    }
    s.subscriptions = v->subscriptions;
    s.capacity = v->capacity;
    s.pipeline.rule_rebuilding = v->rule_rebuilding;
    s.pipeline.rule_judged = v->rule_judged;
    s.pipeline.rule_versions = v->rule_versions;
    s.pipeline.rule_rounds = v->rule_rounds;
    s.pipeline.rule_round_ms_p50 = v->rule_round_ms_p50;
    s.pipeline.rule_round_ms_p99 = v->rule_round_ms_p99;
    s.pipeline.rule_round_ms_max = v->rule_round_ms_max;
    s.pipeline.rule_round_last_ms = v->rule_round_last_ms;
    s.pipeline.rule_round_last_judged = v->rule_round_last_judged;
    return s;
  }

  // Every transfer, or (paged) the page [offset, offset + limit) of them, fetches first.
  TransfersAnswer transfers(const ControlRequest* page = nullptr) {
    const auto v = replication->fresh_view();
    TransfersAnswer a;
    if (page && page->paged) {
      std::vector<const TransferRow*> rows;
      rows.reserve(v->transfers.size());
      for (const auto& t : v->transfers) rows.push_back(&t);
      std::stable_partition(rows.begin(), rows.end(), [](const TransferRow* t) { return t->kind == "fetch"; });
      a.total = rows.size();
      const std::uint64_t first = std::min<std::uint64_t>(page->offset, rows.size());
      const std::uint64_t last = std::min<std::uint64_t>(rows.size(), first + page->limit);
      for (std::uint64_t i = first; i < last; ++i) a.transfers.push_back(*rows[i]);
    } else {
      a.transfers = v->transfers;
    }
    if (v->has_swarm) {
      a.counters = v->totals;
      a.swarm_listen = v->swarm_listen;
    }
    return a;
  }

  Result<HealthReport> health() {
    FEDSWARM_ASSIGN_OR_RETURN(StatusAnswer s, status());
    FEDSWARM_ASSIGN_OR_RETURN(PeersAnswer p, on_io([this] { return peers_io(); }));
    const TransfersAnswer t = transfers();
    const auto v = replication->view();
    HealthInputs in;
    in.now = unix_now();
    in.local_key = self;
    in.local_site = config.site;
    in.live = HealthLive::from(s, &p, &t);
    in.compliance.config = config.tier_one;
    return health_report(*catalog, in, v->compliance, v->committed);
  }

  template <class T>
  Result<T> wait_for(std::future<Result<T>>& f) {
    if (f.wait_for(kControlWait * 6) != std::future_status::ready)
      return make_error(Errc::unavailable, "node_busy", "the node's replication loop did not answer in time; try again");
    return f.get();
  }

  nlohmann::json on_control(const nlohmann::json& j) {
    auto request = ControlRequest::from_json(j);
    if (!request) return control_error_json(request.error());
    auto answer = [](const auto& r) -> nlohmann::json { return r ? r->to_json() : control_error_json(r.error()); };
    switch (request->cmd) {
      case ControlCommand::status: return answer(status());
      case ControlCommand::peers: return answer(on_io([this] { return peers_io(); }));
      case ControlCommand::transfers: return transfers(&*request).to_json();
      case ControlCommand::health: return answer(health());
      case ControlCommand::compliance: {
        auto p = std::make_shared<std::promise<Result<ComplianceReport>>>();
        auto f = p->get_future();
        replication->compliance(request->status_filter, request->offset, request->limit,
                                [p](Result<ComplianceReport> r) { p->set_value(std::move(r)); });
        return answer(wait_for(f));
      }
      case ControlCommand::notify: {
        // A CLI command changed the catalog or the subscriptions: a new roster for the
        // links, its records pushed, the replication loop's turn.
        asio::post(io, [this] { push_own(); });
        auto p = std::make_shared<std::promise<Result<Ack>>>();
        auto f = p->get_future();
        replication->notify([p] { p->set_value(Ack{}); });
        return answer(wait_for(f));
      }
      case ControlCommand::resume: {
        auto p = std::make_shared<std::promise<Result<Ack>>>();
        auto f = p->get_future();
        replication->resume(request->instance_id, [p](Status st) {
          p->set_value(st ? Result<Ack>(Ack{}) : Result<Ack>(st.error()));
        });
        return answer(wait_for(f));
      }
    }
    return control_error_json(make_error(Errc::invalid, "unknown_command", "unknown control command"));
  }

  // --- shutdown ------------------------------------------------------------------------------

  // HTTP and control first (control requests wait on the others), then the replication loop (saves
  // resume data), then gossip and links; the catalog writer answers what it still holds.
  void shutdown() {
    if (stopping) return;
    stopping = true;
    log->info("stopping");
    boost::system::error_code ec;
    round_timer.cancel();
    signals.cancel(ec);
    std::thread([this] {
      if (http) http->stop();
      if (metrics_http) metrics_http->stop();
      if (control) control->close();
      if (replication)
        if (auto st = replication->stop(); !st) log->error("swarm stop: {}", st.error().message);
      asio::post(io, [this] {
        links->close_all(make_error(Errc::unavailable, "shutdown", "node stopping"));
        store->stop();
        io.stop();
      });
    }).detach();
  }
};

NodeDaemon::NodeDaemon() = default;

NodeDaemon::~NodeDaemon() {
  if (!impl_) return;
  // Threads first, while everything they use still exists.
  if (impl_->http) impl_->http->stop();
  if (impl_->metrics_http) impl_->metrics_http->stop();
  if (impl_->control) impl_->control->close();
  if (impl_->replication) (void)impl_->replication->stop();
  if (impl_->store) impl_->store->stop();
}

Result<std::unique_ptr<NodeDaemon>> NodeDaemon::create(const NodeHome& home, NodeRunOptions options) {
  std::unique_ptr<NodeDaemon> d(new NodeDaemon());
  d->impl_ = std::make_unique<Impl>(home, std::move(options));
  FEDSWARM_TRY(d->impl_->setup());
  return d;
}

int NodeDaemon::run() {
  Impl& m = *impl_;
  m.signals.async_wait([&m](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    m.log->info("signal {} received", sig);
    m.shutdown();
  });
  m.log->info("node {} ({}) key {} listening on {}, control socket {}", m.config.site, to_string(m.config.tier),
              to_hex(m.self), m.config.listen, control_socket_path(m.home.dir()).string());
  m.node->round();
  m.send_liveness();
  m.push_own();
  m.schedule_round();
  m.io.run();
  m.log->info("stopped");
  m.log->flush();
  return 0;
}

void NodeDaemon::stop() {
  asio::post(impl_->io, [m = impl_.get()] { m->shutdown(); });
}

}  // namespace fedswarm
