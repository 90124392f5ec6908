// ReplicationLoop: the node's replication work, on its own thread (DESIGN §2) — the
// swarm engine (libtorrent session, transfers, placement), the subscriptions' plan,
// retraction actions and the one-Tier-1-copy rule (TierOneDuty: every node judges, a
// Tier-1 node acts). The io thread only posts to it: which records changed, the
// members' liveness, the CLI's notifications; control requests read its published
// view or post a query.
//
// What runs when
// - records_changed(touched): retraction actions for the touched versions held here,
//   the subscription plan (debounced, at most every kPlanInterval while changes keep
//   coming), and a Tier-1 round within kRuleDebounce.
// - liveness(map): a Tier-1 round soon (a member down past grace, or back).
// - Tier-1 rounds also every [policy] evaluate_interval_ms (transfer ETAs), at the
//   tracker's next due time (deadlines, grace ends), and back to back while the
//   tracker rebuilds (start, new roster) — a round handles at most kMaxChangesPerRound
//   changed ids, the rest wait for the next, so one catch-up cannot stall the loop.
// - notify (a CLI command changed the catalog or the subscriptions): subscriptions
//   reloaded, the node's own and the authority's new records read (what they touched),
//   and the local replica rows written since the last notify (the catalog's
//   local-change sequence): their retraction actions and the swarm's restore_changed;
//   a plan and a round. Costs what changed, not what is held; only the start reads
//   every local row (a page at a time, without resume data).
// - The swarm is polled every 250 ms and whenever libtorrent or the engine's worker
//   has something.
// - Every 500 ms (and after notable events) the view is published: transfers,
//   counters, capacity, the compliance summary, the data root's free space.
// When this node appended records to its own log (claims, replica records, retraction
// drops), `own_records` is called so the daemon pushes them.
//
// Contract: every public method may be called from any thread (they post); callbacks
// (`done`, `own_records`) run on the loop thread and must only post. `view()` is the
// latest published snapshot (never blocks). `stop` saves the swarm's resume data (at
// most its stop timeout), stops the thread, and is idempotent. Errors: `start` returns
// the swarm engine's (swarm_listen_failed, …) and the catalog's; later failures are
// logged and retried.
#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fedswarm/engine/ComplianceReport.hpp"
#include "fedswarm/engine/ControlApi.hpp"
#include "fedswarm/engine/NodeHome.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

struct ReplicationLoopOptions {
  const NodeHome* home = nullptr;  // required
  Catalog* catalog = nullptr;      // required
  std::string swarm_ip;            // the IP of [network] listen
  std::shared_ptr<spdlog::logger> log;
  std::function<void()> own_records;  // this node appended records: push them
};

// What control requests and heartbeats read, published by the loop.
struct ReplicationView {
  bool has_swarm = false;
  std::string swarm_listen;
  std::vector<TransferRow> transfers;
  SwarmTotals totals;
  std::uint64_t fetching = 0, seeding = 0, paused = 0;
  std::size_t subscriptions = 0;
  CapacityStatus capacity;
  ComplianceSummary compliance;
  bool rule_rebuilding = false;
  std::uint64_t rule_judged = 0, rule_versions = 0;
  std::uint64_t rule_rounds = 0;  // rounds that judged something, since start
  double rule_round_ms_p50 = 0, rule_round_ms_p99 = 0, rule_round_ms_max = 0;  // of the last 512
  double rule_round_last_ms = 0;         // the latest of them
  std::uint64_t rule_round_last_judged = 0;
  std::map<PublicKey, std::uint64_t> committed;  // the Tier-1 members', as the rule counts them
  std::optional<std::uint64_t> data_root_free;
};

class ReplicationLoop {
 public:
  // A burst of records is judged this long after the first of them arrives.
  static constexpr std::chrono::milliseconds kRuleDebounce{250};
  // The subscription plan (one search per subscription) runs at most this often while
  // records keep arriving.
  static constexpr std::chrono::milliseconds kPlanInterval{2000};
  // Changed ids a Tier-1 round takes at most; the rest wait for the next round.
  static constexpr std::size_t kMaxChangesPerRound = 50'000;

  static Result<std::unique_ptr<ReplicationLoop>> start(ReplicationLoopOptions options);
  ~ReplicationLoop();
  ReplicationLoop(const ReplicationLoop&) = delete;
  ReplicationLoop& operator=(const ReplicationLoop&) = delete;

  void records_changed(std::vector<std::string> touched, bool roster_changed);
  // The members' liveness as the rule reads it; `settled`: every member was heard from
  // or down_after_ms passed (acting before would take live peers for dead), and the
  // node is not catching up (no live peer holds many records it lacks);
  // `swarm_peers`: every member's swarm endpoint, for new fetches.
  void liveness(LivenessMap map, bool settled, std::vector<std::string> swarm_peers);
  void notify(std::function<void()> done);
  void resume(std::string instance_id, std::function<void(Status)> done);
  void compliance(std::optional<TierOneStatus> status, std::uint64_t offset, std::uint64_t limit,
                  std::function<void(Result<ComplianceReport>)> done);

  std::shared_ptr<const ReplicationView> view() const;
  // A view published now, if the loop answers within `wait` (a control request wants
  // current figures); else the latest one.
  std::shared_ptr<const ReplicationView> fresh_view(std::chrono::milliseconds wait = std::chrono::milliseconds(1000));
  Status stop();

 private:
  struct State;
  ReplicationLoop();
  std::unique_ptr<State> s_;
};

}  // namespace fedswarm
