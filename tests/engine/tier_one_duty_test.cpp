// TierOneDuty with a real catalog and SwarmEngine (no peers: nothing is ever downloaded,
// which is all these cases need) at a Tier-1 holder of a ReplicaPair — the only Tier-1
// member, so it is assigned every version the publisher published. Also the [policy]
// section of config.toml.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "Process.hpp"
#include "ReplicaPair.hpp"
#include "fedswarm/engine/Config.hpp"
#include "swarm/SwarmEngine.hpp"
#include "replication/TierOneDuty.hpp"

using namespace fedswarm;
using namespace fedswarm::test;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kNow = kTestNow + 5000;

// The holder's engine and duty (the engine on 127.0.64.9, a kernel-chosen port).
struct Duty {
  ReplicaPair pair;
  std::unique_ptr<SwarmEngine> engine;
  std::unique_ptr<TierOneDuty> duty;
  fs::path data_root;

  explicit Duty(std::uint64_t configured_capacity = 0, std::optional<fs::path> root = std::nullopt) {
    data_root = root ? *root : pair.holder().home->config().data_root;
    SwarmEngineOptions o;
    o.listen_ip = "127.0.64.9";
    o.port = 0;
    o.data_root = data_root;
    o.catalog = pair.holder().catalog.get();
    o.key = &pair.holder().home->key();
    o.projects = &pair.holder().home->projects();
    o.clock = [] { return kNow; };
    o.retry_interval = std::chrono::milliseconds(0);
    auto e = SwarmEngine::start(std::move(o));
    REQUIRE_MESSAGE(e.ok(), e.error().message);
    engine = std::move(*e);
    TierOneDutyOptions d;
    d.config.claim_base_seconds = 10;
    d.config.min_rate = 1e9;  // deadline = now + 11 s for these small versions
    d.catalog = pair.holder().catalog.get();
    d.key = &pair.holder().home->key();
    d.swarm = engine.get();
    d.data_root = data_root;
    d.configured_capacity = configured_capacity;
    duty = std::make_unique<TierOneDuty>(d);
  }
  ~Duty() {
    duty.reset();
    if (engine) (void)engine->stop();
  }

  TierOneRound evaluate(std::int64_t now, bool act = true, std::set<std::string> subscribed = {}) {
    TierOneInputs in;
    in.now = now;
    in.act = act;
    in.subscribed = std::move(subscribed);
    auto r = duty->round(in);
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    for (const auto& e : r->errors) MESSAGE("action error: " << e.message);
    return std::move(*r);
  }

  // The tracker's verdict of every version.
  std::vector<TierOneStatus> statuses() {
    std::vector<TierOneStatus> out;
    for (const auto& id : all_ids()) {
      auto doc = pair.holder().cat().doc_of(id);
      REQUIRE(doc.ok());
      REQUIRE(doc->has_value());
      auto st = duty->tracker().status(**doc);
      REQUIRE(st.has_value());
      out.push_back(*st);
    }
    return out;
  }
  // The node's current actions, every version.
  std::vector<TierOneAction> actions() {
    std::vector<TierOneAction> out;
    for (const auto& [doc, acts] : duty->tracker().actions()) out.insert(out.end(), acts.begin(), acts.end());
    return out;
  }

  std::set<std::string> fetching() {
    std::set<std::string> out;
    for (const auto& t : engine->transfers())
      if (t.kind == TransferKind::fetch) out.insert(t.instance_id);
    return out;
  }

  // The holder's latest claim per version: instance id -> action.
  std::map<std::string, ClaimAction> claims() {
    auto s = pair.holder().cat().replication_state();
    REQUIRE(s.ok());
    std::map<std::string, ClaimAction> out;
    for (const auto& c : s->claims)
      if (c.claim.node == pair.holder().home->key().public_key()) out[c.instance_id] = c.claim.action;
    return out;
  }

  std::uint64_t own_seq() {
    auto vv = pair.holder().cat().version_vector();
    REQUIRE(vv.ok());
    auto it = vv->find(pair.holder().home->key().public_key());
    return it == vv->end() ? 0 : it->second;
  }

  std::set<std::string> all_ids() const {
    std::set<std::string> out;
    for (const auto& v : pair.sample()) out.insert(v.instance_id());
    return out;
  }
};

}  // namespace

