#include "replication/ReplicationLoop.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <deque>
#include <future>
#include <set>

#include "fedswarm/engine/SubscriptionStore.hpp"
#include "fedswarm/protocol/RecordValidator.hpp"
#include "links/LinkTable.hpp"
#include "replication/DropLocalCopy.hpp"
#include "replication/RetractionActions.hpp"
#include "replication/SubscriptionPlanner.hpp"
#include "replication/TierOneDuty.hpp"
#include "swarm/SwarmEngine.hpp"

namespace fedswarm {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The versions a record names (for the changes a CLI command made).
std::vector<std::string> instances_of(const Envelope& env) {
  auto body = decode_body(env);
  if (!body) return {};
  return std::visit(
      [](const auto& b) -> std::vector<std::string> {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, Roster>) return {};
        else return {b.instance_id()};
      },
      *body);
}

TransferRow row_of(const TransferInfo& t) {
  TransferRow r;
  r.instance_id = t.instance_id;
  r.kind = std::string(to_string(t.kind));
  r.state = std::string(to_string(t.state));
  r.activity = t.activity;
  r.bytes_done = t.bytes_done;
  r.bytes_total = t.bytes_total;
  r.bytes_downloaded = t.bytes_downloaded;
  r.bytes_uploaded = t.bytes_uploaded;
  r.bytes_linked = t.bytes_linked;
  r.bytes_received = t.bytes_received;
  r.bytes_verified = t.bytes_verified;
  r.download_rate = t.download_rate;
  r.upload_rate = t.upload_rate;
  r.peers = t.peers;
  r.eta_s = t.eta_seconds;
  r.verify_failures = t.verify_failures;
  r.local_faults = t.local_faults;
  r.hash_failures = t.hash_failures;
  r.path = t.path;
  r.last_error = t.last_error;
  return r;
}

}  // namespace

struct ReplicationLoop::State {
  ReplicationLoopOptions opt;
  const NodeHome& home;
  const Config& config;
  Catalog& catalog;
  std::shared_ptr<spdlog::logger> log;
  PublicKey self;

  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{asio::make_work_guard(io)};
  std::thread thread;
  std::atomic<bool> stopping{false};
  bool stopped = false;

  std::unique_ptr<SwarmEngine> swarm;
  std::unique_ptr<RetractionActions> retractions;
  std::unique_ptr<TierOneDuty> duty;
  std::vector<Subscription> subscriptions;
  std::set<std::string> subscribed;  // instance ids the subscriptions want (last plan)

  asio::steady_timer swarm_timer{io}, rule_timer{io}, plan_timer{io}, view_timer{io};
  SteadyClock::time_point rule_at = SteadyClock::time_point::max();
  bool plan_armed = false;
  SteadyClock::time_point last_plan;
  bool poll_posted = false;

  std::vector<std::string> changed;  // for the next Tier-1 round
  LivenessMap liveness;
  bool settled = false;
  std::vector<std::string> peers;
  std::set<std::string> rule_errors;  // last round's, logged once while they repeat
  std::deque<double> round_ms;        // recent rounds that judged something (not rebuilding)
  std::uint64_t last_round_judged = 0;
  std::uint64_t rounds = 0;
  VersionVector cursor;               // own and authority records already looked at (notify)
  // The catalog's local-change sequence up to which retraction actions have looked
  // (notify), and the versions whose action failed (tried again at the next notify).
  std::uint64_t local_cursor = 0;
  std::set<std::string> retraction_retry;
  std::int64_t started_unix = unix_now();

  mutable std::mutex view_mu;
  std::shared_ptr<const ReplicationView> published = std::make_shared<ReplicationView>();

  explicit State(ReplicationLoopOptions o)
      : opt(std::move(o)), home(*opt.home), config(opt.home->config()), catalog(*opt.catalog), log(opt.log),
        self(opt.home->key().public_key()) {}

  // --- set-up (on the loop thread) ------------------------------------------------------------

