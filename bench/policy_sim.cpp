// policy_sim: the one-Tier-1-copy rule (policy/TierOneRule.hpp, issue 5) against two
// baselines, on one seeded event stream.
//
// Federation: 50 sites — 10 Tier-1 centres with unequal capacities and ingest rates, 40
// Tier-2 data nodes. Tier-2s (and, for a tenth of the bursts, Tier-1 sites, which then
// may not hold the copy themselves) publish dataset versions in bursts, as modelling
// groups do: a burst of ~80 versions on average (log-normal, up to 5000) over a few
// hours, Poisson burst arrivals over `weeks` weeks. 15 % of the versions are new versions
// of an earlier dataset of the same publisher (similar size); 2 % are retracted 1–20
// days after publication. Version sizes: log-normal, σ = 2.0, scaled to a mean of
// 1.3 GB before clipping to [1 MB, 2 TB] (CMIP6 dataset versions: a median of a few
// hundred MB, a heavy tail of multi-hundred-GB high-resolution ones).
//
// Transfers: each Tier-1 fetches one version at a time, first come first served, at its
// ingest rate (250 MB/s to 1 GB/s: the sustained share of a 10–100 Gb/s WAN link a
// replication service gets) times a per-transfer factor in [0.6, 1.0], plus 2 s of link
// time per transfer (metadata, piece layers); the replica record follows 30 s after the
// last byte (final checks, rename, signing), pipelined with the next transfer. A node
// that goes down pauses its transfers (resume data keeps the progress). Records (claims, replica records) reach every node at once;
// a new manifest reaches them 60 s after publication.
//
// Failures (days scaled to the publication period; nodes named by capacity rank): a
// short outage within the grace period, long outages (2 and 4 days) of the two largest
// centres, a disk fault after which a centre withdraws 5 % of its copies (failed
// verify), two overlapping outages, and a late 8-hour outage. Every node is back up well
// before the end.
//
// Strategies, on the same workload:
// - fedswarm: every Tier-1 runs the real TierOneRule (judge + actions) on the shared
//   catalog, with the real CapacityLedger for free capacity; claims, releases and
//   replica records are fed back as records. Re-evaluated when a version's records
//   change, when a node's grace period ends or it comes back, and every 5 minutes for
//   versions not yet compliant (the engine's loop). Grace 6 h, default config.
// - Rucio-style: the publisher places the copy at publication on a Tier-1 drawn at
//   random with weights = roster capacity (Rucio's RSE weight), among the available
//   ones outside its site with room. Transfers to a centre down for longer than the
//   grace period are re-placed (the judge-repairer's handling of stuck rules); a lost
//   copy is recovered at the same centre (the replica recoverer); copies held by a down
//   centre are not moved.
// - uncoordinated: each Tier-1 polls hourly (its own phase) and queues every version
//   not yet replicated on a present Tier-1 (complete copy, up or down for less than the
//   grace period) for which it has room; before starting a queued transfer it checks
//   again and skips it if meanwhile replicated. No claims.
//
// Figures: time from publication to the first Tier-1 copy (p50, p99; retracted-before-
// copied versions excluded); copies beyond one per version at the end (and how many of
// them are on versions touched by a failure); bytes moved for nothing (completed extra
// copies plus cancelled partial transfers); Tier-1 fill relative to capacity, max/min;
// versions without a Tier-1 copy at the end; and for each failure the time until every
// version it touched (sole copy on, or transfer queued at, the failed node; the lost
// copies) again has a copy on an up Tier-1.
//
// Surplus copies: a centre back from an outage past the grace period finds its versions
// repaired elsewhere; once it has been up for surplus_settle_seconds (1 h) the rule
// names the repair copies surplus and their holders drop them (drop_surplus).
//
// The rank weight (Rendezvous.hpp): w = free^k / capacity^(k−1). `--compare-weights`
// runs the rule alone on seeds A–B with the chosen k (kRankWeightExponent) and with
// k = 1 (w = free capacity, the weight before) and prints one row per seed.
//
// Usage: policy_sim [--seed S] [--versions N] [--weeks W] [--no-failures] [--grace-hours H]
//                   [--exponent K] [--compare-weights [--seeds A-B]]
//   --no-failures: the same stream without outages and disk faults;
//   --grace-hours: the rule's grace period (default 6), also used by the baselines;
//   --exponent: the rank weight's k (default kRankWeightExponent);
//   --compare-weights: the per-seed table of k against k = 1 (seeds 1-10 by default).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <iostream>
#include <map>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "fedswarm/policy/CapacityLedger.hpp"
#include "fedswarm/policy/TierOneRule.hpp"

using namespace fedswarm;

namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kHour = 3600;
constexpr double kGB = 1e9;
constexpr double kTB = 1e12;
constexpr std::int64_t kStart = 1'600'000'000;   // simulated time origin
constexpr std::int64_t kGossipDelay = 60;         // manifest publication → every node knows
constexpr std::int64_t kLinkOverhead = 2;         // link time per transfer: metadata, piece layers
constexpr std::int64_t kVerifyLatency = 30;       // last byte → replica record (final checks, rename,
                                                  // signing); pipelined: the link is already free
constexpr std::int64_t kRuleTick = 5 * 60;        // the engine's evaluation loop
constexpr std::int64_t kPollInterval = kHour;     // uncoordinated baseline
constexpr std::int64_t kRucioRetry = kHour;       // Rucio: retry placing versions with no room
constexpr int kTier1 = 10, kTier2 = 40;

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// --- workload ------------------------------------------------------------------------

struct Site {
  std::string name;
  bool tier1 = false;
  PublicKey key;
  std::uint64_t capacity = 0;  // bytes (Tier-1)
  double rate = 0;             // bytes/s ingest (Tier-1)
};

struct VersionSpec {
  std::string dataset_id, version;
  std::uint64_t size = 0;
  int site = 0;  // publisher
  std::int64_t published_at = 0;
  int previous = -1;  // index of the version it supersedes
  std::int64_t retract_at = -1;
};

struct Failure {
  std::string label;
  int node = 0;  // Tier-1 index
  std::int64_t at = 0;
  std::int64_t duration = 0;  // down for; 0: a disk fault
  double fraction = 0;        // disk fault: share of the node's copies withdrawn
};

struct Workload {
  std::vector<Site> sites;  // Tier-1 first (index = node), then Tier-2
  std::vector<VersionSpec> versions;  // by publication time
  std::vector<Failure> failures;
  std::int64_t end = 0;
  int bursts = 0;
};