TEST_CASE("tier-1 duty - claims what it is assigned once, fetches it, and signs nothing again while pending") {
  Duty d;
  const auto ids = d.all_ids();
  REQUIRE(ids.size() == 4);

  // Not acting yet: verdicts only.
  auto idle = d.evaluate(kNow, false);
  CHECK(idle.judged >= 4);  // every version, and the open ones again at the end of the rebuild
  CHECK_FALSE(idle.rebuilding);
  CHECK(idle.signed_records == 0);
  CHECK(d.actions().empty());
  REQUIRE(d.duty->tracker().counts().versions == 4);
  for (auto st : d.statuses()) CHECK(st == TierOneStatus::violating);
  CHECK(d.fetching().empty());
  CHECK(d.own_seq() == 0);

  auto first = d.evaluate(kNow);
  CHECK(first.signed_records == 4);
  CHECK(first.done.size() == 4);
  CHECK(d.fetching() == ids);
  CHECK(d.duty->fetches() == ids);
  for (const auto& id : ids) CHECK(d.claims()[id] == ClaimAction::take);
  std::uint64_t total = 0;
  for (const auto& v : d.pair.sample()) {
    auto info = d.pair.holder().cat().version(v.instance_id());
    REQUIRE(info.ok());
    total += (*info)->size;
  }

  // The claims are in the catalog: pending, this node leads, keep fetching, no record.
  auto again = d.evaluate(kNow + 1);
  CHECK(again.signed_records == 0);
  CHECK(d.own_seq() == 4);
  for (auto st : d.statuses()) CHECK(st == TierOneStatus::pending);
  for (const auto& a : d.actions()) CHECK(a.kind == TierOneActionKind::fetch);
  CHECK(d.fetching() == ids);
  const auto& cap = d.duty->capacity();
  CHECK(cap.committed == total);  // live claims reserve their size
  CHECK(cap.roster == 1ull << 40);
  CHECK(cap.data_root_free.has_value());
  CHECK(cap.quota <= 1ull << 40);
  CHECK(cap.backlog == total);  // nothing downloaded: no peers
}

TEST_CASE("tier-1 duty - an expired claim's fetch is cancelled (row dropped, staging gone) unless a subscription wants it") {
  Duty d;
  const auto ids = d.all_ids();
  d.evaluate(kNow);
  REQUIRE(d.fetching() == ids);
  const std::string kept = *ids.begin();

  // Deadline (now + 11 s) long past: every claim lapsed, the node passed, nobody else is
  // eligible: blocked, no action for anyone — so the rule fetches go.
  auto later = d.evaluate(kNow + 100, true, {kept});
  CHECK(later.signed_records == 0);
  for (auto st : d.statuses()) CHECK(st == TierOneStatus::violating);
  CHECK(d.duty->tracker().counts().blocked == 4);
  CHECK(d.fetching() == std::set<std::string>{kept});  // the subscription's stays
  CHECK(d.duty->fetches().empty());
  for (const auto& id : ids) {
    if (id == kept) continue;
    INFO(id);
    auto l = d.pair.holder().cat().local(id);
    REQUIRE(l.ok());
    REQUIRE(l->has_value());
    CHECK((*l)->state == LocalState::dropped);
    CHECK((*l)->resume_data.empty());
    CHECK_FALSE(fs::exists(d.data_root / ".staging" / id));
  }
  // A restore (what `notify` or a restart does) does not bring them back.
  auto restored = d.engine->restore();
  REQUIRE(restored.ok());
  CHECK(d.fetching() == std::set<std::string>{kept});
}

TEST_CASE("tier-1 duty - over its quota it declines with a release record and is not asked again") {
  Duty d(1);  // [node] capacity of one byte
  auto r = d.evaluate(kNow);
  CHECK(r.signed_records == 4);
  for (const auto& a : d.actions()) CHECK(a.kind == TierOneActionKind::decline);
  CHECK(d.fetching().empty());
  for (const auto& [id, action] : d.claims()) CHECK(action == ClaimAction::release);
  CHECK(d.duty->capacity().quota == 1);
  auto again = d.evaluate(kNow + 1);
  CHECK(again.signed_records == 0);
  CHECK(d.actions().empty());
  CHECK(d.own_seq() == 4);
}