  Status setup() {
    // Before the start-up pass over every local row: a row written meanwhile is looked
    // at again by the next notify.
    FEDSWARM_ASSIGN_OR_RETURN(local_cursor, catalog.local_change_seq());
    std::error_code ec;
    std::filesystem::create_directories(config.data_root, ec);
    if (ec)
      return make_error(Errc::io, "data_root", "cannot create the data root " + config.data_root.string() + ": " +
                                                   ec.message() + "; fix [node] data_root in config.toml");
    SwarmEngineOptions so;
    so.listen_ip = opt.swarm_ip;
    so.port = config.swarm_port;
    so.data_root = config.data_root;
    so.catalog = &catalog;
    so.key = &home.key();
    so.projects = &home.projects();
    so.upload_rate_limit = config.upload_rate_limit;
    so.download_rate_limit = config.download_rate_limit;
    so.seed_idle = std::chrono::seconds(config.seed_idle_s);
    so.max_active_torrents = config.max_active_torrents;
    so.peers_anyone = config.swarm_peers_anyone;
    so.foreign_upload_rate_limit = config.foreign_upload_rate_limit;
    // A first start has no clean-stop marker either; only staged data makes it matter.
    const auto staging = config.data_root / ".staging";
    bool staged = false;
    for (const auto& e : std::filesystem::directory_iterator(staging, ec))
      if (e.path().filename() != ".clean") staged = true;
    FEDSWARM_ASSIGN_OR_RETURN(swarm, SwarmEngine::start(std::move(so)));
    swarm->set_wakeup([this] {
      // From libtorrent's or the worker's thread: only post, and only once at a time.
      asio::post(io, [this] { poll_swarm(); });
    });
    retractions = std::make_unique<RetractionActions>(home, catalog);
    if (!swarm->clean_start() && staged)
      log->warn("the previous run did not stop cleanly: staged pieces are re-checked before they are trusted");
    FEDSWARM_TRY(load_subscriptions());
    apply_all_retractions();
    // Deletions a crash interrupted (a released surplus copy whose directory is still
    // there) are finished before anything is seeded.
    if (auto done = finish_local_drops(catalog, unix_now()); !done)
      log->error("finishing interrupted deletions: {}", done.error().message);
    else
      for (const auto& id : *done) log->info("finished the interrupted deletion of {}", id);
    // Who may connect, from the stored roster until the first liveness report.
    if (auto roster = catalog.roster(); roster && *roster) {
      std::vector<std::string> eps;
      for (const auto& m : (*roster)->members)
        if (auto ep = swarm_endpoint_of(m)) eps.push_back(std::move(*ep));
      set_members(std::move(eps));
    }
    auto restored = swarm->restore();
    if (!restored) return std::move(restored).error();
    for (const auto& e : restored->errors) log->warn("not resumed: {}", e.message);
    log->info("swarm on {}: seeding {}, fetching {}", swarm->listen_endpoint(), restored->seeding, restored->fetching);
    TierOneDutyOptions to;
    to.config = config.tier_one;
    to.catalog = &catalog;
    to.key = &home.key();
    to.swarm = config.tier == Tier::tier1 ? swarm.get() : nullptr;
    to.data_root = config.data_root;
    to.configured_capacity = config.capacity;
    duty = std::make_unique<TierOneDuty>(std::move(to));
    if (auto vv = catalog.version_vector()) cursor = *vv;
    return {};
  }

  void begin() {
    plan_fetches();
    schedule_swarm_poll();
    publish_view();
    schedule_view();
    arm_rule(SteadyClock::now());
  }

  Status load_subscriptions() {
    FEDSWARM_ASSIGN_OR_RETURN(auto store, SubscriptionStore::load(home.dir(), home.projects()));
    subscriptions = store.subscriptions();
    return {};
  }

  // --- retractions, subscriptions --------------------------------------------------------------

  void apply_retraction(const std::string& id) {
    auto decision = retractions->decide(id);
    if (!decision || !*decision) return;
    if ((*decision)->stop_offering && swarm) (void)swarm->remove(id);
    auto done = retractions->apply(id, unix_now());
    if (!done) {
      retraction_retry.insert(id);
      return log->error("applying the retraction of {}: {}", id, done.error().message);
    }
    if (*done && (*done)->step != RetractionStep::none && (*done)->step != RetractionStep::flag) {
      log->info("retracted {}: {}", id, (*done)->why);
      if ((*done)->dropped_record_seq) changed_own();
    }
  }