std::string vdate(std::int64_t t) {
  // Civil date (Howard Hinnant's algorithm): versions are real calendar dates.
  std::int64_t z = t / kDay + 719468;
  std::int64_t era = z / 146097, doe = z - era * 146097;
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp + (mp < 10 ? 3 : -9);
  char buf[64];
  std::snprintf(buf, sizeof buf, "v%04lld%02lld%02lld", static_cast<long long>(y + (m <= 2)), static_cast<long long>(m),
                static_cast<long long>(d));
  return buf;
}

Workload make_workload(std::uint64_t seed, int n_versions, int weeks, bool failures) {
  Workload w;
  std::mt19937_64 rng(seed);
  // Tier-1 centres: capacity (TB) and ingest (MB/s), largest first.
  const double caps[kTier1] = {50, 40, 30, 25, 20, 15, 12, 10, 10, 8};
  const double rates[kTier1] = {1000, 1000, 800, 600, 500, 500, 400, 300, 300, 250};
  for (int i = 0; i < kTier1 + kTier2; ++i) {
    Site s;
    s.tier1 = i < kTier1;
    char name[16];
    std::snprintf(name, sizeof name, s.tier1 ? "T1-%02d" : "T2-%02d", s.tier1 ? i : i - kTier1);
    s.name = name;
    for (std::size_t b = 0; b < 32; b += 8) {
      std::uint64_t x = splitmix(seed * 1000 + static_cast<std::uint64_t>(i) * 4 + b / 8);
      std::memcpy(s.key.data() + b, &x, 8);
    }
    if (s.tier1) {
      s.capacity = static_cast<std::uint64_t>(caps[i] * kTB);
      s.rate = rates[i] * 1e6;
    }
    w.sites.push_back(s);
  }
  // Publishers: Tier-2s with Zipf-like weights (a few large modelling centres), Tier-1
  // sites for a tenth of the bursts.
  std::vector<double> pub_weight;
  for (int i = 0; i < kTier1 + kTier2; ++i) pub_weight.push_back(i < kTier1 ? 0.0 : 1.0 / (1 + (i - kTier1)));
  double t2_total = 0;
  for (double x : pub_weight) t2_total += x;
  for (int i = 0; i < kTier1; ++i) pub_weight[i] = t2_total / 9.0 / kTier1;  // 10 % of bursts
  std::discrete_distribution<int> pick_site(pub_weight.begin(), pub_weight.end());

  const double sigma = 2.0, mu = std::log(1.3 * kGB) - sigma * sigma / 2;
  std::lognormal_distribution<double> size_dist(mu, sigma);
  std::lognormal_distribution<double> burst_dist(3.6, 1.2);
  std::lognormal_distribution<double> resize(0.0, 0.3);
  const std::int64_t period = static_cast<std::int64_t>(weeks) * 7 * kDay;

  std::vector<std::vector<int>> datasets_of(kTier1 + kTier2);  // site -> indices into `latest`
  std::vector<int> latest_of_dataset;
  std::vector<VersionSpec> vs;
  // Bursts at uniform times (a Poisson process conditioned on the count).
  std::vector<std::pair<std::int64_t, int>> bursts;  // start, size
  int planned = 0;
  while (planned < n_versions) {
    int n = std::min<int>(5000, 1 + static_cast<int>(burst_dist(rng)));
    n = std::min(n, n_versions - planned);
    bursts.push_back({kStart + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(period)), n});
    planned += n;
  }
  std::sort(bursts.begin(), bursts.end());
  w.bursts = static_cast<int>(bursts.size());
  int dataset_counter = 0;
  for (auto [start, n] : bursts) {
    const int site = pick_site(rng);
    std::vector<std::int64_t> times;
    for (int i = 0; i < n; ++i) times.push_back(start + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(20 * n + 1)));
    std::sort(times.begin(), times.end());
    for (std::int64_t t : times) {
      VersionSpec v;
      v.site = site;
      v.published_at = t;
      v.version = vdate(t);
      int ds = -1;
      if (!datasets_of[site].empty() && rng() % 100 < 15) {
        int cand = datasets_of[site][rng() % datasets_of[site].size()];
        const VersionSpec& prev = vs[latest_of_dataset[cand]];
        if (prev.published_at <= t - kDay && prev.version < v.version) ds = cand;
      }
      if (ds >= 0) {
        const VersionSpec& prev = vs[latest_of_dataset[ds]];
        v.dataset_id = prev.dataset_id;
        v.previous = latest_of_dataset[ds];
        v.size = static_cast<std::uint64_t>(std::clamp(static_cast<double>(prev.size) * resize(rng), 1e6, 2 * kTB));
      } else {
        ds = dataset_counter++;
        char id[128];
        std::snprintf(id, sizeof id, "CMIP6.CMIP.INST%02d.MODEL%02d.exp%04d.r%di1p1f1.Amon.var%d.gn", site, site, ds / 100,
                      1 + ds % 10, ds % 100 / 10);
        v.dataset_id = id;
        v.size = static_cast<std::uint64_t>(std::clamp(size_dist(rng), 1e6, 2 * kTB));
        datasets_of[site].push_back(ds);
        latest_of_dataset.push_back(-1);
      }
      if (rng() % 100 < 2) v.retract_at = t + kDay + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(19 * kDay));
      latest_of_dataset[ds] = static_cast<int>(vs.size());
      vs.push_back(std::move(v));
    }
  }
  // By publication time; `previous` indices follow the permutation.
  std::vector<int> order(vs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return vs[a].published_at < vs[b].published_at; });
  std::vector<int> pos(vs.size());
  for (std::size_t i = 0; i < order.size(); ++i) pos[order[i]] = static_cast<int>(i);
  for (int i : order) {
    VersionSpec v = vs[i];
    if (v.previous >= 0) v.previous = pos[v.previous];
    w.versions.push_back(std::move(v));
  }

  // Failures, at fixed points of the period (days of a 6-week period, scaled).
  auto day = [&](double d) { return kStart + static_cast<std::int64_t>(d / 42.0 * static_cast<double>(period)); };
  w.failures = {
      {"short outage (3 h, within grace)", 2, day(4), 3 * kHour, 0},
      {"largest centre down 2 days", 0, day(10), 2 * kDay, 0},
      {"disk fault: 5 % of copies withdrawn", 4, day(17), 0, 0.05},
      {"second largest down 4 days", 1, day(24), 4 * kDay, 0},
      {"overlapping outage (20 h)", 6, day(31), 20 * kHour, 0},
      {"overlapping outage (10 h)", 3, day(31) + 2 * kHour, 10 * kHour, 0},
      {"late outage (8 h)", 8, day(38), 8 * kHour, 0},
  };
  if (!failures) w.failures.clear();
  std::int64_t last = kStart + period;
  for (const auto& v : w.versions) last = std::max(last, std::max(v.published_at, v.retract_at));
  w.end = last + 14 * kDay;
  return w;
}