TEST_CASE("tier-1 duty - a fetch paused by a disk error gives its claim up and is cancelled") {
  TempDir tmp("fedswarm-tier-one-duty");
  Duty d(0, tmp / "missing-data-root");  // must exist when a fetch starts: else paused
  const auto ids = d.all_ids();
  auto first = d.evaluate(kNow);
  REQUIRE(first.signed_records == 4);
  REQUIRE(wait_until(
      [&] {
        (void)d.engine->poll();
        for (const auto& t : d.engine->transfers())
          if (t.state != LocalState::paused) return false;
        return d.engine->transfers().size() == 4;
      },
      std::chrono::seconds(30)));
  auto given_up = d.evaluate(kNow + 1);
  CHECK(given_up.signed_records == 4);
  for (const auto& a : d.actions()) CHECK(a.kind == TierOneActionKind::give_up);
  CHECK(d.fetching().empty());
  for (const auto& [id, action] : d.claims()) CHECK(action == ClaimAction::release);
  CHECK(d.evaluate(kNow + 2).signed_records == 0);
}

TEST_CASE("tier-1 duty - two evaluations in one second sign at most one record per version") {
  Duty d(1);
  CHECK(d.evaluate(kNow).signed_records == 4);  // declines (releases) at kNow
  // Even if the rule asked again within the same second, nothing would be signed: the
  // catalog shows the releases, so it does not.
  CHECK(d.evaluate(kNow).signed_records == 0);
}

TEST_CASE("tier-1 duty - a surplus copy is released (record, row, directory) once no subscription wants it") {
  Duty d;
  const auto& v = d.pair.sample()[0];
  const std::string id = v.instance_id();
  const PublicKey self = d.pair.holder().home->key().public_key();
  // CEDA, another Tier-1, held the version first (record at kNow - 5000); this node's
  // copy, a repair, came later.
  auto& keeper = d.pair.add_tier1("CEDA");
  ReplicaRecord older{v.dataset_id, v.version, ReplicaState::complete, kNow - 5000};
  REQUIRE(keeper.cat().append_local(keeper.home->key(), RecordKind::replica, older.encode(), kNow - 5000).ok());
  ReplicaPair::copy_records(keeper, d.pair.holder());
  const fs::path dir = d.pair.place_replica(v);
  LocalReplica row = local_of(d.pair.holder().cat(), id);
  ReplicaRecord mine{v.dataset_id, v.version, ReplicaState::complete, kNow - 100};
  REQUIRE(d.pair.holder().cat().append_local(d.pair.holder().home->key(), RecordKind::replica, mine.encode(), kNow - 100, &row).ok());
  auto own_state = [&] {
    auto reps = d.pair.holder().cat().replicas(id);
    REQUIRE(reps.ok());
    for (const auto& r : *reps)
      if (r.node == self) return r.state;
    FAIL("no replica record of this node");
    return ReplicaState::complete;
  };

  // Liveness unknown: every member alive since ever, so CEDA (the keeper) is settled.
  // A subscription wants the version: the copy stays, nothing is signed for it.
  auto kept = d.evaluate(kNow, true, {id});
  CHECK(std::count_if(kept.done.begin(), kept.done.end(),
                      [](const std::string& l) { return l.rfind("kept the surplus copy", 0) == 0; }) == 1);
  CHECK(fs::is_directory(dir));
  CHECK(local_of(d.pair.holder().cat(), id).state == LocalState::complete);
  CHECK(own_state() == ReplicaState::complete);
  // Still wanted: not asked again.
  auto quiet = d.evaluate(kNow + 1, true, {id});
  CHECK(std::none_of(quiet.done.begin(), quiet.done.end(),
                     [](const std::string& l) { return l.find("surplus") != std::string::npos; }));

  // The subscription ends: the copy goes — record dropped, row dropped, directory gone.
  auto released = d.evaluate(kNow + 2);
  CHECK(std::count_if(released.done.begin(), released.done.end(),
                      [](const std::string& l) { return l.rfind("released the surplus copy", 0) == 0; }) == 1);
  CHECK_FALSE(fs::exists(dir));
  const LocalReplica after = local_of(d.pair.holder().cat(), id);
  CHECK(after.state == LocalState::dropped);
  CHECK(after.path.empty());
  CHECK(after.last_error.find("surplus") != std::string::npos);
  CHECK(own_state() == ReplicaState::dropped);
  // One copy left (CEDA's): nothing more to do about it.
  auto doc = d.pair.holder().cat().doc_of(id);
  REQUIRE(doc.ok());
  REQUIRE(doc->has_value());
  d.evaluate(kNow + 3);
  CHECK(d.duty->tracker().status(**doc) == TierOneStatus::compliant);
  CHECK(d.duty->tracker().actions().count(**doc) == 0);
}