  // Start-up: the retraction action of every local replica of a retracted version.
  void apply_all_retractions() {
    auto retracted = retractions->retracted_locals();
    if (!retracted) return log->error("reading local replicas: {}", retracted.error().message);
    for (const auto& id : *retracted) apply_retraction(id);
  }

  // A notify: the retraction actions of the local rows written since the last look (a
  // CLI command may have changed them) and of those whose action failed. Retractions
  // themselves arrive as records (on_changed). Costs what changed, not what is held.
  void apply_changed_retractions() {
    std::set<std::string> ids;
    ids.swap(retraction_retry);
    for (;;) {
      auto changes = catalog.local_changes_after(local_cursor, SwarmEngine::kRestorePage);
      if (!changes) {
        log->error("reading changed local replicas: {}", changes.error().message);
        break;
      }
      ids.insert(changes->instance_ids.begin(), changes->instance_ids.end());
      local_cursor = changes->last;
      if (changes->instance_ids.size() < SwarmEngine::kRestorePage) break;
    }
    for (const auto& id : ids) {
      auto v = catalog.version(id);
      if (v && *v && (*v)->retraction) apply_retraction(id);
    }
  }

  // What the subscriptions want and is not held: fetch it from the swarm. Costs one
  // search per subscription and what they match.
  void plan_fetches() {
    plan_armed = false;
    last_plan = SteadyClock::now();
    if (subscriptions.empty()) {
      subscribed.clear();
      return;
    }
    auto plan = plan_from_catalog(catalog, subscriptions);
    if (!plan) return log->error("subscription plan: {}", plan.error().message);
    FetchOptions fo;
    fo.peers = peers;
    subscribed.clear();
    for (const auto& v : plan->wanted) subscribed.insert(v.instance_id);
    for (const auto& v : plan->wanted) {
      if (v.held) continue;
      auto m = catalog.manifest(v.instance_id);
      if (!m) {
        log->warn("cannot fetch {}: {}", v.instance_id, m.error().message);
        continue;
      }
      if (auto st = swarm->fetch(*m, fo); !st) log->warn("cannot fetch {}: {}", v.instance_id, st.error().message);
    }
  }