// --- simulation ------------------------------------------------------------------------

enum class Strategy { rule, rucio, uncoordinated };
const char* name_of(Strategy s) {
  switch (s) {
    case Strategy::rule: return "fedswarm rule";
    case Strategy::rucio: return "Rucio-style weighted random";
    case Strategy::uncoordinated: return "uncoordinated Tier-1s";
  }
  return "";
}

struct Results {
  std::vector<std::int64_t> time_to_copy;  // per counted version; -1: never
  std::uint64_t extra_copies = 0, extra_on_failed = 0;
  double wasted_bytes = 0;
  std::vector<double> fill;  // per Tier-1
  std::uint64_t violating_end = 0;
  std::vector<std::int64_t> recovery;  // per failure; -1 never
  std::vector<std::size_t> affected;   // per failure
  std::uint64_t transfers = 0, claims = 0, releases = 0;
  std::uint64_t surplus_released = 0;  // repair copies dropped once their holder was back
  double seconds = 0;
};

enum EventKind : int { kVisible, kLinkFree, kTransferDone, kDown, kUp, kGraceEnd, kDiskFault, kRetract, kRuleLoop, kPoll, kRucioTick, kSettled };

struct Event {
  std::int64_t t;
  std::uint64_t seq;
  int kind, a, b;
  bool operator>(const Event& o) const { return std::tie(t, seq) > std::tie(o.t, o.seq); }
};

class Sim {
 public:
  Sim(const Workload& w, Strategy s, std::uint64_t seed, const TierOneConfig& config)
      : w_(w), s_(s), rng_(seed ^ 0x5eedull), rule_(config), ledger_(config) {
    nodes_.resize(kTier1);
    vs_.resize(w.versions.size());
    for (int i = 0; i < kTier1; ++i) {
      TierOneMember m;
      m.key = w.sites[i].key;
      m.site = w.sites[i].name;
      m.capacity = w.sites[i].capacity;
      members_.push_back(m);
    }
    for (std::size_t v = 0; v < w.versions.size(); ++v) {
      const VersionSpec& spec = w.versions[v];
      TierOneVersion tv;
      tv.dataset_id = spec.dataset_id;
      tv.version = spec.version;
      tv.size = spec.size;
      tv.primary = w.sites[spec.site].key;
      tv.primary_site = w.sites[spec.site].name;
      tv.published_at = spec.published_at;
      if (spec.previous >= 0) tv.previous_version = w.versions[spec.previous].version;
      vs_[v].tv = std::move(tv);
    }
  }

  Results run() {
    auto wall = std::chrono::steady_clock::now();
    for (std::size_t v = 0; v < w_.versions.size(); ++v) {
      push(w_.versions[v].published_at + kGossipDelay, kVisible, static_cast<int>(v));
      if (w_.versions[v].retract_at >= 0) push(w_.versions[v].retract_at, kRetract, static_cast<int>(v));
    }
    for (std::size_t f = 0; f < w_.failures.size(); ++f) {
      const Failure& fl = w_.failures[f];
      if (fl.duration > 0) {
        push(fl.at, kDown, fl.node, static_cast<int>(f));
        push(fl.at + fl.duration, kUp, fl.node);
      } else {
        push(fl.at, kDiskFault, fl.node, static_cast<int>(f));
      }
    }
    tracks_.resize(w_.failures.size());
    if (s_ == Strategy::rule) push(kStart, kRuleLoop);
    if (s_ == Strategy::uncoordinated)
      for (int n = 0; n < kTier1; ++n) push(kStart + n * (kPollInterval / kTier1), kPoll, n);
    if (s_ == Strategy::rucio) push(kStart, kRucioTick);

    while (!q_.empty()) {
      Event e = q_.top();
      if (e.t > w_.end) break;
      q_.pop();
      now_ = e.t;
      switch (e.kind) {
        case kVisible: on_visible(e.a); break;
        case kLinkFree: on_link_free(e.a, e.b); break;
        case kTransferDone: on_transfer_done(e.a); break;
        case kDown: on_down(e.a, e.b); break;
        case kUp: on_up(e.a); break;
        case kGraceEnd: on_grace_end(e.a, e.b); break;
        case kSettled: on_settled(e.a, e.b); break;
        case kDiskFault: on_disk_fault(e.a, e.b); break;
        case kRetract: on_retract(e.a); break;
        case kRuleLoop:
          rule_tick();
          push(now_ + kRuleTick, kRuleLoop);
          break;
        case kPoll:
          poll(e.a);
          push(now_ + kPollInterval, kPoll, e.a);
          break;
        case kRucioTick:
          rucio_retry();
          push(now_ + kRucioRetry, kRucioTick);
          break;
      }
    }
    now_ = w_.end;
    return results(std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count());
  }

 private:
  struct Transfer {
    int version, node;
    double remaining;  // bytes
    bool cancelled = false;
    bool verifying = false;  // all bytes in, replica record not yet signed
  };
  struct Node {
    bool up = true;
    std::int64_t down_since = 0;
    int down_epoch = 0;
    std::deque<int> queue;  // transfer ids, FIFO
    int active = -1;
    std::int64_t active_start = 0;
    double active_rate = 0;
    std::uint64_t done_epoch = 0;
    double queued_bytes = 0;  // remaining bytes of queued and active transfers
    std::uint64_t held_bytes = 0;
    std::vector<int> held;  // versions ever completed here (check `holders` for current)
    std::vector<int> verified_while_down;  // transfers to complete when the node is back
  };
  struct VState {
    TierOneVersion tv;
    bool visible = false, retracted = false;
    std::vector<int> holders;       // Tier-1 nodes with a complete copy
    std::vector<int> transfers;     // live transfer ids
    std::int64_t first_copy = -1;
    bool failure_touched = false;
    // The catalog as the rule reads it: latest record per node.
    std::vector<ReplicaLocation> reps;
    std::vector<ClaimInfo> claims;
    bool open = false;
    int rucio_target = -1;
  };
  struct Track {
    std::unordered_set<int> remaining;
    std::int64_t start = 0, recovered = -1;
    bool started = false;
  };

  void push(std::int64_t t, int kind, int a = 0, int b = 0) { q_.push({t, seq_++, kind, a, b}); }
  std::uint64_t size(int v) const { return w_.versions[v].size; }
  bool same_site(int node, int v) const { return w_.versions[v].site == node; }
  bool has(const std::vector<int>& xs, int x) const { return std::find(xs.begin(), xs.end(), x) != xs.end(); }
  bool present(int node) const { return nodes_[node].up || now_ < nodes_[node].down_since + rule_.config().grace_seconds; }
  bool counted_copy(int v) const {
    for (int h : vs_[v].holders)
      if (present(h)) return true;
    return false;
  }
  bool up_copy(int v) const {
    for (int h : vs_[v].holders)
      if (nodes_[h].up) return true;
    return false;
  }
  int transfer_at(int v, int node) const {
    for (int id : vs_[v].transfers)
      if (transfers_[id].node == node) return id;
    return -1;
  }
  double free_static(int node) const {
    return static_cast<double>(w_.sites[node].capacity) - static_cast<double>(nodes_[node].held_bytes) - nodes_[node].queued_bytes;
  }

