// TierOneTracker against the reference, TierOneRule::evaluate on the whole snapshot: on
// seeded random streams of records (publications, new versions naming the one they
// supersede, replica records complete and dropped, claims and releases, retractions),
// liveness changes (down, back with a random up_since, a flap between two rounds, past
// the grace period) and time jumps past deadlines and settle periods, the local node
// acting on its actions as the engine would (dropping surplus copies, or keeping one a
// subscription wants), the tracker's verdicts, blocked flags, violation starts,
// committed bytes, counts and local actions equal the reference's after every step.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "TestSupport.hpp"
#include "fedswarm/policy/CapacityLedger.hpp"
#include "fedswarm/policy/TierOneTracker.hpp"
#include "fedswarm/policy/ViolatingSince.hpp"

using namespace fedswarm;

namespace {

constexpr std::int64_t T0 = 1'700'000'000;
constexpr std::uint64_t GB = 1'000'000'000ull;

PublicKey key(std::uint8_t n) {
  PublicKey k;
  k.bytes[0] = n;
  k.bytes[31] = static_cast<std::uint8_t>(n * 13 + 1);
  return k;
}

// A catalog in memory: versions by doc, the latest records per node and version.
struct World {
  struct Version {
    TierOneVersion v;
    std::map<PublicKey, ReplicaLocation> replicas;
    std::map<PublicKey, ClaimInfo> claims;
  };
  std::vector<Version> versions;
  std::vector<TierOneMember> members;  // Tier-1, with liveness
  std::int64_t now = T0;

  std::string id(std::uint32_t doc) const { return versions[doc].v.instance_id(); }
  std::vector<std::uint32_t> docs_of_dataset(const std::string& dataset) const {
    std::vector<std::uint32_t> out;
    for (std::uint32_t d = 0; d < versions.size(); ++d)
      if (versions[d].v.dataset_id == dataset) out.push_back(d);
    return out;
  }
  std::optional<std::uint32_t> doc_of(const std::string& dataset, const std::string& version) const {
    for (std::uint32_t d = 0; d < versions.size(); ++d)
      if (versions[d].v.dataset_id == dataset && versions[d].v.version == version) return d;
    return std::nullopt;
  }
  TierOneCaseData data(std::uint32_t doc) const {
    TierOneCaseData c;
    c.doc = doc;
    c.version = versions[doc].v;
    for (const auto& [k, r] : versions[doc].replicas) c.replicas.push_back(r);
    for (const auto& [k, cl] : versions[doc].claims) c.claims.push_back(cl);
    if (!c.version.previous_version.empty())
      if (auto p = doc_of(c.version.dataset_id, c.version.previous_version))
        for (const auto& [k, r] : versions[*p].replicas)
          if (r.state == ReplicaState::complete) c.previous_holders.push_back(k);
    return c;
  }
  // CapacityLedger's complete part, per member (what the catalog's node totals give).
  std::uint64_t complete_bytes(const PublicKey& node) const {
    std::uint64_t sum = 0;
    for (const auto& v : versions)
      if (auto it = v.replicas.find(node); it != v.replicas.end() && it->second.state == ReplicaState::complete)
        sum += v.v.size;
    return sum;
  }
  TierOneSnapshot snapshot() const {
    TierOneSnapshot s;
    s.members = members;
    for (const auto& v : versions) {
      s.versions.push_back(v.v);
      for (const auto& [k, r] : v.replicas) s.replicas.push_back({v.v.instance_id(), r});
      for (const auto& [k, c] : v.claims) s.claims.push_back({v.v.instance_id(), c});
    }
    return s;
  }
};

class WorldSource final : public TierOneCaseSource {
 public:
  explicit WorldSource(const World& w) : w_(w) {}
  Result<std::uint32_t> doc_count() override { return static_cast<std::uint32_t>(w_.versions.size()); }
  Result<std::vector<TierOneCaseData>> load(std::span<const std::uint32_t> docs) override {
    std::vector<TierOneCaseData> out;
    for (auto d : docs)
      if (d < w_.versions.size()) out.push_back(w_.data(d));
    loads += docs.size();
    return out;
  }
  Result<std::vector<TierOneCaseData>> load_range(std::uint32_t first, std::size_t max) override {
    std::vector<TierOneCaseData> out;
    for (std::uint32_t d = first; d < w_.versions.size() && out.size() < max; ++d) out.push_back(w_.data(d));
    loads += out.size();
    return out;
  }
  Result<std::vector<std::uint32_t>> docs_of(const PublicKey& member) override {
    std::vector<std::uint32_t> out;
    for (std::uint32_t d = 0; d < w_.versions.size(); ++d)
      if (w_.versions[d].replicas.count(member) || w_.versions[d].claims.count(member)) out.push_back(d);
    return out;
  }
  std::size_t loads = 0;

