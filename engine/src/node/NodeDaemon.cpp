#include "fedswarm/engine/NodeDaemon.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstring>
#include <random>
#include <set>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "control/ControlServer.hpp"
#include "control/NodeReport.hpp"
#include "links/PeerLink.hpp"
#include "gossip/CatalogGossipStore.hpp"
#include "fedswarm/engine/ComplianceReport.hpp"
#include "fedswarm/engine/ControlClient.hpp"
#include "gossip/Gossip.hpp"
#include "fedswarm/engine/HealthReport.hpp"
#include "gossip/Membership.hpp"
#include "replication/RetractionActions.hpp"
#include "replication/SubscriptionPlanner.hpp"
#include "fedswarm/engine/SubscriptionStore.hpp"
#include "swarm/SwarmEngine.hpp"
#include "replication/TierOneDuty.hpp"

namespace fedswarm {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr const char* kSoftwareVersion = "fedswarm/0.1.0";
// Handshakes in progress at once; more connections are closed on accept so a flood of
// sockets cannot exhaust descriptors or memory.
constexpr std::size_t kMaxPendingLinks = 64;
// A change of the records is evaluated by the Tier-1 duty this long after it is seen, so
// a burst of gossip batches costs one evaluation.
constexpr std::chrono::milliseconds kTierOneDebounce{250};

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// "host:port" -> (host, port); IPv6 literals may be bracketed.
std::optional<std::pair<std::string, std::string>> split_host_port(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return std::nullopt;
  std::string host = s.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return std::make_pair(host, s.substr(colon + 1));
}

// Holds `<home>/node.lock` (flock) for the daemon's lifetime.
class HomeLock {
 public:
  static Result<std::unique_ptr<HomeLock>> take(const std::filesystem::path& home) {
    auto path = home / "node.lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return make_error(Errc::io, "node_lock", "cannot open " + path.string() + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      char buf[32] = {};
      ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
      ::close(fd);
      std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "?";
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
      return make_error(Errc::conflict, "node_running",
                        "a node is already running in " + home.string() + " (pid " + pid +
                            "); stop it first, or use another --home");
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) { /* the pid is informational */ }
    return std::unique_ptr<HomeLock>(new HomeLock(fd));
  }
  ~HomeLock() { ::close(fd_); }

 private:
  explicit HomeLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace

struct NodeDaemon::Impl : GossipNet {
  const NodeHome& home;
  const Config& config;
  NodeRunOptions options;
  std::shared_ptr<spdlog::logger> log;
  std::unique_ptr<HomeLock> lock;
  std::unique_ptr<Catalog> catalog;
  std::unique_ptr<CatalogGossipStore> store;
  std::unique_ptr<Gossip> gossip;
  std::unique_ptr<Membership> membership;
  std::unique_ptr<SwarmEngine> swarm;
  std::unique_ptr<RetractionActions> retractions;
  std::unique_ptr<TierOneDuty> duty;  // Tier-1 nodes only
  std::vector<Subscription> subscriptions;
  std::set<std::string> subscribed;  // instance ids the subscriptions want (last plan)
  std::uint64_t stored_seen = 0;   // gossip records_stored at the last plan
  bool plan_due = true;            // subscriptions, retractions or the catalog changed
  bool poll_posted = false;

  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::ip::address local_address;
  asio::signal_set signals{io, SIGINT, SIGTERM};
  asio::steady_timer round_timer{io};
  asio::steady_timer swarm_timer{io};
  asio::steady_timer tier_one_timer{io};
  SteadyClock::time_point tier_one_at = SteadyClock::time_point::max();
  std::uint64_t tier_one_stored_seen = 0;  // gossip records_stored at the last evaluation request
  std::set<std::string> tier_one_errors;  // last evaluation's, logged once while they repeat
  tcp::resolver resolver{io};
  std::unique_ptr<ControlServer> control;

  PeerId self;
  SteadyClock::time_point started = SteadyClock::now();
  std::int64_t started_unix = unix_now();
  std::uint64_t roster_serial = 0;
  std::uint64_t pushed_seq = 0;  // own records already pushed
  bool stopping = false;

  // Established links by peer key; links still in the handshake.
  std::map<PeerId, std::shared_ptr<PeerLink>> links;
  std::set<std::shared_ptr<PeerLink>> pending;
  std::map<PeerId, PeerTraffic> traffic;        // per peer, across links
  std::map<PeerId, VersionVector> peer_vectors;  // from their last digest
  std::map<std::string, std::uint64_t> link_refusals;