TEST_CASE("config - the [policy] section: written by init, read back, bad values refused") {
  TempDir dir;
  Config c = Config::defaults("DKRZ", Tier::tier1);
  c.tier_one.grace_seconds = 3;
  c.tier_one.claim_base_seconds = 5;
  c.tier_one.min_rate = 50000;
  c.tier_one.deadline_slack = 1.5;
  c.tier_one.superseded_needs_copy = false;
  c.policy_evaluate_interval_ms = 500;
  c.tier_one.surplus_settle_seconds = 7;
  write_file(dir / "config.toml", c.render_toml());
  auto loaded = Config::load(dir / "config.toml", dir.path());
  REQUIRE_MESSAGE(loaded.ok(), loaded.error().message);
  CHECK(loaded->tier_one.grace_seconds == 3);
  CHECK(loaded->tier_one.claim_base_seconds == 5);
  CHECK(loaded->tier_one.min_rate == 50000);
  CHECK(loaded->tier_one.deadline_slack == 1.5);
  CHECK(loaded->tier_one.superseded_needs_copy == false);
  CHECK(loaded->tier_one.max_claim_seconds == TierOneConfig{}.max_claim_seconds);
  CHECK(loaded->tier_one.retry_after_seconds == TierOneConfig{}.retry_after_seconds);
  CHECK(loaded->policy_evaluate_interval_ms == 500);
  CHECK(loaded->tier_one.surplus_settle_seconds == 7);
  CHECK(loaded->tier_one.rank_weight_exponent == kRankWeightExponent);  // never from the file

  // Defaults when the section is absent.
  write_file(dir / "config.toml", "[node]\nsite = \"X\"\ntier = \"1\"\n");
  auto bare = Config::load(dir / "config.toml", dir.path());
  REQUIRE(bare.ok());
  CHECK(bare->tier_one.grace_seconds == 6 * 3600);
  CHECK(bare->tier_one.min_rate == 10e6);
  CHECK(bare->policy_evaluate_interval_ms == 2000);
  CHECK(bare->tier_one.surplus_settle_seconds == 3600);

  auto load = [&](const std::string& policy) {
    write_file(dir / "config.toml", "[node]\nsite = \"X\"\n[policy]\n" + policy + "\n");
    return Config::load(dir / "config.toml", dir.path());
  };
  CHECK(load("min_rate = 1000").ok());  // an integer is a number too
  for (const auto& [text, key] : std::vector<std::pair<std::string, std::string>>{
           {"grace = 3", "policy.grace"},
           {"grace_seconds = -1", "policy.grace_seconds"},
           {"grace_seconds = \"3\"", "policy.grace_seconds"},
           {"max_claim_seconds = 0", "policy.max_claim_seconds"},
           {"claim_base_seconds = 99999999999", "policy.claim_base_seconds"},
           {"claim_base_seconds = 100\nmax_claim_seconds = 100", "policy.claim_base_seconds"},
           {"deadline_slack = 0.5", "policy.deadline_slack"},
           {"deadline_slack = nan", "policy.deadline_slack"},
           {"min_rate = 0", "policy.min_rate"},
           {"min_rate = inf", "policy.min_rate"},
           {"superseded_needs_copy = 1", "policy.superseded_needs_copy"},
           {"evaluate_interval_ms = 10", "policy.evaluate_interval_ms"},
           {"surplus_settle_seconds = -1", "policy.surplus_settle_seconds"},
           {"surplus_settle_seconds = 999999999999", "policy.surplus_settle_seconds"},
           {"rank_weight_exponent = 2", "policy.rank_weight_exponent"},
       }) {
    INFO(text);
    auto r = load(text);
    REQUIRE_FALSE(r.ok());
    CHECK((r.error().reason == "config_bad_value" || r.error().reason == "config_unknown_key"));
    CHECK(r.error().message.find(key) != std::string::npos);
  }
}