 private:
  const World& w_;
};

std::string describe(const TierOneAction& a) {
  std::ostringstream o;
  o << to_string(a.kind) << " " << a.instance_id() << " " << a.deadline;
  return o.str();
}

struct Stream {
  std::mt19937_64 rng;
  World w;
  TierOneConfig config;
  std::uint8_t local = 1;
  std::set<std::uint32_t> changed;
  int next_dataset = 0;
  int surplus_drops = 0, surplus_kept = 0;  // drop_surplus actions carried out / skipped

  explicit Stream(std::uint64_t seed) : rng(seed) {
    config.grace_seconds = 600;
    config.retry_after_seconds = 900;
    config.max_claim_seconds = 3 * 3600;
    config.claim_base_seconds = 300;
    config.surplus_settle_seconds = 400;
    const char* sites[] = {"A", "B", "C", "D", "E"};
    for (std::uint8_t n = 1; n <= 5; ++n) {
      TierOneMember m;
      m.key = key(n);
      m.site = sites[n - 1];
      m.capacity = (n == 5 ? 0 : 40 + 15 * n) * GB;
      w.members.push_back(m);
    }
  }

  std::uint64_t pick(std::uint64_t n) { return n == 0 ? 0 : rng() % n; }

  void touch(std::uint32_t doc) {
    for (auto d : w.docs_of_dataset(w.versions[doc].v.dataset_id)) changed.insert(d);
  }

  void publish() {
    World::Version v;
    const bool new_version = !w.versions.empty() && pick(3) == 0;
    if (new_version) {
      const auto& base = w.versions[pick(w.versions.size())].v;
      auto docs = w.docs_of_dataset(base.dataset_id);
      std::string newest;
      for (auto d : docs) newest = std::max(newest, w.versions[d].v.version);
      v.v = base;
      v.v.previous_version = newest;
      v.v.version = "v2" + std::to_string(1000000 + w.versions.size());
      for (auto d : docs)
        if (w.versions[d].v.status == VersionStatus::published) w.versions[d].v.status = VersionStatus::superseded;
    } else {
      v.v.dataset_id = "CMIP6.CMIP.X.M" + std::to_string(next_dataset++) + ".historical.r1i1p1f1.Amon.tas.gn";
      v.v.version = "v2" + std::to_string(1000000 + w.versions.size());
      // Primaries: a Tier-2 site mostly, sometimes a Tier-1's own site.
      const std::uint8_t primary = pick(5) == 0 ? static_cast<std::uint8_t>(1 + pick(5)) : 100;
      v.v.primary = key(primary);
      v.v.primary_site = primary == 100 ? "P" : w.members[primary - 1].site;
    }
    v.v.size = (1 + pick(20)) * GB;
    v.v.published_at = w.now;
    v.v.status = VersionStatus::published;
    w.versions.push_back(std::move(v));
    touch(static_cast<std::uint32_t>(w.versions.size() - 1));
  }