  Impl(const NodeHome& h, NodeRunOptions o) : home(h), config(h.config()), options(std::move(o)) {}
  // The engine goes first: its threads may still post wake-ups to `io` while it stops.
  // The duty uses the engine, so it goes before.
  ~Impl() {
    duty.reset();
    swarm.reset();
  }

  std::int64_t now_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started).count() + 1;
  }

  // --- set-up --------------------------------------------------------------------------

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

  Status open_listener() {
    auto hp = split_host_port(config.listen);
    if (!hp) return make_error(Errc::invalid, "bad_listen", "[network] listen = \"" + config.listen + "\" is not host:port");
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(hp->first, ec);
    if (ec)
      return make_error(Errc::invalid, "bad_listen", "[network] listen needs an IP address, not '" + hp->first + "'");
    unsigned long port = 0;
    try {
      port = std::stoul(hp->second);
    } catch (...) {
      port = 70000;
    }
    if (port == 0 || port > 65535)
      return make_error(Errc::invalid, "bad_listen", "[network] listen port '" + hp->second + "' is not 1..65535");
    tcp::endpoint ep(addr, static_cast<unsigned short>(port));
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(128, ec);
    if (ec)
      return make_error(Errc::io, "listen_failed",
                        "cannot listen on " + config.listen + ": " + ec.message() +
                            "; change [network] listen in " + (home.dir() / "config.toml").string() +
                            " (the roster must carry the same endpoint)");
    local_address = addr;
    return {};
  }

  Status setup() {
    FEDSWARM_TRY(open_logs());
    FEDSWARM_ASSIGN_OR_RETURN(lock, HomeLock::take(home.dir()));
    FEDSWARM_ASSIGN_OR_RETURN(catalog, home.open_catalog(false));
    self = home.key().public_key();
    CatalogGossipStoreOptions so;
    so.verify_threads = config.verify_threads;
    store = std::make_unique<CatalogGossipStore>(*catalog, so);
    GossipConfig gc;
    gc.fanout = config.gossip_fanout;
    gc.batch_bytes = config.gossip_batch_bytes;
    gossip = std::make_unique<Gossip>(gc, *store, *this, std::random_device{}());
    MembershipConfig mc;
    mc.suspect_after_ms = config.suspect_after_ms;
    mc.down_after_ms = config.down_after_ms;
    mc.backoff_initial_ms = config.gossip_interval_ms;
    mc.backoff_max_ms = config.backoff_max_ms;
    membership = std::make_unique<Membership>(mc, self);
    FEDSWARM_TRY(refresh_roster());
    FEDSWARM_TRY(open_listener());
    FEDSWARM_TRY(open_swarm());
    FEDSWARM_ASSIGN_OR_RETURN(control, ControlServer::open(io, control_socket_path(home.dir()),
                                                           [this](const nlohmann::json& r) { return on_control(r); }));
    auto vv = catalog->version_vector();
    if (vv)
      if (auto it = vv->find(self); it != vv->end()) pushed_seq = it->second;
    return {};
  }

  Status open_swarm() {
    std::error_code ec;
    std::filesystem::create_directories(config.data_root, ec);
    if (ec)
      return make_error(Errc::io, "data_root", "cannot create the data root " + config.data_root.string() + ": " +
                                                   ec.message() + "; fix [node] data_root in config.toml");
    SwarmEngineOptions so;
    so.listen_ip = local_address.to_string();
    so.port = config.swarm_port;
    so.data_root = config.data_root;
    so.catalog = catalog.get();
    so.key = &home.key();
    so.projects = &home.projects();
    so.upload_rate_limit = config.upload_rate_limit;
    so.download_rate_limit = config.download_rate_limit;
    // A first start has no clean-stop marker either; only staged data makes it matter.
    const auto staging = config.data_root / ".staging";
    bool staged = false;
    for (const auto& e : std::filesystem::directory_iterator(staging, ec))
      if (e.path().filename() != ".clean") staged = true;
    FEDSWARM_ASSIGN_OR_RETURN(swarm, SwarmEngine::start(std::move(so)));
    swarm->set_wakeup([this] {
      // From libtorrent's or the worker's thread: only post.
      asio::post(io, [this] { poll_swarm(); });
    });
    retractions = std::make_unique<RetractionActions>(home, *catalog);
    if (!swarm->clean_start() && staged)
      log->warn("the previous run did not stop cleanly: staged pieces are re-checked before they are trusted");
    FEDSWARM_TRY(load_subscriptions());
    apply_retractions();
    auto restored = swarm->restore();
    if (!restored) return std::move(restored).error();
    for (const auto& e : restored->errors) log->warn("not resumed: {}", e.message);
    log->info("swarm on {}: seeding {}, fetching {}", swarm->listen_endpoint(), restored->seeding, restored->fetching);
    if (config.tier == Tier::tier1) {
      TierOneDutyOptions to;
      to.config = config.tier_one;
      to.catalog = catalog.get();
      to.key = &home.key();
      to.swarm = swarm.get();
      to.data_root = config.data_root;
      to.configured_capacity = config.capacity;
      duty = std::make_unique<TierOneDuty>(std::move(to));
    }
    return {};
  }

  Status load_subscriptions() {
    FEDSWARM_ASSIGN_OR_RETURN(auto store, SubscriptionStore::load(home.dir(), home.projects()));
    subscriptions = store.subscriptions();
    plan_due = true;
    return {};
  }

  // Every roster member's swarm endpoint (its gossip host and swarm port), but ours.
  // Private torrents have no peer exchange: fetchers of the same version must be told
  // about each other, not only about the holders, to swarm.
  std::vector<std::string> swarm_peers() const {
    std::vector<std::string> out;
    for (const auto& [key, info] : membership->peers()) {
      if (key == self || info.member.endpoints.empty() || info.member.swarm_port == 0) continue;
      auto hp = split_host_port(info.member.endpoints.front());
      if (!hp) continue;
      std::string host = hp->first.find(':') != std::string::npos ? "[" + hp->first + "]" : hp->first;
      out.push_back(host + ":" + std::to_string(info.member.swarm_port));
    }
    return out;
  }

  // Retracted versions stop being offered or fetched, then the configured action runs.
  void apply_retractions() {
    auto locals = catalog->locals();
    if (!locals) return log->error("reading local replicas: {}", locals.error().message);
    for (const auto& l : *locals) {
      auto decision = retractions->decide(l.instance_id);
      if (decision && *decision && (*decision)->stop_offering && swarm) (void)swarm->remove(l.instance_id);
    }
    auto done = retractions->apply_all(unix_now());
    if (!done) return log->error("applying retractions: {}", done.error().message);
    for (const auto& o : *done) log->info("retracted {}: {}", o.instance_id, o.why);
  }

  // What the subscriptions want and is not held: fetch it from the swarm.
  void plan_fetches() {
    plan_due = false;
    apply_retractions();
    if (subscriptions.empty()) {
      subscribed.clear();
      return;
    }
    auto plan = plan_from_catalog(*catalog, subscriptions);
    if (!plan) return log->error("subscription plan: {}", plan.error().message);
    FetchOptions fo;
    fo.peers = swarm_peers();
    subscribed.clear();
    for (const auto& v : plan->wanted) subscribed.insert(v.instance_id);
    for (const auto& v : plan->wanted) {
      if (v.held) continue;
      auto m = catalog->manifest(v.instance_id);
      if (!m) {
        log->warn("cannot fetch {}: {}", v.instance_id, m.error().message);
        continue;
      }
      if (auto st = swarm->fetch(*m, fo); !st) log->warn("cannot fetch {}: {}", v.instance_id, st.error().message);
    }
  }

  void poll_swarm() {
    if (!swarm || stopping) return;
    for (const auto& e : swarm->poll()) {
      switch (e.type) {
        case SwarmEvent::Type::placed:
          log->info("placed {} at {} (replica record {})", e.instance_id, e.detail, e.record_seq);
          break;
        case SwarmEvent::Type::peer_banned:
          log->warn("banned swarm peer {} (corrupt data for {})", e.detail, e.instance_id);
          break;
        default:
          log->warn("{} {}: {}", to_string(e.type), e.instance_id, e.detail);
      }
      if (e.type == SwarmEvent::Type::placed) {
        push_own_records();
        if (duty) {
          duty->on_placed(e.instance_id);
          tier_one_soon();
        }
      }
    }
  }

  void schedule_swarm_poll() {
    swarm_timer.expires_after(std::chrono::milliseconds(250));
    swarm_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      poll_swarm();
      schedule_swarm_poll();
    });
  }

  Status refresh_roster() {
    FEDSWARM_ASSIGN_OR_RETURN(auto roster, catalog->roster());
    if (!roster) {
      if (roster_serial == 0 && log)
        log->warn("no roster imported: this node admits no peer until `fedswarm federation import ROSTER` is run");
      return {};
    }
    if (roster->serial == roster_serial) return {};
    if (!roster->member(self))
      log->warn("this node's key {} is not in roster serial {}: peers will refuse it", short_key(self), roster->serial);
    roster_serial = roster->serial;
    membership->set_roster(*roster);
    log->info("roster serial {} of {}: {} members", roster->serial, roster->federation, roster->members.size());
    // Links to keys the new roster dropped end now.
    std::vector<PeerId> gone;
    for (const auto& [key, link] : links)
      if (!membership->admit(key)) gone.push_back(key);
    for (const auto& key : gone)
      links[key]->close(make_error(Errc::unauthorized, "removed_from_roster", "peer is not in the new roster"), false);
    return {};
  }

  // --- links ---------------------------------------------------------------------------

  PeerLink::Settings link_settings() const {
    PeerLink::Settings s;
    s.handshake_timeout_ms = config.handshake_timeout_ms;
    s.idle_timeout_ms = config.down_after_ms;
    return s;
  }

  PeerLink::Callbacks link_callbacks() {
    PeerLink::Callbacks cb;
    cb.established = [this](PeerLink& l) { on_established(l); };
    cb.message = [this](PeerLink& l, GossipMessage&& m, std::size_t bytes) { on_link_message(l, std::move(m), bytes); };
    cb.closed = [this](PeerLink& l, const Error& e, bool fault) { on_closed(l, e, fault); };
    return cb;
  }

  Handshake::Admit admit() {
    return [this](const PublicKey& k) { return membership->admit(k); };
  }

  void accept() {
    acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (stopping) return;
      if (!ec) {
        if (pending.size() >= kMaxPendingLinks) {
          ++link_refusals["too_many_pending"];
          boost::system::error_code ignore;
          socket.close(ignore);
        } else {
          auto link = PeerLink::create(std::move(socket), PeerLink::Role::responder, home.key(), std::nullopt, admit(),
                                       link_settings(), link_callbacks());
          pending.insert(link);
          link->start();
        }
      } else {
        log->warn("accept failed: {}", ec.message());
      }
      accept();
    });
  }

  void dial(const PeerId& peer) {
    const PeerInfo* info = membership->peer(peer);
    if (!info || info->member.endpoints.empty()) return;
    membership->dialing(peer, now_ms());
    auto hp = split_host_port(info->member.endpoints.front());
    if (!hp) {
      membership->disconnected(peer, now_ms(), "bad endpoint " + info->member.endpoints.front(), true);
      return;
    }
    resolver.async_resolve(hp->first, hp->second, [this, peer](const boost::system::error_code& ec, tcp::resolver::results_type results) {
      if (stopping) return;
      if (ec) return dial_failed(peer, "resolve: " + ec.message());
      auto socket = std::make_shared<tcp::socket>(io);
      boost::system::error_code bec;
      // Dial from the listen address, so peers (and libtorrent later) see one IP per node.
      socket->open(results.begin()->endpoint().protocol(), bec);
      if (!bec && !local_address.is_unspecified()) socket->bind(tcp::endpoint(local_address, 0), bec);
      if (bec) return dial_failed(peer, "bind: " + bec.message());
      auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(config.handshake_timeout_ms));
      timer->async_wait([socket](const boost::system::error_code& e) {
        if (!e) socket->cancel();
      });
      // The single-endpoint connect: the range form reopens the socket per attempt,
      // which would drop the bind above.
      socket->async_connect(results.begin()->endpoint(), [this, peer, socket, timer](const boost::system::error_code& e) {
        timer->cancel();
        if (stopping) return;
        if (e) return dial_failed(peer, "connect: " + e.message());
        if (links.count(peer)) return;  // the peer dialled us meanwhile
        auto link = PeerLink::create(std::move(*socket), PeerLink::Role::initiator, home.key(), peer, admit(),
                                     link_settings(), link_callbacks());
        pending.insert(link);
        link->start();
      });
    });
  }

  void dial_failed(const PeerId& peer, const std::string& why) {
    membership->disconnected(peer, now_ms(), why, true);
    const PeerInfo* info = membership->peer(peer);
    log->debug("dial {} failed: {} (retry in {} ms)", info ? info->member.site : short_key(peer), why,
               info ? info->backoff_ms : 0);
  }

  std::string name_of(const PeerId& key) const {
    const PeerInfo* info = membership->peer(key);
    return info ? info->member.site : short_key(key);
  }

  std::shared_ptr<PeerLink> take_pending(PeerLink& l) {
    for (auto it = pending.begin(); it != pending.end(); ++it)
      if (it->get() == &l) {
        auto sp = *it;
        pending.erase(it);
        return sp;
      }
    return nullptr;
  }

  // Crossed dials give two links to one peer; both sides keep the one dialled by the
  // smaller key, so they agree without talking.
  static PublicKey initiator_of(const PeerLink& l, const PeerId& self) {
    return l.role() == PeerLink::Role::initiator ? self : *l.peer_key();
  }

  void on_established(PeerLink& l) {
    auto link = take_pending(l);
    if (!link) return;
    const PeerId peer = *l.peer_key();
    if (auto it = links.find(peer); it != links.end()) {
      bool keep_new = initiator_of(l, self) < initiator_of(*it->second, self);
      auto loser = keep_new ? it->second : link;
      if (keep_new) it->second = link;
      else pending.insert(link);  // closed below; on_closed looks for it there
      loser->close(make_error(Errc::conflict, "duplicate_link", "a second link to the same peer"), false);
      if (!keep_new) return;
    } else {
      links.emplace(peer, link);
    }
    membership->connected(peer, now_ms());
    log->info("link up: {} ({}, {})", name_of(peer), l.remote(), l.role() == PeerLink::Role::initiator ? "dialled" : "accepted");
    l.send(GossipMessage{heartbeat()});
  }

  void on_link_message(PeerLink& l, GossipMessage&& m, std::size_t bytes) {
    const PeerId peer = *l.peer_key();
    auto it = links.find(peer);
    if (it == links.end() || it->second.get() != &l) return;  // a losing duplicate
    membership->heard_from(peer, now_ms());
    if (auto* hb = std::get_if<Heartbeat>(&m.body)) {
      membership->on_heartbeat(peer, *hb, now_ms());
      return;
    }
    if (auto* d = std::get_if<Digest>(&m.body)) {
      VersionVector vv;
      for (const auto& e : d->entries) vv[e.author] = e.seq;
      peer_vectors[peer] = std::move(vv);
    }
    const bool batch = std::holds_alternative<RecordBatch>(m.body);
    gossip->on_message(peer, m, bytes);
    if (batch) {
      // A batch may carry a newer roster (membership) or records by this node from a
      // previous life of its home (nothing to push again).
      if (auto st = refresh_roster(); !st) log->error("reading the roster: {}", st.error().message);
    }
  }

  void on_closed(PeerLink& l, const Error& e, bool fault) {
    auto key = l.peer_key();
    auto account = [&](const PeerId& k) {
      auto& t = traffic[k];
      t.bytes_in += l.counters().bytes_in;
      t.bytes_out += l.counters().bytes_out;
    };
    if (auto sp = take_pending(l)) {
      // Ended before or during the handshake.
      if (fault) ++link_refusals[e.reason];
      if (l.role() == PeerLink::Role::initiator && l.expected_key() && !stopping) {
        if (e.reason != "duplicate_link") membership->disconnected(*l.expected_key(), now_ms(), e.message, true);
      }
      if (fault) log->warn("refused {} ({}): {}", key ? name_of(*key) : std::string("unknown peer"), l.remote(), e.message);
      return;
    }
    if (!key) return;
    auto it = links.find(*key);
    if (it == links.end() || it->second.get() != &l) return;
    account(*key);
    links.erase(it);
    forget_later(*key);
    if (fault) ++link_refusals[e.reason];
    if (!stopping) membership->disconnected(*key, now_ms(), e.message, fault);
    if (fault) log->warn("link to {} closed: {} [{}]", name_of(*key), e.message, e.reason);
    else log->info("link to {} closed: {}", name_of(*key), e.message);
  }

  // Gossip keeps per-peer send state; a new link starts clean. Posted, because a link
  // can end inside a Gossip call (punish), which must not be re-entered.
  void forget_later(const PeerId& peer) {
    asio::post(io, [this, peer] {
      if (!links.count(peer)) gossip->forget(peer);
    });
  }

  // --- GossipNet -----------------------------------------------------------------------

  void send(const PeerId& to, const GossipMessage& message) override {
    if (auto it = links.find(to); it != links.end()) it->second->send(message);
  }

  void punish(const PeerId& peer, const std::string& reason) override {
    log->warn("peer {} sent records that break the rules ({}): disconnecting", name_of(peer), reason);
    if (auto it = links.find(peer); it != links.end()) {
      auto link = it->second;
      // Counted by Gossip under the record's reason; the link closes as a fault.
      links.erase(it);
      traffic[peer].bytes_in += link->counters().bytes_in;
      traffic[peer].bytes_out += link->counters().bytes_out;
      membership->disconnected(peer, now_ms(), "refused records: " + reason, true);
      forget_later(peer);
      link->close(make_error(Errc::unauthorized, reason, "refused records: " + reason), true);
    }
  }

  // --- rounds --------------------------------------------------------------------------

  Heartbeat heartbeat() {
    Heartbeat hb;
    hb.software_version = kSoftwareVersion;
    hb.uptime_s = static_cast<std::uint64_t>(now_ms() / 1000);
    hb.roster_serial = roster_serial;
    if (auto n = catalog->record_count()) hb.records_known = *n;
    hb.free_capacity = config.capacity;
    if (hb.free_capacity == 0) hb.free_capacity = TierOneDuty::free_bytes(config.data_root).value_or(0);
    return hb;
  }

  void push_own_records() {
    auto vv = catalog->version_vector();
    if (!vv) return;
    auto it = vv->find(self);
    if (it == vv->end() || it->second <= pushed_seq) return;
    auto records = catalog->records_after(self, pushed_seq, 10000, config.gossip_batch_bytes);
    if (!records || records->empty()) return;
    pushed_seq = records->back().seq;
    gossip->push(*records, membership->live());
    log->info("pushed {} new local record(s) (seq up to {})", records->size(), pushed_seq);
  }

  void round() {
    const auto now = now_ms();
    membership->tick(now);
    for (const auto& key : membership->stale_links())
      if (auto it = links.find(key); it != links.end())
        it->second->close(make_error(Errc::unavailable, "peer_down",
                                     "nothing heard for " + std::to_string(config.down_after_ms) + " ms"),
                          false);
    if (auto st = refresh_roster(); !st) log->error("reading the roster: {}", st.error().message);
    auto live = membership->live();
    push_own_records();
    if (swarm) {
      const auto stored = gossip->stats().records_stored;
      if (stored != stored_seen || plan_due) {
        stored_seen = stored;
        plan_fetches();
      }
      if (stored != tier_one_stored_seen) {
        tier_one_stored_seen = stored;
        tier_one_soon();
      }
    }
    gossip->round(live);
    Heartbeat hb = heartbeat();
    for (auto& [key, link] : links) link->send(GossipMessage{hb});
    for (const auto& peer : membership->due_for_dial(now))
      if (!links.count(peer)) dial(peer);
  }

  void schedule_round() {
    round_timer.expires_after(std::chrono::milliseconds(config.gossip_interval_ms));
    round_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      round();
      schedule_round();
    });
  }

  // --- the one-Tier-1-copy rule --------------------------------------------------------

  // Members' liveness as the rule reads it (TierOneMember::alive / down_since): up and
  // suspect count alive; a down member went down `down_after_ms` after it was last
  // heard from, or, never heard from in this run, when this node started (the most it
  // can vouch for). This node is alive.
  LivenessMap liveness() const {
    LivenessMap m;
    m[self] = MemberLiveness{};
    for (const auto& [key, info] : membership->peers()) {
      MemberLiveness l;
      if (info.state == PeerState::down) {
        l.alive = false;
        const std::int64_t since_ms = info.last_seen_ms > 0 ? info.last_seen_ms + config.down_after_ms : 0;
        l.down_since = started_unix + since_ms / 1000;
      }
      m[key] = l;
    }
    return m;
  }

  // Right after start every peer looks down until its link comes up: acting then would
  // rank this node above peers that are in fact alive. Settled when every member has
  // been heard from, or down_after_ms has passed (a member silent that long is down).
  bool liveness_settled() const {
    if (now_ms() >= static_cast<std::int64_t>(config.down_after_ms)) return true;
    for (const auto& [key, info] : membership->peers())
      if (info.last_seen_ms == 0) return false;
    return true;
  }

  // Bytes done of this node's fetches, for the compliance report's progress column.
  std::map<std::string, std::uint64_t> local_progress() const {
    std::map<std::string, std::uint64_t> out;
    if (swarm)
      for (const auto& t : swarm->transfers())
        if (t.kind == TransferKind::fetch) out[t.instance_id] = t.bytes_done;
    return out;
  }

  ComplianceInputs compliance_inputs() const {
    ComplianceInputs in;
    in.now = unix_now();
    in.liveness = liveness();
    in.config = config.tier_one;
    in.local = self;
    in.local_progress = local_progress();
    return in;
  }

  void run_tier_one() {
    if (!duty || stopping) return;
    TierOneInputs in;
    in.now = unix_now();
    in.liveness = liveness();
    in.peers = swarm_peers();
    in.subscribed = subscribed;
    in.act = liveness_settled();
    auto round = duty->evaluate(in);
    if (!round) return log->error("tier-1 rule: {}", round.error().message);
    for (const auto& line : round->done) log->info("tier-1 rule: {}", line);
    // A failing action is retried every evaluation: say so once, not every interval.
    std::set<std::string> errors;
    for (const auto& e : round->errors) {
      if (!tier_one_errors.count(e.message)) log->warn("tier-1 rule: {}", e.message);
      errors.insert(e.message);
    }
    tier_one_errors = std::move(errors);
    if (round->signed_records > 0) push_own_records();
  }

  // Evaluates at `at`, then every policy evaluate interval.
  void arm_tier_one(SteadyClock::time_point at) {
    tier_one_at = at;
    tier_one_timer.expires_at(at);  // cancels the wait in progress, if any
    tier_one_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      run_tier_one();
      arm_tier_one(SteadyClock::now() + std::chrono::milliseconds(config.policy_evaluate_interval_ms));
    });
  }

  // The records changed: evaluate soon (debounced), unless an evaluation is due sooner.
  void tier_one_soon() {
    if (!duty || stopping) return;
    const auto at = SteadyClock::now() + kTierOneDebounce;
    if (at < tier_one_at) arm_tier_one(at);
  }

  // --- control -------------------------------------------------------------------------

  nlohmann::json on_control(const nlohmann::json& r) {
    const std::string cmd = r.value("cmd", "");
    if (cmd == "status") return status_json();
    if (cmd == "peers") return peers_json();
    if (cmd == "notify") {
      // A CLI command changed the catalog or the subscriptions.
      if (auto st = load_subscriptions(); !st) log->error("subscriptions: {}", st.error().message);
      push_own_records();
      if (swarm) {
        if (auto r = swarm->restore(); !r) log->error("swarm restore: {}", r.error().message);
        plan_fetches();
      }
      tier_one_soon();
      return {{"ok", true}};
    }
    if (cmd == "transfers") return transfers_json();
    if (cmd == "compliance") return compliance_json();
    if (cmd == "health") return health_json();
    if (cmd == "resume") {
      if (!swarm) return {{"ok", false}};
      auto st = swarm->resume_paused(r.value("instance_id", ""));
      if (!st)
        return {{"error", {{"code", std::string(to_string(st.error().code))}, {"reason", st.error().reason}, {"message", st.error().message}}}};
      return {{"ok", true}};
    }
    return {{"error", {{"code", "invalid"}, {"reason", "unknown_command"}, {"message", "unknown control command '" + cmd + "'"}}}};
  }

  NodeSnapshot snapshot() {
    NodeSnapshot s;
    s.node_key = self;
    s.site = config.site;
    s.tier = config.tier;
    s.listen = config.listen;
    s.started_unix = started_unix;
    s.uptime_ms = now_ms();
    s.now_ms = now_ms();
    s.roster_serial = roster_serial;
    if (auto n = catalog->record_count()) s.records = *n;
    if (auto vv = catalog->version_vector()) s.vector = std::move(*vv);
    s.gossip = gossip->stats();
    s.link_refusals = link_refusals;
    for (const auto& [key, info] : membership->peers()) {
      PeerSnapshot p;
      p.info = info;
      p.traffic = traffic[key];
      if (auto it = links.find(key); it != links.end()) {
        p.address = it->second->remote();
        p.traffic.bytes_in += it->second->counters().bytes_in;
        p.traffic.bytes_out += it->second->counters().bytes_out;
      } else if (!info.member.endpoints.empty()) {
        p.address = info.member.endpoints.front();
      }
      if (auto it = peer_vectors.find(key); it != peer_vectors.end()) p.vector = it->second;
      s.peers.push_back(std::move(p));
    }
    return s;
  }

  nlohmann::json transfers_json() {
    nlohmann::json rows = nlohmann::json::array();
    if (swarm)
      for (const auto& t : swarm->transfers())
        rows.push_back({{"instance_id", t.instance_id},
                        {"kind", std::string(to_string(t.kind))},
                        {"state", std::string(to_string(t.state))},
                        {"activity", t.activity},
                        {"bytes_done", t.bytes_done},
                        {"bytes_total", t.bytes_total},
                        {"bytes_downloaded", t.bytes_downloaded},
                        {"bytes_uploaded", t.bytes_uploaded},
                        {"bytes_linked", t.bytes_linked},
                        {"download_rate", t.download_rate},
                        {"upload_rate", t.upload_rate},
                        {"peers", t.peers},
                        {"eta_s", t.eta_seconds},
                        {"verify_failures", t.verify_failures},
                        {"local_faults", t.local_faults},
                        {"hash_failures", t.hash_failures},
                        {"path", t.path},
                        {"last_error", t.last_error}});
    nlohmann::json j = {{"transfers", std::move(rows)}};
    if (swarm) {
      auto c = swarm->counters();
      j["counters"] = {{"placed", c.placed},           {"verify_failures", c.verify_failures},
                       {"local_faults", c.local_faults},
                       {"hash_failures", c.hash_failures}, {"file_errors", c.file_errors},
                       {"stall_restarts", c.stall_restarts}, {"banned_peers", c.banned_peers}};
      j["swarm_listen"] = swarm->listen_endpoint();
    }
    return j;
  }

  nlohmann::json status_json() {
    nlohmann::json j = node_status_json(snapshot());
    if (swarm) {
      auto c = swarm->counters();
      std::uint64_t fetching = 0, seeding = 0, paused = 0;
      for (const auto& t : swarm->transfers()) {
        if (t.state == LocalState::paused) ++paused;
        else if (t.kind == TransferKind::seed) ++seeding;
        else ++fetching;
      }
      j["swarm"] = {{"listen", swarm->listen_endpoint()}, {"fetching", fetching}, {"seeding", seeding},
                    {"paused", paused}, {"placed", c.placed}, {"banned_peers", c.banned_peers}};
      j["subscriptions"] = subscriptions.size();
    }
    j["capacity"] = capacity_json();
    return j;
  }
  nlohmann::json peers_json() { return node_peers_json(snapshot()); }

  static nlohmann::json error_json(const Error& e) {
    return {{"error", {{"code", std::string(to_string(e.code))}, {"reason", e.reason}, {"message", e.message}}}};
  }

  // The rule's verdicts with this node's link liveness and transfer progress.
  nlohmann::json compliance_json() {
    auto report = build_compliance_report(*catalog, compliance_inputs());
    if (!report) return error_json(report.error());
    return report->to_json();
  }

  nlohmann::json health_json() {
    HealthInputs in;
    in.now = unix_now();
    in.local_key = self;
    in.local_site = config.site;
    auto live = HealthLive::from_answers(status_json(), peers_json(), transfers_json());
    if (!live) return error_json(live.error());
    in.live = std::move(*live);
    in.compliance = compliance_inputs();
    auto report = build_health_report(*catalog, in);
    if (!report) return error_json(report.error());
    return report->to_json();
  }

  // This node's room: [node] capacity, its roster capacity, the data root's free space
  // (read now) and, on a Tier-1 node, what the rule has committed and may commit here
  // (as of its last evaluation).
  nlohmann::json capacity_json() {
    nlohmann::json j;
    j["configured"] = config.capacity;
    nlohmann::json roster_capacity = nullptr;
    if (auto r = catalog->roster(); r && *r)
      if (const RosterMember* m = (*r)->member(self)) roster_capacity = m->capacity;
    j["roster"] = roster_capacity;
    auto free = TierOneDuty::free_bytes(config.data_root);
    j["data_root"] = config.data_root.string();
    j["data_root_free"] = free ? nlohmann::json(*free) : nlohmann::json(nullptr);
    if (duty) {
      const auto& c = duty->capacity();
      j["committed"] = c.committed;
      j["quota"] = c.quota;
      j["backlog"] = c.backlog;
      j["observed_rate"] = c.observed_rate;
      j["rule_fetches"] = duty->fetches().size();
    } else {
      j["committed"] = nullptr;
      j["quota"] = nullptr;
    }
    return j;
  }

  void shutdown() {
    if (stopping) return;
    stopping = true;
    log->info("stopping");
    boost::system::error_code ec;
    acceptor.close(ec);
    round_timer.cancel();
    swarm_timer.cancel();
    tier_one_timer.cancel();
    resolver.cancel();
    if (swarm)
      if (auto st = swarm->stop(); !st) log->error("swarm stop: {}", st.error().message);
    signals.cancel(ec);
    if (control) control->close();
    auto all = links;
    for (auto& [k, l] : all) l->close(make_error(Errc::unavailable, "shutdown", "node stopping"), false);
    auto p = pending;
    for (auto& l : p) l->close(make_error(Errc::unavailable, "shutdown", "node stopping"), false);
    io.stop();
  }
};

NodeDaemon::NodeDaemon() = default;
NodeDaemon::~NodeDaemon() = default;

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
  m.accept();
  m.round();
  m.schedule_round();
  m.schedule_swarm_poll();
  if (m.duty) m.arm_tier_one(SteadyClock::now() + std::chrono::milliseconds(m.config.policy_evaluate_interval_ms));
  m.io.run();
  m.log->info("stopped");
  m.log->flush();
  return 0;
}

void NodeDaemon::stop() {
  asio::post(impl_->io, [m = impl_.get()] { m->shutdown(); });
}

}  // namespace fedswarm