  // --- transfers ----------------------------------------------------------------------
  void enqueue(int node, int v) {
    if (transfer_at(v, node) >= 0 || has(vs_[v].holders, node)) return;
    int id = static_cast<int>(transfers_.size());
    transfers_.push_back({v, node, static_cast<double>(size(v))});
    vs_[v].transfers.push_back(id);
    nodes_[node].queue.push_back(id);
    nodes_[node].queued_bytes += static_cast<double>(size(v));
    start_next(node);
  }
  double factor(int v, int node) const {
    return 0.6 + 0.4 * static_cast<double>(splitmix(static_cast<std::uint64_t>(v) * 131 + static_cast<std::uint64_t>(node)) >> 11) / 9007199254740992.0;
  }
  void start_next(int node) {
    Node& n = nodes_[node];
    if (!n.up || n.active >= 0) return;
    while (!n.queue.empty()) {
      int id = n.queue.front();
      n.queue.pop_front();
      Transfer& tr = transfers_[id];
      if (tr.cancelled) continue;
      // The uncoordinated baseline looks once more before spending the bandwidth.
      if (s_ == Strategy::uncoordinated && (vs_[tr.version].retracted || counted_copy(tr.version))) {
        wasted_ += static_cast<double>(size(tr.version)) - tr.remaining;  // progress before a pause
        drop_transfer(id);
        continue;
      }
      n.active = id;
      n.active_start = now_;
      n.active_rate = w_.sites[node].rate * factor(tr.version, node);
      n.done_epoch++;
      push(now_ + kLinkOverhead + static_cast<std::int64_t>(std::ceil(tr.remaining / n.active_rate)), kLinkFree, node,
           static_cast<int>(n.done_epoch));
      return;
    }
  }
  // Bytes moved so far by the active transfer; takes them off `remaining`.
  void settle_active(int node) {
    Node& n = nodes_[node];
    if (n.active < 0) return;
    Transfer& tr = transfers_[n.active];
    double moved = std::clamp(static_cast<double>(now_ - n.active_start - kLinkOverhead) * n.active_rate, 0.0, tr.remaining);
    tr.remaining -= moved;
    n.queued_bytes -= moved;
  }
  void drop_transfer(int id) {
    Transfer& tr = transfers_[id];
    tr.cancelled = true;
    nodes_[tr.node].queued_bytes -= tr.remaining;
    auto& list = vs_[tr.version].transfers;
    list.erase(std::find(list.begin(), list.end(), id));
  }
  void cancel(int node, int v) {
    int id = transfer_at(v, node);
    if (id < 0) return;
    Node& n = nodes_[node];
    if (n.active == id) {
      settle_active(node);
      n.active = -1;
      n.done_epoch++;
    }
    wasted_ += static_cast<double>(size(v)) - transfers_[id].remaining;
    drop_transfer(id);
    start_next(node);
  }

  void on_link_free(int node, int epoch) {
    Node& n = nodes_[node];
    if (static_cast<std::uint64_t>(epoch) != n.done_epoch || n.active < 0) return;
    Transfer& tr = transfers_[n.active];
    n.queued_bytes -= tr.remaining;
    tr.remaining = 0;
    tr.verifying = true;
    push(now_ + kVerifyLatency, kTransferDone, n.active);
    n.active = -1;
    start_next(node);
  }

  void on_transfer_done(int id) {
    const Transfer& tr = transfers_[id];
    if (tr.cancelled) return;
    if (!nodes_[tr.node].up)
      nodes_[tr.node].verified_while_down.push_back(id);
    else
      complete(id);
  }

  void complete(int id) {
    const int node = transfers_[id].node, v = transfers_[id].version;
    Node& n = nodes_[node];
    drop_transfer(id);
    ++completed_;
    VState& s = vs_[v];
    if (counted_copy(v)) {
      ++extra_made_;
      wasted_ += static_cast<double>(size(v));
    }
    s.holders.push_back(node);
    n.held_bytes += size(v);
    n.held.push_back(v);
    if (s.first_copy < 0) s.first_copy = now_;
    for (auto& tr : tracks_)
      if (tr.started && tr.recovered < 0 && tr.remaining.erase(v) && tr.remaining.empty()) tr.recovered = now_;
    if (s_ == Strategy::rule) {
      put_replica(v, node, ReplicaState::complete);
      rule_evaluate(v);
    }
    if (s_ == Strategy::uncoordinated) unreplicated_.erase(v);
  }

  // --- failures -----------------------------------------------------------------------
  void begin_track(int f, const std::vector<int>& affected) {
    Track& tr = tracks_[f];
    tr.started = true;
    tr.start = now_;
    for (int v : affected)
      if (!vs_[v].retracted && !up_copy(v)) {
        tr.remaining.insert(v);
        vs_[v].failure_touched = true;
      }
    if (tr.remaining.empty()) tr.recovered = now_;
    affected_[f] = tr.remaining.size();
  }

  void on_down(int node, int f) {
    Node& n = nodes_[node];
    // What the failure touches: versions whose only up copy is here, and versions
    // being fetched here that have no copy yet.
    std::vector<int> affected;
    for (int v : n.held)
      if (has(vs_[v].holders, node)) {
        bool other = false;
        for (int h : vs_[v].holders) other |= h != node && nodes_[h].up;
        if (!other) affected.push_back(v);
      }
    // Queued, active or verifying here (a rare event: a scan of all transfers is fine).
    for (const Transfer& tr : transfers_)
      if (tr.node == node && !tr.cancelled && transfer_at(tr.version, node) >= 0) affected.push_back(tr.version);
    settle_active(node);
    if (n.active >= 0) {
      n.queue.push_front(n.active);  // resumes first, from where it stopped
      n.active = -1;
      n.done_epoch++;
    }
    n.up = false;
    n.down_since = now_;
    members_[node].alive = false;
    members_[node].down_since = now_;
    ++n.down_epoch;
    begin_track(f, affected);
    push(now_ + rule_.config().grace_seconds, kGraceEnd, node, n.down_epoch);
  }