  void replica() {
    if (w.versions.empty()) return;
    const auto doc = static_cast<std::uint32_t>(pick(w.versions.size()));
    const PublicKey node = key(static_cast<std::uint8_t>(1 + pick(5)));
    w.versions[doc].replicas[node] = {node, "", pick(4) == 0 ? ReplicaState::dropped : ReplicaState::complete, w.now};
    touch(doc);
  }

  // A repair: the local node's copy next to an older one of another member (which is
  // surplus once that member is alive and settled).
  void second_copy() {
    if (w.versions.empty()) return;
    const auto doc = static_cast<std::uint32_t>(pick(w.versions.size()));
    const PublicKey other = key(static_cast<std::uint8_t>(2 + pick(4)));
    const PublicKey me = key(local);
    w.versions[doc].replicas[other] = {other, "", ReplicaState::complete, w.now - static_cast<std::int64_t>(pick(1000))};
    w.versions[doc].replicas[me] = {me, "", ReplicaState::complete, w.now};
    touch(doc);
  }

  void foreign_claim() {
    if (w.versions.empty()) return;
    const auto doc = static_cast<std::uint32_t>(pick(w.versions.size()));
    const PublicKey node = key(static_cast<std::uint8_t>(2 + pick(4)));  // not the local node
    ClaimInfo c{node, pick(3) == 0 ? ClaimAction::release : ClaimAction::take,
                w.now + static_cast<std::int64_t>(pick(4000)), w.now};
    w.versions[doc].claims[node] = c;
    touch(doc);
  }

  void retract() {
    if (w.versions.empty()) return;
    const auto doc = static_cast<std::uint32_t>(pick(w.versions.size()));
    w.versions[doc].v.status = VersionStatus::retracted;
    touch(doc);
  }

  void liveness() {
    auto& m = w.members[pick(w.members.size())];
    if (m.key == key(local)) return;  // the local node is alive to itself
    if (m.alive && pick(3) == 0) {
      // Down and back between two rounds: only up_since moved.
      m.up_since = w.now - static_cast<std::int64_t>(pick(30));
    } else if (m.alive) {
      m.alive = false;
      m.down_since = w.now - static_cast<std::int64_t>(pick(700));
    } else {
      m.alive = true;
      m.down_since = 0;
      m.up_since = w.now - static_cast<std::int64_t>(pick(500));
    }
  }

