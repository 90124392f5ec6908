#include "fedswarm/policy/TierOneTracker.hpp"

#include <algorithm>
#include <tuple>

#include "fedswarm/policy/Clock.hpp"
#include "fedswarm/policy/CapacityLedger.hpp"
#include "fedswarm/policy/ViolatingSince.hpp"

namespace fedswarm {

namespace {

constexpr std::uint8_t kBlockedBit = 0x10;

std::uint8_t code_of(TierOneStatus s) { return static_cast<std::uint8_t>(static_cast<std::uint8_t>(s) + 1); }
std::optional<TierOneStatus> status_of(std::uint8_t code) {
  if ((code & 0x0f) == 0) return std::nullopt;
  return static_cast<TierOneStatus>((code & 0x0f) - 1);
}

}  // namespace

TierOneCase TierOneCaseData::view(std::optional<std::int64_t> local_eta) const {
  TierOneCase c;
  c.version = version;
  c.replicas = replicas;
  c.claims = claims;
  c.previous_holders = previous_holders;
  c.local_eta = local_eta;
  return c;
}

TierOneTracker::TierOneTracker(TierOneConfig config, std::size_t rebuild_chunk)
    : config_(config), rule_(config), rebuild_chunk_(std::max<std::size_t>(rebuild_chunk, 1)) {}

void TierOneTracker::invalidate() { fresh_ = true; }

std::pair<std::uint32_t, std::uint32_t> TierOneTracker::rebuild_progress() const {
  return {rebuild_next_.value_or(rebuild_end_), rebuild_end_};
}

std::optional<TierOneStatus> TierOneTracker::status(std::uint32_t doc) const {
  if (doc >= status_.size()) return std::nullopt;
  return status_of(status_[doc]);
}

bool TierOneTracker::blocked(std::uint32_t doc) const { return doc < status_.size() && (status_[doc] & kBlockedBit); }

std::optional<std::int64_t> TierOneTracker::violating_since(std::uint32_t doc) const {
  if (status(doc) != TierOneStatus::violating) return std::nullopt;
  auto it = open_.find(doc);
  return it == open_.end() ? std::nullopt : std::optional<std::int64_t>(it->second.since);
}

std::int64_t TierOneTracker::next_due() const {
  std::int64_t t = kMaxTime;
  if (!timers_.empty()) t = std::min(t, timers_.begin()->first);
  if (!member_timers_.empty()) t = std::min(t, member_timers_.begin()->first);
  return t;
}

std::vector<std::uint32_t> TierOneTracker::page(TierOneStatus status, std::size_t offset, std::size_t limit) const {
  std::vector<std::uint32_t> out;
  auto take = [&](std::uint32_t doc, std::size_t& seen) {
    if (seen++ >= offset && out.size() < limit) out.push_back(doc);
    return out.size() < limit;
  };
  std::size_t seen = 0;
  if (status == TierOneStatus::violating) {
    for (const auto& [since, doc] : violating_by_since_)
      if (!take(doc, seen)) break;
  } else if (status == TierOneStatus::pending) {
    for (const auto& [deadline, doc] : pending_by_deadline_)
      if (!take(doc, seen)) break;
  } else {
    const std::uint8_t want = code_of(status);
    for (std::uint32_t doc = 0; doc < status_.size(); ++doc)
      if ((status_[doc] & 0x0f) == want && !take(doc, seen)) break;
  }
  return out;
}

// --- state --------------------------------------------------------------------------------

void TierOneTracker::forget_all() {
  status_.clear();
  open_.clear();
  violating_by_since_.clear();
  pending_by_deadline_.clear();
  timers_.clear();
  scheduled_.clear();
  member_timers_.clear();
  reservations_.clear();
  actions_.clear();
  surplus_.clear();
  seen_.clear();
  rebuild_local_.clear();
  counts_ = {};
}

void TierOneTracker::start_rebuild() {
  forget_all();
  rebuild_next_ = 0;
  rebuild_end_ = 0;
  fresh_ = false;
}

bool TierOneTracker::present(const TierOneMember& m, std::int64_t now) const {
  return m.alive || now < add_time(m.down_since, config_.grace_seconds);
}

void TierOneTracker::reserve(const TierOneCaseData& c) {
  for (const auto& m : members_) reservations_.erase({m.key, c.doc});
  if (c.version.status == VersionStatus::retracted) return;
  for (const auto& m : members_) {
    const ClaimInfo* claim = nullptr;
    for (const auto& cl : c.claims)
      if (cl.node == m.key && (!claim || newer_claim(cl, *claim))) claim = &cl;
    if (!claim || claim->action != ClaimAction::take) continue;
    const ReplicaLocation* rep = nullptr;
    for (const auto& r : c.replicas)
      if (r.node == m.key && (!rep || newer_replica(r, *rep))) rep = &r;
    if (rep && rep->state == ReplicaState::complete) continue;
    reservations_[{m.key, c.doc}] = {config_.effective_deadline(*claim), c.version.size};
  }
}

std::vector<std::uint32_t> TierOneTracker::surplus_without_action(const PublicKey& local) const {
  std::vector<std::uint32_t> out;
  for (const auto& [doc, keys] : surplus_)
    if (!actions_.count(doc) && std::find(keys.begin(), keys.end(), local) != keys.end()) out.push_back(doc);
  return out;
}

std::uint64_t TierOneTracker::reserved(const PublicKey& member, std::int64_t now) const {
  std::uint64_t sum = 0;
  for (auto it = reservations_.lower_bound({member, 0}); it != reservations_.end() && it->first.first == member; ++it)
    if (it->second.deadline >= now) sum = sum > UINT64_MAX - it->second.size ? UINT64_MAX : sum + it->second.size;
  return sum;
}

bool TierOneTracker::refresh_members(const TierOneTrackerInput& in) {
  members_ = in.members;
  std::sort(members_.begin(), members_.end(), [](const TierOneMember& a, const TierOneMember& b) { return a.key < b.key; });
  members_.erase(std::unique(members_.begin(), members_.end(),
                             [](const TierOneMember& a, const TierOneMember& b) { return a.key == b.key; }),
                 members_.end());
  bool changed = seen_.size() != members_.size();
  std::map<PublicKey, MemberView> now_seen;
  for (auto& m : members_) {
    const std::uint64_t res = reserved(m.key, in.now);
    m.committed = m.committed > UINT64_MAX - res ? UINT64_MAX : m.committed + res;
    // up_since is kept to spot a member that came back between two rounds; the chains
    // do not read it, so it does not count as a change here.
    MemberView v{m.alive, present(m, in.now), m.down_since, m.up_since, m.capacity, m.committed};
    auto it = seen_.find(m.key);
    if (it == seen_.end() || it->second.alive != v.alive || it->second.present != v.present ||
        it->second.capacity != v.capacity || it->second.committed != v.committed)
      changed = true;
    now_seen.emplace(m.key, v);
  }
  seen_ = std::move(now_seen);
  return changed;
}

void TierOneTracker::set_status(std::uint32_t doc, std::uint8_t code, std::uint64_t size, std::int64_t since,
                                std::int64_t deadline) {
  if (doc >= status_.size()) status_.resize(static_cast<std::size_t>(doc) + 1, 0);
  const std::uint8_t old = status_[doc];
  // Out with the old entry…
  if (auto s = status_of(old)) {
    --counts_.versions;
    switch (*s) {
      case TierOneStatus::compliant: --counts_.compliant; break;
      case TierOneStatus::exempt: --counts_.exempt; break;
      case TierOneStatus::pending: {
        --counts_.pending;
        pending_by_deadline_.erase({open_[doc].since, doc});
        break;
      }
      case TierOneStatus::violating: {
        --counts_.violating;
        if (old & kBlockedBit) --counts_.blocked;
        const DocInfo& info = open_[doc];
        counts_.violating_bytes -= std::min(counts_.violating_bytes, info.size);
        violating_by_since_.erase({info.since, doc});
        break;
      }
    }
    open_.erase(doc);
  }
  // …in with the new.
  status_[doc] = code;
  auto s = status_of(code);
  if (!s) return;
  ++counts_.versions;
  switch (*s) {
    case TierOneStatus::compliant: ++counts_.compliant; break;
    case TierOneStatus::exempt: ++counts_.exempt; break;
    case TierOneStatus::pending:
      ++counts_.pending;
      open_[doc] = {size, deadline};
      pending_by_deadline_.insert({deadline, doc});
      break;
    case TierOneStatus::violating:
      ++counts_.violating;
      if (code & kBlockedBit) ++counts_.blocked;
      counts_.violating_bytes += size;
      open_[doc] = {size, since};
      violating_by_since_.insert({since, doc});
      break;
  }
  counts_.oldest_violation = violating_by_since_.empty() ? 0 : violating_by_since_.begin()->first;
}

// The next moment the verdict of `c` may change by time alone: a claim's effective
// deadline passing (expired; its reservation ends), a pass ceasing to be recent, a
// release ageing, the keeper of surplus copies settling. Member grace ends are member
// timers.
void TierOneTracker::schedule(std::uint32_t doc, const TierOneCaseData& c, const TierOneDecision& d, std::int64_t now) {
  std::int64_t next = kMaxTime;
  auto consider = [&](std::int64_t t) {
    if (t > now) next = std::min(next, t);
  };
  // INT64_MAX (keeper not alive): its liveness coming back makes the doc affected.
  if (d.keeper && d.release_at != kMaxTime) consider(d.release_at);
  for (const auto& cl : c.claims) {
    if (cl.action == ClaimAction::take) {
      const std::int64_t d = config_.effective_deadline(cl);
      consider(add_time(d, 1));
      consider(add_time(add_time(d, config_.retry_after_seconds), 1));
    } else {
      consider(add_time(add_time(cl.made_at, config_.retry_after_seconds), 1));
    }
  }
  if (next == kMaxTime) return;
  auto it = scheduled_.find(doc);
  if (it != scheduled_.end() && it->second <= next && it->second > now) return;
  scheduled_[doc] = next;
  timers_.emplace(next, doc);
}

void TierOneTracker::judge(const TierOneCaseData& c, const TierOneTrackerInput& in,
                           std::vector<TierOneCaseData>* deferred) {
  std::optional<std::int64_t> eta;
  if (auto it = in.local_etas.find(c.doc); it != in.local_etas.end()) eta = it->second;
  const TierOneCase view = c.view(eta);
  const TierOneDecision d = rule_.judge(view, members_, in.now);
  std::uint8_t code = code_of(d.status);
  if (d.status == TierOneStatus::violating && d.blocker != TierOneBlocker::none) code |= kBlockedBit;
  const std::int64_t since =
      d.status == TierOneStatus::violating ? fedswarm::violating_since(view, members_, config_, in.now) : 0;
  set_status(c.doc, code, c.version.size, since, d.deadline);
  schedule(c.doc, c, d, in.now);
  round_keys_[c.doc] = {c.version.published_at, c.version.instance_id()};
  if (d.surplus.empty()) surplus_.erase(c.doc);
  else surplus_[c.doc] = d.surplus;

  actions_.erase(c.doc);
  if (!in.local) return;
  if (rebuilding()) {
    // Actions wait for the end of the rebuild; remember the versions this node holds a
    // live claim on, whose actions (fetch, give up, release) are due then.
    for (const auto& cl : c.claims)
      if (cl.node == in.local->key && cl.action == ClaimAction::take && config_.effective_deadline(cl) >= in.now)
        rebuild_local_.insert(c.doc);
    return;
  }
  const auto assignee = d.assignee();
  if (d.status == TierOneStatus::violating && assignee && *assignee == in.local->key) {
    if (deferred) deferred->push_back(c);
    return;
  }
  auto acts = rule_.actions(d, view, members_, *in.local, in.now);
  if (!acts.empty()) actions_[c.doc] = std::move(acts);
}

Result<std::vector<TierOneCaseData>> TierOneTracker::load(TierOneCaseSource& source,
                                                           const std::vector<std::uint32_t>& docs,
                                                           const TierOneTrackerInput& in) {
  std::vector<TierOneCaseData> out;
  for (std::size_t i = 0; i < docs.size(); i += kLoadChunk) {
    if (in.stop && in.stop->load()) return make_error(Errc::unavailable, "cancelled", "the Tier-1 round was stopped");
    const std::size_t n = std::min(kLoadChunk, docs.size() - i);
    FEDSWARM_ASSIGN_OR_RETURN(auto part, source.load(std::span<const std::uint32_t>(docs.data() + i, n)));
    for (auto& c : part) out.push_back(std::move(c));
  }
  return out;
}

Status TierOneTracker::judge_docs(TierOneCaseSource& source, const std::vector<std::uint32_t>& docs,
                                  const TierOneTrackerInput& in, std::vector<TierOneCaseData>& deferred,
                                  std::size_t& judged) {
  for (std::size_t i = 0; i < docs.size(); i += kLoadChunk) {
    if (in.stop && in.stop->load()) return make_error(Errc::unavailable, "cancelled", "the Tier-1 round was stopped");
    const std::size_t n = std::min(kLoadChunk, docs.size() - i);
    FEDSWARM_ASSIGN_OR_RETURN(auto cases, source.load(std::span<const std::uint32_t>(docs.data() + i, n)));
    for (const auto& c : cases) judge(c, in, &deferred);
    judged += cases.size();
  }
  return {};
}

// --- a round --------------------------------------------------------------------------------

Result<TierOneTrackerRound> TierOneTracker::round(const TierOneTrackerInput& in, TierOneCaseSource& source) {
  TierOneTrackerRound out;
  auto failed = [&](Error e) -> Result<TierOneTrackerRound> {
    fresh_ = true;  // the tables may be half updated: start over next time
    return e;
  };
  // A different member set (keys or sites: who counts as same-site) or time going back
  // changes verdicts everywhere.
  bool members_moved = false;
  {
    std::vector<std::pair<PublicKey, std::string>> want, have;
    for (const auto& m : in.members) want.emplace_back(m.key, m.site);
    for (const auto& m : members_) have.emplace_back(m.key, m.site);
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    members_moved = want != have;
  }
  if (fresh_ || (members_moved && !members_.empty()) || in.now < last_now_) start_rebuild();
  last_now_ = in.now;
  if (rebuild_next_ && *rebuild_next_ == 0 && rebuild_end_ == 0) {
    auto n = source.doc_count();
    if (!n) return failed(n.error());
    rebuild_end_ = *n;
  }

  round_keys_.clear();
  std::set<std::uint32_t> dirty(in.changed.begin(), in.changed.end());
  // Members whose liveness changed: what they hold or claim.
  std::vector<PublicKey> affected;
  for (const auto& m : in.members) {
    const bool pres = present(m, in.now);
    auto it = seen_.find(m.key);
    if (it != seen_.end() &&
        (it->second.alive != m.alive || it->second.present != pres || (!m.alive && it->second.down_since != m.down_since) ||
         (m.alive && it->second.up_since != m.up_since)))
      affected.push_back(m.key);
    if (!m.alive && pres) member_timers_.emplace(add_time(m.down_since, config_.grace_seconds), m.key);
  }
  while (!member_timers_.empty() && member_timers_.begin()->first <= in.now) {
    affected.push_back(member_timers_.begin()->second);
    member_timers_.erase(member_timers_.begin());
  }
  std::sort(affected.begin(), affected.end());
  affected.erase(std::unique(affected.begin(), affected.end()), affected.end());
  for (const auto& key : affected) {
    auto docs = source.docs_of(key);
    if (!docs) return failed(docs.error());
    dirty.insert(docs->begin(), docs->end());
  }
  while (!timers_.empty() && timers_.begin()->first <= in.now) {
    auto [t, doc] = *timers_.begin();
    timers_.erase(timers_.begin());
    if (auto it = scheduled_.find(doc); it != scheduled_.end() && it->second == t) {
      scheduled_.erase(it);
      dirty.insert(doc);
    }
  }
  if (in.local) {
    // A drop_surplus depends on nothing that moves by itself from round to round (the
    // records, liveness and the settle timer make the doc due when they change).
    for (const auto& [doc, acts] : actions_)
      if (std::any_of(acts.begin(), acts.end(), [](const TierOneAction& a) { return a.kind != TierOneActionKind::drop_surplus; }))
        dirty.insert(doc);
    for (auto it = reservations_.lower_bound({in.local->key, 0});
         it != reservations_.end() && it->first.first == in.local->key; ++it)
      dirty.insert(it->first.second);
    // Acting starts: what was judged without acting (and a rebuild's end, below).
    if (!was_acting_ && !rebuild_next_)
      for (std::uint32_t doc : surplus_without_action(in.local->key)) dirty.insert(doc);
  }
  // Docs the rebuild has not reached yet are judged when it does.
  auto pending_rebuild = [&](std::uint32_t doc) {
    return rebuild_next_ && doc >= *rebuild_next_ && doc < rebuild_end_;
  };
  std::vector<std::uint32_t> work;
  for (std::uint32_t doc : dirty)
    if (!pending_rebuild(doc)) work.push_back(doc);
  std::set<std::uint32_t> changed_set;
  for (std::uint32_t doc : in.changed)
    if (!pending_rebuild(doc)) changed_set.insert(doc);

  // 1. Reservations of the versions whose records changed, and of the rebuild's chunk,
  // before any judgement reads the committed bytes.
  {
    std::vector<std::uint32_t> changed(changed_set.begin(), changed_set.end());
    // Members first: reserve() walks them (the set can only have grown by a rebuild).
    if (members_.empty() || members_moved) refresh_members(in);
    auto cases = load(source, changed, in);
    if (!cases) return failed(cases.error());
    for (const auto& c : *cases) reserve(c);
  }
  std::vector<TierOneCaseData> chunk;
  if (rebuild_next_) {
    auto cases = source.load_range(*rebuild_next_, rebuild_chunk_);
    if (!cases) return failed(cases.error());
    chunk = std::move(*cases);
    for (const auto& c : chunk) reserve(c);
  }

  // 2. The members' committed bytes: if anything the chains read moved, every open
  // version is judged again.
  // Acting starts (or stops): the local node's actions on versions nobody touched since
  // must be decided too.
  const bool acting = in.local.has_value();
  const bool moved = refresh_members(in) || acting != was_acting_;
  was_acting_ = acting;
  if (moved && !rebuild_next_)
    for (const auto& [doc, info] : open_) work.push_back(doc);
  std::sort(work.begin(), work.end());
  work.erase(std::unique(work.begin(), work.end()), work.end());

  // 3. Judgements.
  std::vector<TierOneCaseData> deferred;
  if (auto st = judge_docs(source, work, in, deferred, out.judged); !st) return failed(st.error());
  if (rebuild_next_) {
    for (const auto& c : chunk) judge(c, in, nullptr);
    out.judged += chunk.size();
    const std::uint64_t next = static_cast<std::uint64_t>(*rebuild_next_) + rebuild_chunk_;
    if (chunk.empty() || next >= rebuild_end_) {
      // Done: the open versions again, with every reservation known. Docs stored since
      // the rebuild began were judged as changes.
      rebuild_next_.reset();
      refresh_members(in);
      std::vector<std::uint32_t> open(rebuild_local_.begin(), rebuild_local_.end());
      rebuild_local_.clear();
      for (const auto& [doc, info] : open_) open.push_back(doc);
      if (in.local)
        for (std::uint32_t doc : surplus_without_action(in.local->key)) open.push_back(doc);
      std::sort(open.begin(), open.end());
      open.erase(std::unique(open.begin(), open.end()), open.end());
      if (auto st = judge_docs(source, open, in, deferred, out.judged); !st) return failed(st.error());
    } else {
      rebuild_next_ = static_cast<std::uint32_t>(next);
    }
  }
  out.rebuilding = rebuilding();

  // 4. The local node's claims and declines, oldest version first, each claim counting
  // against the quota and queue of the next.
  if (in.local && !rebuilding()) {
    std::sort(deferred.begin(), deferred.end(), [](const TierOneCaseData& a, const TierOneCaseData& b) {
      if (a.version.published_at != b.version.published_at) return a.version.published_at < b.version.published_at;
      return a.version.instance_id() < b.version.instance_id();
    });
    deferred.erase(std::unique(deferred.begin(), deferred.end(),
                               [](const TierOneCaseData& a, const TierOneCaseData& b) { return a.doc == b.doc; }),
                   deferred.end());
    std::uint64_t extra = 0;
    for (const auto& c : deferred) {
      std::optional<std::int64_t> eta;
      if (auto it = in.local_etas.find(c.doc); it != in.local_etas.end()) eta = it->second;
      const TierOneCase view = c.view(eta);
      const TierOneDecision d = rule_.judge(view, members_, in.now);
      auto acts = rule_.actions(d, view, members_, *in.local, in.now, extra, extra);
      for (const auto& a : acts)
        if (a.kind == TierOneActionKind::claim) extra = extra > UINT64_MAX - c.version.size ? UINT64_MAX : extra + c.version.size;
      if (acts.empty()) actions_.erase(c.doc);
      else actions_[c.doc] = std::move(acts);
    }
  }
  // This round's actions, in the reference's order (oldest version first).
  if (in.local && !rebuilding()) {
    std::vector<std::pair<const std::pair<std::int64_t, std::string>*, const std::vector<TierOneAction>*>> ordered;
    for (const auto& [doc, acts] : actions_)
      if (auto k = round_keys_.find(doc); k != round_keys_.end()) ordered.push_back({&k->second, &acts});
    std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
    for (const auto& [key, acts] : ordered)
      for (const auto& a : *acts) out.actions.push_back(a);
  }
  return out;
}

}  // namespace fedswarm