  void on_up(int node) {
    Node& n = nodes_[node];
    n.up = true;
    members_[node].alive = true;
    members_[node].up_since = now_;
    if (s_ == Strategy::rule) push(now_ + rule_.config().surplus_settle_seconds, kSettled, node, n.down_epoch);
    std::vector<int> verified;
    verified.swap(n.verified_while_down);
    for (int id : verified)
      if (!transfers_[id].cancelled) complete(id);
    for (auto& tr : tracks_) {
      if (!tr.started || tr.recovered >= 0) continue;
      for (auto it = tr.remaining.begin(); it != tr.remaining.end();)
        it = has(vs_[*it].holders, node) ? tr.remaining.erase(it) : std::next(it);
      if (tr.remaining.empty()) tr.recovered = now_;
    }
    if (s_ == Strategy::rule) {
      // The node's engine starts and evaluates what it was doing.
      std::vector<int> mine;
      for (int id : n.queue)
        if (!transfers_[id].cancelled) mine.push_back(transfers_[id].version);
      for (int v : mine) rule_evaluate(v);
    }
    if (s_ == Strategy::uncoordinated)
      for (int v : n.held)
        if (has(vs_[v].holders, node)) unreplicated_.erase(v);
    start_next(node);
  }

  // A node back up for surplus_settle_seconds: the repair copies of what it holds are
  // surplus now (the rule's timer; only compliant versions it holds can have any).
  void on_settled(int node, int epoch) {
    Node& n = nodes_[node];
    if (!n.up || n.down_epoch != epoch) return;
    std::vector<int> held;
    for (int v : n.held)
      if (has(vs_[v].holders, node) && vs_[v].holders.size() > 1) held.push_back(v);
    for (int v : held) rule_evaluate(v);
  }

  void on_grace_end(int node, int epoch) {
    Node& n = nodes_[node];
    if (n.up || n.down_epoch != epoch) return;
    if (s_ == Strategy::rule) {
      std::set<int> touched;
      for (int v : n.held)
        if (has(vs_[v].holders, node)) touched.insert(v);
      for (int id : n.queue)
        if (!transfers_[id].cancelled) touched.insert(transfers_[id].version);
      for (int v : touched) rule_evaluate(v);
    }
    if (s_ == Strategy::rucio) {
      // Stuck transfers to the unavailable centre are re-placed elsewhere.
      std::vector<int> stuck;
      for (int id : n.queue)
        if (!transfers_[id].cancelled) stuck.push_back(transfers_[id].version);
      for (int v : stuck) {
        cancel(node, v);
        rucio_place(v);
      }
    }
    if (s_ == Strategy::uncoordinated)
      for (int v : n.held)
        if (has(vs_[v].holders, node) && !vs_[v].retracted && !counted_copy(v)) unreplicated_.insert(v);
  }

  void on_disk_fault(int node, int f) {
    Node& n = nodes_[node];
    std::vector<int> current;
    for (int v : n.held)
      if (has(vs_[v].holders, node)) current.push_back(v);
    std::shuffle(current.begin(), current.end(), rng_);
    current.resize(static_cast<std::size_t>(static_cast<double>(current.size()) * w_.failures[f].fraction));
    for (int v : current) {
      auto& h = vs_[v].holders;
      h.erase(std::find(h.begin(), h.end(), node));
      n.held_bytes -= size(v);
    }
    begin_track(f, current);
    for (int v : current) {
      vs_[v].failure_touched = true;
      if (s_ == Strategy::rule) {
        put_replica(v, node, ReplicaState::dropped);
        rule_evaluate(v);
      }
      if (s_ == Strategy::rucio && !vs_[v].retracted) enqueue(node, v);  // recovered in place
      if (s_ == Strategy::uncoordinated && !vs_[v].retracted && !counted_copy(v)) unreplicated_.insert(v);
    }
  }

  void on_retract(int v) {
    VState& s = vs_[v];
    s.retracted = true;
    s.tv.status = VersionStatus::retracted;
    for (auto& tr : tracks_)
      if (tr.started && tr.recovered < 0 && tr.remaining.erase(v) && tr.remaining.empty()) tr.recovered = now_;
    if (!s.visible) return;
    if (s_ == Strategy::rule) {
      ledger_.put_version(s.tv.instance_id(), size(v), true);
      rule_evaluate(v);
    } else {
      std::vector<int> ids = s.transfers;
      for (int id : ids) cancel(transfers_[id].node, v);
      unreplicated_.erase(v);
      rucio_waiting_.erase(v);
    }
  }

  void on_visible(int v) {
    VState& s = vs_[v];
    s.visible = true;
    if (s.retracted) return;
    const int prev = w_.versions[v].previous;
    if (prev >= 0 && !vs_[prev].retracted) vs_[prev].tv.status = VersionStatus::superseded;
    switch (s_) {
      case Strategy::rule:
        ledger_.put_version(s.tv.instance_id(), size(v), false);
        rule_evaluate(v);
        break;
      case Strategy::rucio: rucio_place(v); break;
      case Strategy::uncoordinated: unreplicated_.insert(v); break;
    }
  }

  // --- fedswarm: the real rule ----------------------------------------------------------
  void put_replica(int v, int node, ReplicaState st) {
    ReplicaLocation r{w_.sites[node].key, w_.sites[node].name, st, now_};
    auto& reps = vs_[v].reps;
    auto it = std::find_if(reps.begin(), reps.end(), [&](const ReplicaLocation& x) { return x.node == r.node; });
    if (it == reps.end())
      reps.push_back(r);
    else
      *it = r;
    ledger_.put_replica(vs_[v].tv.instance_id(), r);
  }
  void put_claim(int v, int node, ClaimAction action, std::int64_t deadline) {
    ClaimInfo c{w_.sites[node].key, action, deadline, now_};
    auto& claims = vs_[v].claims;
    auto it = std::find_if(claims.begin(), claims.end(), [&](const ClaimInfo& x) { return x.node == c.node; });
    if (it == claims.end())
      claims.push_back(c);
    else
      *it = c;
    ledger_.put_claim(vs_[v].tv.instance_id(), c);
    if (action == ClaimAction::take) ++claims_made_;
    else ++releases_;
  }
  int node_of(const PublicKey& k) const {
    for (int i = 0; i < kTier1; ++i)
      if (w_.sites[i].key == k) return i;
    return -1;
  }