  // What the engine does with the local node's actions: sign claims and releases, and
  // finish a leading claim's fetch now and then.
  void act(const std::vector<TierOneAction>& actions) {
    for (const auto& a : actions) {
      auto doc = w.doc_of(a.dataset_id, a.version);
      REQUIRE(doc);
      auto& v = w.versions[*doc];
      const PublicKey me = key(local);
      switch (a.kind) {
        case TierOneActionKind::claim: v.claims[me] = {me, ClaimAction::take, a.deadline, w.now}; break;
        case TierOneActionKind::fetch:
          if (pick(3) == 0) v.replicas[me] = {me, "", ReplicaState::complete, w.now};
          break;
        case TierOneActionKind::drop_surplus:
          // Sometimes a subscription wants it: the engine keeps the copy, signs nothing.
          if (pick(3) == 0) {
            ++surplus_kept;
            continue;
          }
          ++surplus_drops;
          v.replicas[me] = {me, "", ReplicaState::dropped, w.now};
          break;
        default: v.claims[me] = {me, ClaimAction::release, w.now, w.now}; break;
      }
      if (a.kind != TierOneActionKind::fetch || v.replicas.count(me)) touch(*doc);
    }
  }
};

void check_round(Stream& s, TierOneTracker& tracker, WorldSource& source, bool acting) {
  World& w = s.w;
  TierOneTrackerInput in;
  in.now = w.now;
  for (auto m : w.members) {
    m.committed = w.complete_bytes(m.key);
    in.members.push_back(m);
  }
  in.changed.assign(s.changed.begin(), s.changed.end());
  s.changed.clear();
  TierOneLocal local;
  local.key = key(s.local);
  local.observed_rate = 50e6;
  local.backlog_bytes = 3 * GB;
  local.quota = 120 * GB;
  if (acting) in.local = local;
  // ETAs for the local node's live claims: sometimes past the deadline (give up).
  std::map<std::string, std::int64_t> etas;
  for (std::uint32_t d = 0; d < w.versions.size(); ++d)
    if (auto it = w.versions[d].claims.find(local.key); it != w.versions[d].claims.end() && it->second.action == ClaimAction::take) {
      const std::int64_t eta = w.now + static_cast<std::int64_t>(d * 37 % 5000);
      in.local_etas[d] = eta;
      etas[w.id(d)] = eta;
    }

  TierOneTrackerRound round;
  do {
    auto r = tracker.round(in, source);
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    round = std::move(*r);
    in.changed.clear();
  } while (round.rebuilding);

  // The reference on the whole snapshot.
  TierOneSnapshot snap = w.snapshot();
  for (const auto& [id, eta] : etas) snap.local_etas.emplace_back(id, eta);
  const TierOneReport ref =
      TierOneRule(s.config).evaluate(snap, w.now, acting ? std::optional<TierOneLocal>(local) : std::nullopt);

  // Members' committed bytes.
  REQUIRE(tracker.members().size() == ref.members.size());
  for (std::size_t i = 0; i < ref.members.size(); ++i) {
    CHECK(tracker.members()[i].key == ref.members[i].key);
    CHECK(tracker.members()[i].committed == ref.members[i].committed);
  }
  // Verdicts, blockers, violation starts, counts.
  std::map<std::string, std::uint32_t> doc_of;
  for (std::uint32_t d = 0; d < w.versions.size(); ++d) doc_of[w.id(d)] = d;
  TierOneCounts expect;
  std::int64_t oldest = 0;
  for (const auto& d : ref.decisions) {
    const std::uint32_t doc = doc_of.at(d.instance_id);
    INFO("version " << d.instance_id << " doc " << doc);
    REQUIRE(tracker.status(doc).has_value());
    CHECK(*tracker.status(doc) == d.status);
    CHECK(tracker.blocked(doc) == (d.status == TierOneStatus::violating && d.blocker != TierOneBlocker::none));
    ++expect.versions;
    switch (d.status) {
      case TierOneStatus::compliant: ++expect.compliant; break;
      case TierOneStatus::pending: ++expect.pending; break;
      case TierOneStatus::exempt: ++expect.exempt; break;
      case TierOneStatus::violating: {
        ++expect.violating;
        expect.blocked += d.blocker != TierOneBlocker::none;
        expect.violating_bytes += w.versions[doc].v.size;
        const TierOneCaseData c = w.data(doc);
        const std::int64_t since = violating_since(c.view(), ref.members, s.config, w.now);
        CHECK(tracker.violating_since(doc) == since);
        oldest = oldest == 0 ? since : std::min(oldest, since);
        break;
      }
    }
  }
  const TierOneCounts& got = tracker.counts();
  CHECK(got.versions == expect.versions);
  CHECK(got.compliant == expect.compliant);
  CHECK(got.pending == expect.pending);
  CHECK(got.violating == expect.violating);
  CHECK(got.exempt == expect.exempt);
  CHECK(got.blocked == expect.blocked);
  CHECK(got.violating_bytes == expect.violating_bytes);
  CHECK(got.oldest_violation == oldest);
  // Pages hold exactly the docs of their status.
  for (auto status : {TierOneStatus::compliant, TierOneStatus::pending, TierOneStatus::violating, TierOneStatus::exempt}) {
    auto page = tracker.page(status, 0, 1u << 20);
    for (auto d : page) CHECK(tracker.status(d) == status);
  }
  CHECK(tracker.page(TierOneStatus::violating, 0, 1u << 20).size() == expect.violating);

  // Local actions: the tracker's current ones are the reference's, in its order.
  if (acting) {
    std::vector<std::string> want, have, this_round;
    for (const auto& a : ref.actions) want.push_back(describe(a));
    std::map<std::string, std::vector<std::string>> by_id;
    for (const auto& [doc, acts] : tracker.actions())
      for (const auto& a : acts) by_id[a.instance_id()].push_back(describe(a));
    for (const auto& a : ref.actions) {
      auto& v = by_id[a.instance_id()];
      if (!v.empty()) {
        have.push_back(v.front());
        v.erase(v.begin());
      }
    }
    for (const auto& [id, rest] : by_id)
      for (const auto& r : rest) have.push_back("extra " + r);
    CHECK(have == want);
    for (const auto& a : round.actions) this_round.push_back(describe(a));
    // Every action given this round is a current one, in the reference's order.
    std::vector<std::string> ordered;
    for (const auto& x : want)
      if (std::find(this_round.begin(), this_round.end(), x) != this_round.end()) ordered.push_back(x);
    CHECK(ordered == this_round);
    s.act(round.actions);
  }
}

}  // namespace