  void plan_soon() {
    if (subscriptions.empty() || plan_armed || stopping) return;
    plan_armed = true;
    const auto at = std::max(SteadyClock::now() + kRuleDebounce, last_plan + kPlanInterval);
    plan_timer.expires_at(at);
    plan_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      plan_fetches();
    });
  }

  // --- the swarm -------------------------------------------------------------------------------

  // The swarm's IP filter (or, with peers = anyone, who counts as foreign) follows the
  // roster; a name that does not resolve is logged once per distinct set.
  void set_members(const std::vector<std::string>& endpoints) {
    std::string unresolved = swarm->set_members(endpoints);
    if (!unresolved.empty() && unresolved != members_unresolved)
      log->warn("swarm: cannot resolve {} (roster endpoints); those members cannot connect to the swarm port until "
                "their names resolve", unresolved);
    members_unresolved = std::move(unresolved);
  }
  std::string members_unresolved;

  void poll_swarm() {
    if (!swarm || stopping) return;
    bool notable = false;
    for (const auto& e : swarm->poll()) {
      notable = true;
      switch (e.type) {
        case SwarmEvent::Type::placed:
          log->info("placed {} at {} (replica record {})", e.instance_id, e.detail, e.record_seq);
          duty->on_placed(e.instance_id);
          changed_own();
          rule_soon();
          break;
        case SwarmEvent::Type::incomplete_finish:
          log->info("{} {}: {}", to_string(e.type), e.instance_id, e.detail);  // handled: nothing to do
          break;
        case SwarmEvent::Type::peer_banned:
          log->warn("banned swarm peer {} (corrupt data for {})", e.detail, e.instance_id);
          break;
        default: log->warn("{} {}: {}", to_string(e.type), e.instance_id, e.detail);
      }
    }
    if (notable) publish_view();
  }

  void schedule_swarm_poll() {
    swarm_timer.expires_after(std::chrono::milliseconds(250));
    swarm_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      poll_swarm();
      schedule_swarm_poll();
    });
  }

  // This node appended records to its own log: the daemon pushes them.
  void changed_own() {
    if (opt.own_records) opt.own_records();
  }

  // --- the Tier-1 rule -------------------------------------------------------------------------

  void arm_rule(SteadyClock::time_point at) {
    if (stopping) return;
    rule_at = at;
    rule_timer.expires_at(at);  // cancels the wait in progress, if any
    rule_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      rule_at = SteadyClock::time_point::max();
      run_rule();
    });
  }

  void rule_soon() {
    const auto at = SteadyClock::now() + kRuleDebounce;
    if (at < rule_at) arm_rule(at);
  }

  void run_rule() {
    TierOneInputs in;
    in.now = unix_now();
    in.liveness = liveness;
    in.peers = peers;
    in.subscribed = subscribed;
    in.act = settled;
    in.stop = &stopping;
    const std::size_t take = std::min(changed.size(), kMaxChangesPerRound);
    in.changed.assign(std::make_move_iterator(changed.begin()), std::make_move_iterator(changed.begin() + static_cast<std::ptrdiff_t>(take)));
    changed.erase(changed.begin(), changed.begin() + static_cast<std::ptrdiff_t>(take));
    const auto r0 = SteadyClock::now();
    auto round = duty->round(in);
    if (round && round->judged > 0 && !round->rebuilding && !duty->tracker().rebuilding()) {
      round_ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - r0).count());
      if (round_ms.size() > 512) round_ms.pop_front();
      last_round_judged = round->judged;
      ++rounds;
    }
    if (!round) {
      if (!stopping) log->error("tier-1 rule: {}", round.error().message);
      arm_rule(SteadyClock::now() + std::chrono::seconds(5));
      return;
    }
    for (const auto& line : round->done) log->info("tier-1 rule: {}", line);
    // A failing action is retried every round: say so once, not every interval.
    std::set<std::string> errors;
    for (const auto& e : round->errors) {
      if (!rule_errors.count(e.message)) log->warn("tier-1 rule: {}", e.message);
      errors.insert(e.message);
    }
    rule_errors = std::move(errors);
    if (round->signed_records > 0) changed_own();
    if (round->rebuilding) {
      const auto [judged, total] = duty->tracker().rebuild_progress();
      if (judged == 0 || (judged / 20'000) % 10 == 0)
        log->info("tier-1 rule: judging every version after a start or a new roster: {} of {}", judged, total);
    }
    // Next: at once while rebuilding or changes wait, else the periodic interval or the
    // tracker's next due time, whichever is sooner.
    auto next = SteadyClock::now() + std::chrono::milliseconds(config.policy_evaluate_interval_ms);
    if (round->rebuilding || !changed.empty() || !settled) {
      if (round->rebuilding || !changed.empty()) next = SteadyClock::now();
    }
    const std::int64_t due = duty->next_due();
    if (due != INT64_MAX) {
      const auto in_s = std::max<std::int64_t>(0, due - unix_now());
      next = std::min(next, SteadyClock::now() + std::chrono::seconds(in_s));
    }
    arm_rule(next);
    if (round->judged > 0 || round->signed_records > 0) publish_view();
  }

  // --- inputs ----------------------------------------------------------------------------------

  void on_changed(std::vector<std::string> touched, bool roster) {
    if (roster) duty->invalidate();
    if (touched.empty() && !roster) return;
    // Retraction actions for the touched versions this node holds.
    std::set<std::string> unique(touched.begin(), touched.end());
    for (const auto& id : unique) {
      auto local = catalog.local(id);
      if (!local || !*local) continue;
      auto v = catalog.version(id);
      if (v && *v && (*v)->status == VersionStatus::retracted) apply_retraction(id);
    }
    changed.insert(changed.end(), unique.begin(), unique.end());
    rule_soon();
    plan_soon();
  }

  // A CLI command changed the catalog or the subscriptions.
  void on_notify() {
    if (auto st = load_subscriptions(); !st) log->error("subscriptions: {}", st.error().message);
    std::vector<std::string> touched;
    std::vector<PublicKey> authors = {self};
    if (auto a = catalog.authority(); a && !a->is_zero()) authors.push_back(*a);
    for (const auto& author : authors) {
      for (;;) {
        const std::uint64_t after = cursor.count(author) ? cursor.at(author) : 0;
        auto records = catalog.records_after(author, after, 1000, 8u << 20);
        if (!records || records->empty()) break;
        for (const auto& r : *records) {
          auto ids = instances_of(r);
          touched.insert(touched.end(), ids.begin(), ids.end());
          cursor[author] = r.seq;
        }
      }
    }
    bool roster = false;
    if (auto r = catalog.roster(); r && *r) roster = true;  // an import may have brought a new one
    apply_changed_retractions();
    if (auto r = swarm->restore_changed(); !r) log->error("swarm restore: {}", r.error().message);
    else {
      for (const auto& e : r->errors) log->warn("not resumed: {}", e.message);
      log->debug("notify: {} changed local rows read, {} more held, {} more fetched", r->rows_read, r->seeding,
                 r->fetching);
    }
    on_changed(std::move(touched), roster);
    plan_fetches();
    publish_view();
  }

  // --- the view --------------------------------------------------------------------------------

  void publish_view() {
    auto v = std::make_shared<ReplicationView>();
    v->has_swarm = swarm != nullptr;
    if (swarm) {
      v->swarm_listen = swarm->listen_endpoint();
      for (const auto& t : swarm->transfers()) {
        if (t.state == LocalState::paused) ++v->paused;
        else if (t.kind == TransferKind::seed) ++v->seeding;
        else ++v->fetching;
        v->transfers.push_back(row_of(t));
      }
      const auto c = swarm->counters();
      v->totals = {c.placed,         c.verify_failures, c.local_faults,     c.hash_failures,
                   c.file_errors,    c.stall_restarts,  c.incomplete_finishes, c.banned_peers, c.bytes_rehashed,
                   c.bytes_trusted,  c.held,            c.loaded,           c.on_demand_loads,
                   c.on_demand_misses, c.idle_unloads,  c.evictions,        c.full_checks,
                   c.foreign_refused, c.foreign_served, c.foreign_dials_refused, c.pieces_suggested};
    }
    v->subscriptions = subscriptions.size();
    v->data_root_free = TierOneDuty::free_bytes(config.data_root);
    auto& cap = v->capacity;
    cap.configured = config.capacity;
    if (auto r = catalog.roster(); r && *r)
      if (const RosterMember* m = (*r)->member(self)) cap.roster = m->capacity;
    cap.data_root = config.data_root.string();
    cap.data_root_free = v->data_root_free;
    if (duty) {
      if (config.tier == Tier::tier1) {
        const auto& c = duty->capacity();
        cap.committed = c.committed;
        cap.quota = c.quota;
        cap.backlog = c.backlog;
        cap.observed_rate = c.observed_rate;
        cap.rule_fetches = duty->fetches().size();
      }
      const auto& tr = duty->tracker();
      v->compliance = compliance_summary(tr.counts(), tr.members().size(), true, unix_now());
      v->rule_rebuilding = tr.rebuilding();
      std::tie(v->rule_judged, v->rule_versions) = tr.rebuild_progress();
      for (const auto& m : tr.members()) v->committed[m.key] = m.committed;
    }
    v->rule_rounds = rounds;
    if (!round_ms.empty()) {
      std::vector<double> sorted(round_ms.begin(), round_ms.end());
      std::sort(sorted.begin(), sorted.end());
      v->rule_round_ms_p50 = sorted[sorted.size() / 2];
      v->rule_round_ms_p99 = sorted[std::min(sorted.size() - 1, sorted.size() * 99 / 100)];
      v->rule_round_ms_max = sorted.back();
      v->rule_round_last_ms = round_ms.back();
      v->rule_round_last_judged = last_round_judged;
    }
    std::lock_guard lock(view_mu);
    published = std::move(v);
  }

  void schedule_view() {
    view_timer.expires_after(std::chrono::milliseconds(500));
    view_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      publish_view();
      schedule_view();
    });
  }

  ComplianceInputs compliance_inputs() const {
    ComplianceInputs in;
    in.now = unix_now();
    in.liveness = liveness;
    in.config = config.tier_one;
    in.local = self;
    in.local_progress.emplace();
    if (swarm)
      for (const auto& t : swarm->transfers())
        if (t.kind == TransferKind::fetch) (*in.local_progress)[t.instance_id] = t.bytes_done;
    return in;
  }

  Status shutdown() {
    Status result;
    stopping = true;
    swarm_timer.cancel();
    rule_timer.cancel();
    plan_timer.cancel();
    view_timer.cancel();
    if (swarm)
      if (auto st = swarm->stop(); !st) result = st;
    work.reset();
    io.stop();
    return result;
  }
};