  void rule_evaluate(int v) {
    VState& s = vs_[v];
    if (!s.visible) return;
    std::vector<PublicKey> prev;
    const int p = w_.versions[v].previous;
    if (p >= 0)
      for (int h : vs_[p].holders) prev.push_back(w_.sites[h].key);
    // Actions change the records (a claim, a release); judge again until nothing
    // changes. Each node acts at most once per round, so this ends.
    for (int round = 0; round < 2 * kTier1 + 2; ++round) {
      ledger_.fill(members_, now_);
      TierOneCase c;
      c.version = s.tv;
      c.replicas = s.reps;
      c.claims = s.claims;
      c.previous_holders = prev;
      TierOneDecision d = rule_.judge(c, members_, now_);
      s.open = d.status == TierOneStatus::pending || d.status == TierOneStatus::violating;
      if (s.open)
        open_.insert(v);
      else
        open_.erase(v);
      // Who may have something to do: the assignee, claimants, nodes fetching it. A
      // node that is down runs no engine.
      std::set<int> actors;
      if (auto a = d.assignee()) actors.insert(node_of(*a));
      for (const auto& cl : s.claims)
        if (cl.action == ClaimAction::take) actors.insert(node_of(cl.node));
      for (int id : s.transfers) actors.insert(transfers_[id].node);
      for (const auto& k : d.surplus) actors.insert(node_of(k));
      // Records are applied after every actor has acted on this decision: `c` views
      // the claim list, which a new record could reallocate.
      std::vector<std::tuple<int, ClaimAction, std::int64_t>> records;
      std::vector<int> drops;
      for (int node : actors) {
        if (node < 0 || !nodes_[node].up) continue;
        TierOneLocal local{w_.sites[node].key, 0.8 * w_.sites[node].rate,
                           static_cast<std::uint64_t>(std::max(0.0, nodes_[node].queued_bytes)), std::nullopt};
        bool wants = false;
        for (const auto& act : rule_.actions(d, c, members_, local, now_)) {
          switch (act.kind) {
            case TierOneActionKind::claim:
              records.emplace_back(node, ClaimAction::take, act.deadline);
              enqueue(node, v);
              wants = true;
              break;
            case TierOneActionKind::fetch:
              wants = true;
              enqueue(node, v);
              break;
            case TierOneActionKind::abandon:
            case TierOneActionKind::release:
            case TierOneActionKind::give_up:
            case TierOneActionKind::decline:
              records.emplace_back(node, ClaimAction::release, now_);
              break;
            case TierOneActionKind::drop_surplus: drops.push_back(node); break;
          }
        }
        // The engine fetches for the rule only what the rule says.
        if (!wants && transfer_at(v, node) >= 0) cancel(node, v);
      }
      for (const auto& [node, action, deadline] : records) put_claim(v, node, action, deadline);
      for (int node : drops) {
        auto& h = s.holders;
        h.erase(std::find(h.begin(), h.end(), node));
        nodes_[node].held_bytes -= size(v);
        put_replica(v, node, ReplicaState::dropped);
        ++surplus_released_;
      }
      if (records.empty() && drops.empty()) break;
    }
  }

  void rule_tick() {
    std::vector<int> open(open_.begin(), open_.end());
    for (int v : open) rule_evaluate(v);
  }

  // --- Rucio-style ------------------------------------------------------------------
  void rucio_place(int v) {
    if (vs_[v].retracted || !vs_[v].holders.empty()) return;
    std::vector<double> weights(kTier1, 0.0);
    double total = 0;
    for (int n = 0; n < kTier1; ++n)
      if (nodes_[n].up && !same_site(n, v) && free_static(n) >= static_cast<double>(size(v)))
        total += weights[n] = static_cast<double>(w_.sites[n].capacity);
    if (total == 0) {
      rucio_waiting_.insert(v);
      return;
    }
    rucio_waiting_.erase(v);
    std::discrete_distribution<int> pick(weights.begin(), weights.end());
    int n = pick(rng_);
    vs_[v].rucio_target = n;
    enqueue(n, v);
  }
  void rucio_retry() {
    std::vector<int> waiting(rucio_waiting_.begin(), rucio_waiting_.end());
    for (int v : waiting) rucio_place(v);
  }

  // --- uncoordinated ----------------------------------------------------------------
  void poll(int node) {
    if (!nodes_[node].up) return;
    const std::vector<int> candidates(unreplicated_.begin(), unreplicated_.end());
    for (int v : candidates) {
      if (same_site(node, v) || has(vs_[v].holders, node) || transfer_at(v, node) >= 0) continue;
      if (free_static(node) >= static_cast<double>(size(v))) enqueue(node, v);
    }
  }

  // --- figures ----------------------------------------------------------------------
  Results results(double seconds) {
    Results r;
    for (std::size_t v = 0; v < vs_.size(); ++v) {
      const VState& s = vs_[v];
      const VersionSpec& spec = w_.versions[v];
      if (s.retracted && s.first_copy < 0) continue;  // withdrawn before anyone copied it
      if (s.first_copy >= 0 && s.retracted && spec.retract_at < s.first_copy) continue;
      r.time_to_copy.push_back(s.first_copy < 0 ? -1 : s.first_copy - spec.published_at);
    }
    for (std::size_t v = 0; v < vs_.size(); ++v) {
      const VState& s = vs_[v];
      if (s.retracted) continue;
      if (s.holders.size() > 1) {
        r.extra_copies += s.holders.size() - 1;
        if (s.failure_touched) r.extra_on_failed += s.holders.size() - 1;
      }
      if (!up_copy(static_cast<int>(v))) ++r.violating_end;
    }
    r.wasted_bytes = wasted_;
    for (int n = 0; n < kTier1; ++n)
      r.fill.push_back(static_cast<double>(nodes_[n].held_bytes) / static_cast<double>(w_.sites[n].capacity));
    for (std::size_t f = 0; f < tracks_.size(); ++f) {
      r.recovery.push_back(tracks_[f].recovered < 0 ? -1 : tracks_[f].recovered - tracks_[f].start);
      r.affected.push_back(affected_.count(static_cast<int>(f)) ? affected_.at(static_cast<int>(f)) : 0);
    }
    r.transfers = completed_;
    r.surplus_released = surplus_released_;
    r.claims = claims_made_;
    r.releases = releases_;
    r.seconds = seconds;
    return r;
  }

  const Workload& w_;
  Strategy s_;
  std::mt19937_64 rng_;
  TierOneRule rule_;
  CapacityLedger ledger_;
  std::vector<TierOneMember> members_;
  std::vector<Node> nodes_;
  std::vector<VState> vs_;
  std::vector<Transfer> transfers_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> q_;
  std::uint64_t seq_ = 0;
  std::int64_t now_ = kStart;
  std::set<int> open_, unreplicated_, rucio_waiting_;
  std::vector<Track> tracks_;
  std::map<int, std::size_t> affected_;
  double wasted_ = 0;
  std::uint64_t completed_ = 0, extra_made_ = 0, claims_made_ = 0, releases_ = 0, surplus_released_ = 0;
};

// --- output ---------------------------------------------------------------------------