TEST_CASE("TierOneTracker: incremental verdicts, committed bytes and actions equal the reference after every step") {
  const std::uint64_t seed = fedswarm::test::test_seed();
  MESSAGE("seed " << seed);
  int surplus_drops = 0, surplus_kept = 0;
  for (std::uint64_t run = 0; run < 6; ++run) {
    Stream s(seed + run);
    CAPTURE(run);
    WorldSource source(s.w);
    // Small rebuild chunks: the rebuild runs over several rounds, interleaved with changes.
    TierOneTracker tracker(s.config, 7);
    for (int i = 0; i < 12; ++i) s.publish();
    for (int step = 0; step < 160; ++step) {
      CAPTURE(step);
      const int n = 1 + static_cast<int>(s.pick(4));
      for (int k = 0; k < n; ++k) {
        switch (s.pick(10)) {
          case 0:
          case 1: s.publish(); break;
          case 2:
          case 3: s.replica(); break;
          case 4:
          case 5: s.foreign_claim(); break;
          case 6: s.retract(); break;
          case 7: s.liveness(); break;
          case 8: s.second_copy(); break;
          default: break;
        }
      }
      // Time: mostly small steps, sometimes past deadlines, grace and retry_after.
      s.w.now += s.pick(5) == 0 ? static_cast<std::int64_t>(s.pick(4000)) : static_cast<std::int64_t>(s.pick(60));
      if (step == 80) tracker.invalidate();  // a rebuild in the middle of the stream
      // Runs 0, 3: act throughout; 1, 4: judge only until step 40, then act; 2, 5: never act.
      const bool acting = run % 3 == 0 || (run % 3 == 1 && step >= 40);
      check_round(s, tracker, source, acting);
    }
    surplus_drops += s.surplus_drops;
    surplus_kept += s.surplus_kept;
  }
  // The stream reaches surplus copies, and both engine answers to them.
  MESSAGE("surplus copies dropped " << surplus_drops << ", kept " << surplus_kept);
  CHECK(surplus_drops > 0);
  CHECK(surplus_kept > 0);
}