ReplicationLoop::ReplicationLoop() = default;

ReplicationLoop::~ReplicationLoop() { (void)stop(); }

Result<std::unique_ptr<ReplicationLoop>> ReplicationLoop::start(ReplicationLoopOptions options) {
  if (!options.home || !options.catalog || !options.log)
    return make_error(Errc::invalid, "replication_options", "the replication loop needs a home, a catalog and a log");
  std::unique_ptr<ReplicationLoop> loop(new ReplicationLoop());
  loop->s_ = std::make_unique<State>(std::move(options));
  State& s = *loop->s_;
  std::promise<Status> ready;
  auto started = ready.get_future();
  s.thread = std::thread([&s, &ready] {
    // The swarm engine lives and dies on this thread.
    Status st = s.setup();
    const bool ok = st.ok();
    ready.set_value(std::move(st));
    if (!ok) return;
    s.begin();
    s.io.run();
    s.swarm.reset();
    s.duty.reset();
  });
  Status st = started.get();
  if (!st) {
    s.thread.join();
    s.stopped = true;
    return std::move(st).error();
  }
  return loop;
}

void ReplicationLoop::records_changed(std::vector<std::string> touched, bool roster_changed) {
  asio::post(s_->io, [s = s_.get(), touched = std::move(touched), roster_changed]() mutable {
    if (!s->stopping) s->on_changed(std::move(touched), roster_changed);
  });
}