std::string duration(std::int64_t s) {
  char buf[32];
  if (s < 0) return "never";
  if (s < 120)
    std::snprintf(buf, sizeof buf, "%lld s", static_cast<long long>(s));
  else if (s < 2 * kHour)
    std::snprintf(buf, sizeof buf, "%.1f min", static_cast<double>(s) / 60);
  else if (s < 2 * kDay)
    std::snprintf(buf, sizeof buf, "%.1f h", static_cast<double>(s) / kHour);
  else
    std::snprintf(buf, sizeof buf, "%.1f d", static_cast<double>(s) / kDay);
  return buf;
}

std::int64_t percentile(std::vector<std::int64_t> xs, double p) {
  if (xs.empty()) return 0;
  // "never" sorts last.
  std::sort(xs.begin(), xs.end(), [](std::int64_t a, std::int64_t b) {
    if ((a < 0) != (b < 0)) return b < 0;
    return a < b;
  });
  std::size_t i = static_cast<std::size_t>(std::ceil(p * static_cast<double>(xs.size()))) - 1;
  return xs[std::min(i, xs.size() - 1)];
}

struct Figures {
  double spread = 0;
  std::int64_t p50 = 0, p99 = 0;
  std::uint64_t extra = 0, extra_on_failed = 0, violating_end = 0, surplus_released = 0;
};

Figures figures_of(const Results& r) {
  Figures f;
  f.spread = *std::max_element(r.fill.begin(), r.fill.end()) / *std::min_element(r.fill.begin(), r.fill.end());
  f.p50 = percentile(r.time_to_copy, 0.50);
  f.p99 = percentile(r.time_to_copy, 0.99);
  f.extra = r.extra_copies;
  f.extra_on_failed = r.extra_on_failed;
  f.violating_end = r.violating_end;
  f.surplus_released = r.surplus_released;
  return f;
}