TEST_CASE("TierOneTracker: a surplus copy is released exactly when the keeper settles, and not asked again") {
  Stream s(11);
  s.config.surplus_settle_seconds = 1000;
  WorldSource source(s.w);
  TierOneTracker tracker(s.config);
  s.publish();
  s.w.versions[0].v.primary = key(100);
  s.w.versions[0].v.primary_site = "P";
  const PublicKey me = key(s.local), keeper = key(3);
  // The keeper's copy is older; it came back at T0 + 50.
  s.w.versions[0].replicas[keeper] = {keeper, "", ReplicaState::complete, T0 - 500};
  s.w.versions[0].replicas[me] = {me, "", ReplicaState::complete, T0 - 100};
  s.w.members[2].up_since = T0 + 50;
  s.changed.insert(0);

  auto run = [&](std::int64_t now) {
    s.w.now = now;
    TierOneTrackerInput in;
    in.now = now;
    for (auto m : s.w.members) {
      m.committed = s.w.complete_bytes(m.key);
      in.members.push_back(m);
    }
    in.changed.assign(s.changed.begin(), s.changed.end());
    s.changed.clear();
    in.local = TierOneLocal{me, 50e6, 0, std::nullopt};
    auto r = tracker.round(in, source);
    REQUIRE(r.ok());
    return std::move(*r);
  };
  auto r = run(T0 + 100);
  CHECK(r.actions.empty());
  CHECK(tracker.next_due() == T0 + 50 + 1000);  // keeper.up_since + settle, to the second
  r = run(T0 + 50 + 999);
  CHECK(r.actions.empty());
  r = run(T0 + 50 + 1000);
  REQUIRE(r.actions.size() == 1);
  CHECK(r.actions[0].kind == TierOneActionKind::drop_surplus);
  // The engine kept it (a subscription wants it): the doc is not judged every round.
  r = run(T0 + 50 + 1010);
  CHECK(r.judged == 0);
  CHECK(r.actions.empty());
  REQUIRE(tracker.actions().count(0));
  // The keeper flaps (down and up between two rounds): judged again, due at the new
  // up_since + settle.
  s.w.members[2].up_since = T0 + 1200;
  r = run(T0 + 1205);
  CHECK(r.judged == 1);
  CHECK(r.actions.empty());
  CHECK(tracker.next_due() == T0 + 1200 + 1000);
  // A newer complete record of the keeper (placed again) moves the release too.
  s.w.versions[0].replicas[keeper] = {keeper, "", ReplicaState::complete, T0 + 1500};
  s.w.versions[0].replicas[me] = {me, "", ReplicaState::complete, T0 + 1400};  // now older: me keeps
  s.changed.insert(0);
  r = run(T0 + 1600);
  CHECK(r.actions.empty());
  s.w.versions[0].replicas[me] = {me, "", ReplicaState::complete, T0 + 1550};
  s.changed.insert(0);
  r = run(T0 + 1610);
  CHECK(r.actions.empty());
  // (The timer set while this node kept — keeper 3 surplus at T0 + 2400 — comes first.)
  r = run(tracker.next_due());
  CHECK(r.actions.empty());
  CHECK(tracker.next_due() == T0 + 1500 + 1000);  // the keeper's record time + settle
  r = run(T0 + 2499);
  CHECK(r.actions.empty());
  r = run(T0 + 2500);
  REQUIRE(r.actions.size() == 1);
  CHECK(r.actions[0].kind == TierOneActionKind::drop_surplus);
}

TEST_CASE("TierOneTracker: a quiet round judges only what changed, not the catalog") {
  Stream s(7);
  WorldSource source(s.w);
  TierOneTracker tracker(s.config);
  for (int i = 0; i < 300; ++i) s.publish();
  for (int i = 0; i < 300; ++i) s.replica();
  s.changed.clear();
  TierOneTrackerInput in;
  in.now = s.w.now;
  for (auto m : s.w.members) {
    m.committed = s.w.complete_bytes(m.key);
    in.members.push_back(m);
  }
  auto first = tracker.round(in, source);
  REQUIRE(first.ok());
  CHECK(first->judged >= 300);
  // Nothing changed: nothing judged.
  source.loads = 0;
  auto quiet = tracker.round(in, source);
  REQUIRE(quiet.ok());
  CHECK(quiet->judged == 0);
  CHECK(source.loads == 0);
  // One new version: it alone (and whatever moved with the committed bytes: here the
  // open versions, since the new one is open) is judged.
  s.publish();
  in.changed.assign(s.changed.begin(), s.changed.end());
  auto one = tracker.round(in, source);
  REQUIRE(one.ok());
  CHECK(one->judged >= 1);
  CHECK(one->judged <= 1 + tracker.counts().violating + tracker.counts().pending);
}
