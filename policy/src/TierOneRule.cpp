#include "fedswarm/policy/TierOneRule.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>

#include "fedswarm/policy/Clock.hpp"
#include "fedswarm/policy/CapacityLedger.hpp"
#include "fedswarm/policy/Rendezvous.hpp"

namespace fedswarm {

namespace {

constexpr std::uint64_t kMaxBytes = std::numeric_limits<std::uint64_t>::max();

// Record times are network data: byte counts from them saturate too (add_time: Clock.hpp).
std::uint64_t add_bytes(std::uint64_t a, std::uint64_t b) { return a > kMaxBytes - b ? kMaxBytes : a + b; }

// The members sorted by key, so that every lookup and every tie is independent of the
// caller's order.
std::vector<const TierOneMember*> sorted_members(std::span<const TierOneMember> members) {
  std::vector<const TierOneMember*> out;
  out.reserve(members.size());
  for (const auto& m : members) out.push_back(&m);
  std::sort(out.begin(), out.end(), [](const TierOneMember* a, const TierOneMember* b) { return a->key < b->key; });
  return out;
}

std::ptrdiff_t index_of(const std::vector<const TierOneMember*>& ms, const PublicKey& key) {
  auto it = std::lower_bound(ms.begin(), ms.end(), key, [](const TierOneMember* m, const PublicKey& k) { return m->key < k; });
  if (it == ms.end() || (*it)->key != key) return -1;
  return it - ms.begin();
}

// The latest replica record and claim of each member for the case's version.
struct Latest {
  std::vector<const ReplicaLocation*> replica;
  std::vector<const ClaimInfo*> claim;
};

Latest latest_records(const TierOneCase& c, const std::vector<const TierOneMember*>& ms) {
  Latest l{std::vector<const ReplicaLocation*>(ms.size(), nullptr), std::vector<const ClaimInfo*>(ms.size(), nullptr)};
  for (const auto& r : c.replicas) {
    auto i = index_of(ms, r.node);
    if (i >= 0 && (!l.replica[i] || newer_replica(r, *l.replica[i]))) l.replica[i] = &r;
  }
  for (const auto& cl : c.claims) {
    auto i = index_of(ms, cl.node);
    if (i >= 0 && (!l.claim[i] || newer_claim(cl, *l.claim[i]))) l.claim[i] = &cl;
  }
  return l;
}

bool contains(std::span<const PublicKey> keys, const PublicKey& k) { return std::find(keys.begin(), keys.end(), k) != keys.end(); }

}  // namespace

TierOneDecision TierOneRule::judge(const TierOneCase& c, std::span<const TierOneMember> members, std::int64_t now) const {
  TierOneDecision d;
  const TierOneVersion& v = c.version;
  d.instance_id = v.instance_id();
  if (v.status == VersionStatus::retracted) {
    d.status = TierOneStatus::exempt;
    d.cause = TierOneCause::retracted;
    return d;
  }
  if (v.status == VersionStatus::superseded && !config_.superseded_needs_copy) {
    d.status = TierOneStatus::exempt;
    d.cause = TierOneCause::superseded;
    return d;
  }

  const auto ms = sorted_members(members);
  const Latest latest = latest_records(c, ms);
  const std::size_t n = ms.size();
  auto present = [&](const TierOneMember& m) { return m.alive || now < add_time(m.down_since, config_.grace_seconds); };
  auto same_site = [&](const TierOneMember& m) { return m.site == v.primary_site || m.key == v.primary; };

  // 1. Counted holders.
  bool holders_down = false, dropped = false;
  std::optional<std::size_t> keeper;  // the oldest complete record, then the lowest key
  for (std::size_t i = 0; i < n; ++i) {
    const ReplicaLocation* r = latest.replica[i];
    if (!r || same_site(*ms[i])) continue;
    if (r->state == ReplicaState::dropped) {
      dropped = true;
    } else if (present(*ms[i])) {
      d.holders.push_back(ms[i]->key);
      // Members are by key: on equal times the first one seen keeps its place.
      if (!keeper || r->at < latest.replica[*keeper]->at) keeper = i;
    } else {
      holders_down = true;
    }
  }
  if (!d.holders.empty()) {
    d.status = TierOneStatus::compliant;
    // 1b. Surplus copies: one copy beyond the primary is kept, the keeper's; the others
    // go once the keeper is settled. Who keeps is catalog data only, so a node never
    // drops because another view of liveness took its own copy for the kept one.
    if (d.holders.size() >= 2) {
      const TierOneMember& k = *ms[*keeper];
      d.keeper = k.key;
      d.release_at = k.alive ? add_time(std::max(k.up_since, latest.replica[*keeper]->at), config_.surplus_settle_seconds)
                             : kMaxTime;
      if (now >= d.release_at)
        for (const auto& h : d.holders)
          if (h != k.key) d.surplus.push_back(h);
    }
    return d;
  }

  // 2. The chain. Free capacity adds back this version's own reservation, so a claim
  // does not lower its claimant's rank for the version it claims.
  struct Candidate {
    RankedNode rank;
    bool preferred;
    std::int64_t passed_at;
  };
  std::vector<Candidate> fresh, stale, recent;
  const std::string instance = d.instance_id;
  for (std::size_t i = 0; i < n; ++i) {
    const TierOneMember& m = *ms[i];
    if (!m.alive || same_site(m)) continue;
    const bool holds = latest.replica[i] && latest.replica[i]->state == ReplicaState::complete;
    const ClaimInfo* cl = latest.claim[i];
    const std::uint64_t reserved = cl && claim_reserves(config_, *cl, holds, false, now) ? v.size : 0;
    const std::uint64_t room = add_bytes(m.capacity, reserved);
    const std::uint64_t free = room > m.committed ? room - m.committed : 0;
    if (free == 0 || free < v.size) continue;
    // A pass: the node said no (release, decline, abandon) or let its claim lapse. It
    // waits behind every node not yet asked, so a failing node cannot keep a version.
    std::optional<std::int64_t> passed_at;
    if (cl && cl->action == ClaimAction::release)
      passed_at = cl->made_at;
    else if (cl && !holds && config_.effective_deadline(*cl) < now)
      passed_at = config_.effective_deadline(*cl);
    const double weight = rank_weight(free, m.capacity, config_.rank_weight_exponent);
    Candidate cand{{m.key, rendezvous_score(rendezvous_hash(m.key, instance), weight)},
                   contains(c.previous_holders, m.key), passed_at.value_or(0)};
    if (!passed_at)
      fresh.push_back(cand);
    else if (now < add_time(*passed_at, config_.retry_after_seconds))
      recent.push_back(cand);
    else
      stale.push_back(cand);
  }
  std::sort(fresh.begin(), fresh.end(), [](const Candidate& a, const Candidate& b) {
    if (a.preferred != b.preferred) return a.preferred;
    return ranks_before(a.rank, b.rank);
  });
  std::sort(stale.begin(), stale.end(), [](const Candidate& a, const Candidate& b) {
    return std::tie(a.passed_at, a.rank.key) < std::tie(b.passed_at, b.rank.key);
  });
  for (const auto& cand : fresh) d.ranking.push_back(cand.rank.key);
  for (const auto& cand : stale) d.ranking.push_back(cand.rank.key);
  for (const auto& cand : recent) d.passed.push_back(cand.rank.key);  // already by key

  // 3. Live claims, in chain order; claimants outside the chain after, by made_at.
  struct Live {
    std::size_t position;
    std::int64_t made_at;
    PublicKey key;
    std::int64_t deadline;
  };
  std::vector<Live> live;
  bool claimant_down = false, expired = false, released = false;
  for (std::size_t i = 0; i < n; ++i) {
    const ClaimInfo* cl = latest.claim[i];
    if (!cl || same_site(*ms[i])) continue;
    if (cl->action == ClaimAction::release) {
      released = true;
      continue;
    }
    const std::int64_t deadline = config_.effective_deadline(*cl);
    if (deadline < now) {
      expired = true;
      continue;
    }
    if (!present(*ms[i])) {
      claimant_down = true;
      continue;
    }
    auto pos = std::find(d.ranking.begin(), d.ranking.end(), ms[i]->key) - d.ranking.begin();
    live.push_back({static_cast<std::size_t>(pos), cl->made_at, ms[i]->key, deadline});
  }
  if (!live.empty()) {
    std::sort(live.begin(), live.end(), [](const Live& a, const Live& b) {
      return std::tie(a.position, a.made_at, a.key) < std::tie(b.position, b.made_at, b.key);
    });
    d.status = TierOneStatus::pending;
    for (const auto& l : live) d.live_claims.push_back(l.key);
    d.deadline = live.front().deadline;
    return d;
  }

  // 4. Violating.
  d.status = TierOneStatus::violating;
  if (d.ranking.empty()) d.blocker = d.passed.empty() ? TierOneBlocker::no_eligible_tier1 : TierOneBlocker::all_passed;
  d.cause = holders_down    ? TierOneCause::holders_down
            : dropped       ? TierOneCause::copy_dropped
            : claimant_down ? TierOneCause::claimant_down
            : expired       ? TierOneCause::claim_expired
            : released      ? TierOneCause::claim_released
                            : TierOneCause::unclaimed;
  return d;
}

std::vector<TierOneAction> TierOneRule::actions(const TierOneDecision& d, const TierOneCase& c,
                                                std::span<const TierOneMember> members, const TierOneLocal& local,
                                                std::int64_t now, std::uint64_t extra_committed,
                                                std::uint64_t extra_backlog) const {
  std::vector<TierOneAction> out;
  const TierOneMember* me = nullptr;
  for (const auto& m : members)
    if (m.key == local.key) me = &m;
  if (!me) return out;  // not a Tier-1 member: the rule asks nothing of it

  const ReplicaLocation* rep = nullptr;
  const ClaimInfo* claim = nullptr;
  for (const auto& r : c.replicas)
    if (r.node == local.key && (!rep || newer_replica(r, *rep))) rep = &r;
  for (const auto& cl : c.claims)
    if (cl.node == local.key && (!claim || newer_claim(cl, *claim))) claim = &cl;
  const bool holds = rep && rep->state == ReplicaState::complete;
  const bool take_live =
      claim && claim->action == ClaimAction::take && config_.effective_deadline(*claim) >= now && !holds;

  auto act = [&](TierOneActionKind kind, std::string why, std::int64_t deadline = 0) {
    out.push_back({kind, c.version.dataset_id, c.version.version, deadline, std::move(why)});
  };

  switch (d.status) {
    case TierOneStatus::exempt:
      if (take_live) act(TierOneActionKind::release, std::string("no obligation: ") + std::string(to_string(d.cause)));
      break;
    case TierOneStatus::compliant:
      if (take_live)
        act(TierOneActionKind::release, "a Tier-1 copy exists at " + short_key(d.holders.front()));
      else if (contains(d.surplus, local.key))
        act(TierOneActionKind::drop_surplus, "surplus copy: " + short_key(*d.keeper) + " is back and keeps the version");
      break;
    case TierOneStatus::pending:
      if (!take_live) break;
      if (d.live_claims.front() == local.key) {
        if (c.local_eta && *c.local_eta > d.deadline)
          act(TierOneActionKind::give_up, "expected to finish after the claim's deadline");
        else
          act(TierOneActionKind::fetch, "this node's claim leads");
      } else if (contains(d.live_claims, local.key)) {
        act(TierOneActionKind::abandon, "a higher-ranked live claim by " + short_key(d.live_claims.front()));
      } else {
        act(TierOneActionKind::release, "this node's claim does not count (same site as the primary)");
      }
      break;
    case TierOneStatus::violating: {
      auto assignee = d.assignee();
      if (assignee && *assignee == local.key) {
        const std::uint64_t size = c.version.size;
        const std::uint64_t quota = local.quota.value_or(me->capacity);
        const std::uint64_t committed = add_bytes(me->committed, extra_committed);
        const std::uint64_t backlog = add_bytes(local.backlog_bytes, extra_backlog);
        if (size > quota || committed > quota - size) {
          act(TierOneActionKind::decline, "over this node's quota for the Tier-1 rule");
        } else if (config_.expected_seconds(size, backlog, local.observed_rate) >
                   static_cast<double>(config_.max_claim_seconds)) {
          act(TierOneActionKind::decline, "the transfer backlog cannot finish within the longest claim");
        } else {
          act(TierOneActionKind::claim, "assigned: first in the chain",
              config_.claim_deadline(now, size, backlog, local.observed_rate));
        }
      } else if (take_live) {
        act(TierOneActionKind::release, "this node's claim does not count");
      }
      break;
    }
  }
  return out;
}

TierOneDecision TierOneRule::decide(const TierOneCase& c, std::span<const TierOneMember> members,
                                    const TierOneLocal& local, std::int64_t now,
                                    std::vector<TierOneAction>& actions_out) const {
  TierOneDecision d = judge(c, members, now);
  auto a = actions(d, c, members, local, now);
  actions_out.insert(actions_out.end(), std::make_move_iterator(a.begin()), std::make_move_iterator(a.end()));
  return d;
}

TierOneReport TierOneRule::evaluate(const TierOneSnapshot& s, std::int64_t now,
                                    const std::optional<TierOneLocal>& local) const {
  TierOneReport report;

  // Canonical order of everything, duplicates resolved the same way whatever the input
  // order: that is what makes the output independent of it.
  report.members = s.members;
  std::sort(report.members.begin(), report.members.end(), [](const TierOneMember& a, const TierOneMember& b) {
    return std::tie(a.key, a.site, a.capacity, a.alive, a.down_since, a.up_since) <
           std::tie(b.key, b.site, b.capacity, b.alive, b.down_since, b.up_since);
  });
  report.members.erase(std::unique(report.members.begin(), report.members.end(),
                                   [](const TierOneMember& a, const TierOneMember& b) { return a.key == b.key; }),
                       report.members.end());

  struct V {
    std::string id;
    const TierOneVersion* v;
  };
  std::vector<V> versions;
  versions.reserve(s.versions.size());
  for (const auto& v : s.versions) versions.push_back({v.instance_id(), &v});
  std::sort(versions.begin(), versions.end(), [](const V& a, const V& b) {
    // Same id twice (a caller's mistake): the more advanced status first (retracted >
    // superseded > published), then the larger size, so the pick is still order-free.
    if (a.id != b.id) return a.id < b.id;
    if (a.v->status != b.v->status) return a.v->status > b.v->status;
    return a.v->size > b.v->size;
  });
  versions.erase(std::unique(versions.begin(), versions.end(), [](const V& a, const V& b) { return a.id == b.id; }),
                 versions.end());

  // Replicas and claims: sorted by (instance, node), newest per pair kept.
  std::vector<const TierOneSnapshot::Replica*> reps;
  for (const auto& r : s.replicas) reps.push_back(&r);
  std::sort(reps.begin(), reps.end(), [](auto* a, auto* b) {
    if (a->instance_id != b->instance_id) return a->instance_id < b->instance_id;
    if (a->location.node != b->location.node) return a->location.node < b->location.node;
    return newer_replica(a->location, b->location);
  });
  std::vector<std::string> rep_ids;
  std::vector<ReplicaLocation> rep_locs;
  for (auto* r : reps) {
    if (!rep_ids.empty() && rep_ids.back() == r->instance_id && rep_locs.back().node == r->location.node) continue;
    rep_ids.push_back(r->instance_id);
    rep_locs.push_back(r->location);
  }
  std::vector<const TierOneSnapshot::ClaimRecord*> cls;
  for (const auto& c : s.claims) cls.push_back(&c);
  std::sort(cls.begin(), cls.end(), [](auto* a, auto* b) {
    if (a->instance_id != b->instance_id) return a->instance_id < b->instance_id;
    if (a->claim.node != b->claim.node) return a->claim.node < b->claim.node;
    return newer_claim(a->claim, b->claim);
  });
  std::vector<std::string> claim_ids;
  std::vector<ClaimInfo> claim_infos;
  for (auto* c : cls) {
    if (!claim_ids.empty() && claim_ids.back() == c->instance_id && claim_infos.back().node == c->claim.node) continue;
    claim_ids.push_back(c->instance_id);
    claim_infos.push_back(c->claim);
  }
  auto range = [](const std::vector<std::string>& ids, const std::string& id) {
    auto [lo, hi] = std::equal_range(ids.begin(), ids.end(), id);
    return std::pair<std::size_t, std::size_t>(lo - ids.begin(), hi - ids.begin());
  };

  CapacityLedger ledger(config_);
  for (const auto& v : versions) ledger.put_version(v.id, v.v->size, v.v->status == VersionStatus::retracted);
  for (std::size_t i = 0; i < rep_locs.size(); ++i) ledger.put_replica(rep_ids[i], rep_locs[i]);
  for (std::size_t i = 0; i < claim_infos.size(); ++i) ledger.put_claim(claim_ids[i], claim_infos[i]);
  ledger.fill(report.members, now);

  std::map<std::string, std::int64_t, std::less<>> etas(s.local_etas.begin(), s.local_etas.end());
  std::vector<TierOneCase> cases;
  std::vector<std::vector<PublicKey>> previous(versions.size());
  cases.reserve(versions.size());
  for (std::size_t i = 0; i < versions.size(); ++i) {
    TierOneCase c;
    c.version = *versions[i].v;
    auto [rlo, rhi] = range(rep_ids, versions[i].id);
    c.replicas = std::span<const ReplicaLocation>(rep_locs.data() + rlo, rhi - rlo);
    auto [clo, chi] = range(claim_ids, versions[i].id);
    c.claims = std::span<const ClaimInfo>(claim_infos.data() + clo, chi - clo);
    if (!c.version.previous_version.empty()) {
      auto [plo, phi] = range(rep_ids, c.version.previous_instance_id());
      for (std::size_t p = plo; p < phi; ++p)
        if (rep_locs[p].state == ReplicaState::complete) previous[i].push_back(rep_locs[p].node);
      c.previous_holders = previous[i];
    }
    if (auto it = etas.find(versions[i].id); it != etas.end()) c.local_eta = it->second;
    report.decisions.push_back(judge(c, report.members, now));
    cases.push_back(std::move(c));
  }

  if (local) {
    // Oldest first, so a burst is claimed and queued in publication order; the bytes
    // claimed in this pass count against the quota and queue of the later ones.
    std::vector<std::size_t> order(versions.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return std::tie(versions[a].v->published_at, versions[a].id) < std::tie(versions[b].v->published_at, versions[b].id);
    });
    std::uint64_t extra = 0;
    for (std::size_t i : order) {
      auto a = actions(report.decisions[i], cases[i], report.members, *local, now, extra, extra);
      for (auto& act : a) {
        if (act.kind == TierOneActionKind::claim) extra = add_bytes(extra, cases[i].version.size);
        report.actions.push_back(std::move(act));
      }
    }
  }
  return report;
}

}  // namespace fedswarm