// The rule alone on seeds [first, last], with the chosen weight and with w = free.
int compare_weights(std::uint64_t first, std::uint64_t last, int versions, int weeks, bool failures,
                    const TierOneConfig& config) {
  TierOneConfig plain = config;
  plain.rank_weight_exponent = 1;
  const int k = config.rank_weight_exponent;
  std::printf("## policy_sim — Tier-1 fill by rank weight: w = free^%d / capacity^%d against w = free\n\n", k, k - 1);
  std::printf("`policy_sim --compare-weights --seeds %llu-%llu --versions %d --weeks %d%s --grace-hours %g --exponent %d`\n\n",
              static_cast<unsigned long long>(first), static_cast<unsigned long long>(last), versions, weeks,
              failures ? "" : " --no-failures", static_cast<double>(config.grace_seconds) / kHour, k);
  std::printf("| seed | fill max/min, k = %d | fill max/min, k = 1 | publish → copy p50 / p99, k = %d | p50 / p99, k = 1 "
              "| surplus copies released, k = %d | extra copies at end, failure-caused in () (k = %d / 1) "
              "| violating at end (k = %d / 1) |\n",
              k, k, k, k, k);
  std::printf("|---|---|---|---|---|---|---|---|\n");
  double lo = 1e9, hi = 0, plo = 1e9, phi = 0;
  bool met = true, other_met = true;
  double seconds = 0;
  for (std::uint64_t seed = first; seed <= last; ++seed) {
    const Workload w = make_workload(seed, versions, weeks, failures);
    const Results rk = Sim(w, Strategy::rule, seed, config).run();
    const Results r1 = Sim(w, Strategy::rule, seed, plain).run();
    seconds += rk.seconds + r1.seconds;
    const Figures a = figures_of(rk), b = figures_of(r1);
    lo = std::min(lo, a.spread);
    hi = std::max(hi, a.spread);
    plo = std::min(plo, b.spread);
    phi = std::max(phi, b.spread);
    met = met && a.spread <= 1.15;
    other_met = other_met && b.spread <= 1.15;
    std::printf("| %llu | %.3f%s | %.3f%s | %s / %s | %s / %s | %llu | %llu (%llu) / %llu (%llu) | %llu / %llu |\n",
                static_cast<unsigned long long>(seed), a.spread, a.spread <= 1.15 ? "" : " (over)", b.spread,
                b.spread <= 1.15 ? "" : " (over)", duration(a.p50).c_str(), duration(a.p99).c_str(),
                duration(b.p50).c_str(), duration(b.p99).c_str(), static_cast<unsigned long long>(a.surplus_released),
                static_cast<unsigned long long>(a.extra), static_cast<unsigned long long>(a.extra_on_failed),
                static_cast<unsigned long long>(b.extra), static_cast<unsigned long long>(b.extra_on_failed),
                static_cast<unsigned long long>(a.violating_end), static_cast<unsigned long long>(b.violating_end));
    std::fflush(stdout);
  }
  std::printf("\nFill max/min over the seeds: k = %d %.3f–%.3f, target ≤ 1.15 at every seed: %s; k = 1 %.3f–%.3f: %s. "
              "%.1f s of simulation.\n",
              k, lo, hi, met ? "met" : "MISSED", plo, phi, other_met ? "met" : "missed", seconds);
  return met ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seed = 1;
  int versions = 100000, weeks = 6;
  bool failures = true, compare = false;
  std::uint64_t first_seed = 1, last_seed = 10;
  TierOneConfig config;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seed")
      seed = std::stoull(next());
    else if (a == "--versions")
      versions = std::stoi(next());
    else if (a == "--weeks")
      weeks = std::stoi(next());
    else if (a == "--no-failures")
      failures = false;
    else if (a == "--grace-hours")
      config.grace_seconds = static_cast<std::int64_t>(std::stod(next()) * kHour);
    else if (a == "--exponent")
      config.rank_weight_exponent = std::stoi(next());
    else if (a == "--compare-weights")
      compare = true;
    else if (a == "--seeds") {
      const std::string range = next();
      const auto dash = range.find('-');
      first_seed = std::stoull(range.substr(0, dash));
      last_seed = dash == std::string::npos ? first_seed : std::stoull(range.substr(dash + 1));
    } else {
      std::cerr << "usage: policy_sim [--seed S] [--versions N] [--weeks W] [--no-failures] [--grace-hours H] "
                   "[--exponent K] [--compare-weights [--seeds A-B]]\n";
      return 2;
    }
  }
  if (versions < 1 || weeks < 1 || config.grace_seconds < 0 || config.rank_weight_exponent < 1 ||
      first_seed > last_seed) {
    std::cerr << "--versions, --weeks and --exponent must be positive, --grace-hours not negative, --seeds A-B with A ≤ B\n";
    return 2;
  }
  if (compare) return compare_weights(first_seed, last_seed, versions, weeks, failures, config);

  const Workload w = make_workload(seed, versions, weeks, failures);
  double total = 0, biggest = 0;
  std::vector<double> sizes;
  int new_versions = 0, retracted = 0, tier1_published = 0;
  for (const auto& v : w.versions) {
    total += static_cast<double>(v.size);
    biggest = std::max(biggest, static_cast<double>(v.size));
    sizes.push_back(static_cast<double>(v.size));
    new_versions += v.previous >= 0;
    retracted += v.retract_at >= 0;
    tier1_published += v.site < kTier1;
  }
  std::sort(sizes.begin(), sizes.end());
  double capacity = 0;
  for (int i = 0; i < kTier1; ++i) capacity += static_cast<double>(w.sites[i].capacity);

  std::printf("## policy_sim — one Tier-1 copy per dataset version (issue 5)\n\n");
  std::printf("`policy_sim --seed %llu --versions %d --weeks %d%s --grace-hours %g --exponent %d`\n\n",
              static_cast<unsigned long long>(seed), versions, weeks, failures ? "" : " --no-failures",
              static_cast<double>(config.grace_seconds) / kHour, config.rank_weight_exponent);
  std::printf("Workload: %zu dataset versions in %d bursts over %d weeks from 50 sites (10 Tier-1, 40 Tier-2); "
              "%.1f TB in all, mean %.2f GB, median %.0f MB, p99 %.1f GB, largest %.0f GB; %d new versions of earlier "
              "datasets, %d retracted, %d published at Tier-1 sites. Tier-1 capacity %.0f TB (%.0f %% needed for one copy each).\n\n",
              w.versions.size(), w.bursts, weeks, total / kTB, total / static_cast<double>(w.versions.size()) / kGB,
              sizes[sizes.size() / 2] / 1e6, sizes[static_cast<std::size_t>(0.99 * static_cast<double>(sizes.size()))] / kGB,
              biggest / kGB, new_versions, retracted, tier1_published, capacity / kTB, 100 * total / capacity);
  std::printf("Tier-1 centres (capacity TB / ingest MB/s):");
  for (int i = 0; i < kTier1; ++i)
    std::printf(" %s %.0f/%.0f%s", w.sites[i].name.c_str(), static_cast<double>(w.sites[i].capacity) / kTB,
                w.sites[i].rate / 1e6, i + 1 < kTier1 ? "," : "\n\n");

  std::vector<Results> rs;
  for (Strategy s : {Strategy::rule, Strategy::rucio, Strategy::uncoordinated}) {
    Sim sim(w, s, seed, config);
    rs.push_back(sim.run());
  }

  std::printf("| strategy | publish → Tier-1 copy p50 | p99 | never copied | extra copies at end (on failure-touched versions) "
              "| bytes moved for nothing | Tier-1 fill max/min (relative to capacity) | violating at end | transfers | sim time |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  const Strategy order[] = {Strategy::rule, Strategy::rucio, Strategy::uncoordinated};
  for (std::size_t i = 0; i < rs.size(); ++i) {
    const Results& r = rs[i];
    std::size_t never = static_cast<std::size_t>(std::count(r.time_to_copy.begin(), r.time_to_copy.end(), -1));
    double fmax = *std::max_element(r.fill.begin(), r.fill.end()), fmin = *std::min_element(r.fill.begin(), r.fill.end());
    std::printf("| %s | %s | %s | %zu | %llu (%llu) | %.2f TB | %.3f (%.0f %% / %.0f %%) | %llu | %llu | %.1f s |\n", name_of(order[i]),
                duration(percentile(r.time_to_copy, 0.50)).c_str(), duration(percentile(r.time_to_copy, 0.99)).c_str(), never,
                static_cast<unsigned long long>(r.extra_copies), static_cast<unsigned long long>(r.extra_on_failed),
                r.wasted_bytes / kTB, fmin > 0 ? fmax / fmin : 0.0, 100 * fmax, 100 * fmin,
                static_cast<unsigned long long>(r.violating_end), static_cast<unsigned long long>(r.transfers), r.seconds);
  }
  std::printf("\nfedswarm rule: %llu claims, %llu releases signed, %llu surplus copies released (rank weight "
              "free^%d / capacity^%d).\n\n",
              static_cast<unsigned long long>(rs[0].claims), static_cast<unsigned long long>(rs[0].releases),
              static_cast<unsigned long long>(rs[0].surplus_released), config.rank_weight_exponent,
              config.rank_weight_exponent - 1);

  std::printf("After each failure: time until every version it touched again has a copy on an up Tier-1 "
              "(touched: sole copy on the failed node, or queued there without a copy; grace period %s)\n\n",
              duration(config.grace_seconds).c_str());
  std::printf("| failure | node | day | touched (rule / Rucio / uncoord.) | fedswarm rule | Rucio-style | uncoordinated |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (std::size_t f = 0; f < w.failures.size(); ++f) {
    const Failure& fl = w.failures[f];
    std::printf("| %s | %s | %.1f | %zu / %zu / %zu | %s | %s | %s |\n", fl.label.c_str(), w.sites[fl.node].name.c_str(),
                static_cast<double>(fl.at - kStart) / kDay, rs[0].affected[f], rs[1].affected[f], rs[2].affected[f],
                duration(rs[0].recovery[f]).c_str(), duration(rs[1].recovery[f]).c_str(), duration(rs[2].recovery[f]).c_str());
  }
  std::printf("\nTier-1 fill at the end (bytes held / capacity):\n\n| strategy |");
  for (int i = 0; i < kTier1; ++i) std::printf(" %s |", w.sites[i].name.c_str());
  std::printf("\n|---|");
  for (int i = 0; i < kTier1; ++i) std::printf("---|");
  std::printf("\n");
  for (std::size_t i = 0; i < rs.size(); ++i) {
    std::printf("| %s |", name_of(order[i]));
    for (double f : rs[i].fill) std::printf(" %.0f %% |", 100 * f);
    std::printf("\n");
  }
  const Results& rule = rs[0];
  const double spread = *std::max_element(rule.fill.begin(), rule.fill.end()) / *std::min_element(rule.fill.begin(), rule.fill.end());
  std::printf("\nfedswarm rule against its targets: extra copies not caused by failures %llu (target 0): %s; fill max/min "
              "%.3f (target ≤ 1.15): %s; violating at end %llu (target 0): %s.\n",
              static_cast<unsigned long long>(rule.extra_copies - rule.extra_on_failed),
              rule.extra_copies == rule.extra_on_failed ? "met" : "MISSED", spread, spread <= 1.15 ? "met" : "MISSED",
              static_cast<unsigned long long>(rule.violating_end), rule.violating_end == 0 ? "met" : "MISSED");
  return 0;
}