void ReplicationLoop::liveness(LivenessMap map, bool settled, std::vector<std::string> swarm_peers) {
  asio::post(s_->io, [s = s_.get(), map = std::move(map), settled, swarm_peers = std::move(swarm_peers)]() mutable {
    if (s->stopping) return;
    const bool moved = map != s->liveness || settled != s->settled;
    s->liveness = std::move(map);
    s->settled = settled;
    s->peers = std::move(swarm_peers);
    if (s->swarm) s->set_members(s->peers);
    if (moved) s->rule_soon();
  });
}

void ReplicationLoop::notify(std::function<void()> done) {
  asio::post(s_->io, [s = s_.get(), done = std::move(done)] {
    if (!s->stopping) s->on_notify();
    if (done) done();
  });
}

void ReplicationLoop::resume(std::string instance_id, std::function<void(Status)> done) {
  asio::post(s_->io, [s = s_.get(), id = std::move(instance_id), done = std::move(done)] {
    Status st = s->stopping || !s->swarm ? Status(make_error(Errc::unavailable, "stopping", "the node is stopping"))
                                         : s->swarm->resume_paused(id);
    s->publish_view();
    if (done) done(st);
  });
}

void ReplicationLoop::compliance(std::optional<TierOneStatus> status, std::uint64_t offset, std::uint64_t limit,
                                 std::function<void(Result<ComplianceReport>)> done) {
  asio::post(s_->io, [s = s_.get(), status, offset, limit, done = std::move(done)] {
    if (s->stopping || !s->duty) return done(make_error(Errc::unavailable, "stopping", "the node is stopping"));
    done(compliance_page(s->duty->tracker(), s->duty->source(), s->compliance_inputs(), status, offset, limit));
  });
}

std::shared_ptr<const ReplicationView> ReplicationLoop::view() const {
  std::lock_guard lock(s_->view_mu);
  return s_->published;
}

std::shared_ptr<const ReplicationView> ReplicationLoop::fresh_view(std::chrono::milliseconds wait) {
  auto p = std::make_shared<std::promise<void>>();
  auto f = p->get_future();
  asio::post(s_->io, [s = s_.get(), p] {
    if (!s->stopping) s->publish_view();
    p->set_value();
  });
  (void)f.wait_for(wait);
  return view();
}

Status ReplicationLoop::stop() {
  if (!s_ || s_->stopped) return {};
  s_->stopped = true;
  s_->stopping = true;
  std::promise<Status> done;
  auto result = done.get_future();
  asio::post(s_->io, [s = s_.get(), &done] { done.set_value(s->shutdown()); });
  Status st = result.get();
  if (s_->thread.joinable()) s_->thread.join();
  return st;
}

}  // namespace fedswarm
