#include "replication/TierOneDuty.hpp"

#include <cmath>
#include <limits>

#include "fedswarm/protocol/RecordKind.hpp"
#include "replication/DropLocalCopy.hpp"

namespace fedswarm {

namespace {

using SteadyClock = std::chrono::steady_clock;

std::uint64_t add_bytes(std::uint64_t a, std::uint64_t b) {
  return a > std::numeric_limits<std::uint64_t>::max() - b ? std::numeric_limits<std::uint64_t>::max() : a + b;
}

std::string human_deadline(std::int64_t deadline, std::int64_t now) {
  return "due in " + std::to_string(deadline > now ? deadline - now : 0) + " s";
}

// How long a rule fetch runs before its average rate is trusted for an ETA: a tenth of
// its claim's span, at least kEtaWarmup — the first seconds of a transfer (peers still
// connecting) say little, and a wrong ETA gives a claim up.
SteadyClock::duration eta_warmup(std::int64_t claim_span) {
  SteadyClock::duration warmup = TierOneDuty::kEtaWarmup;
  if (claim_span > 0)
    warmup = std::max<SteadyClock::duration>(warmup, std::chrono::seconds(std::min<std::int64_t>(claim_span / 10, 86400)));
  return warmup;
}

std::string split_dataset(const std::string& instance_id) {
  auto dot = instance_id.rfind('.');
  return dot == std::string::npos ? instance_id : instance_id.substr(0, dot);
}

}  // namespace

TierOneDuty::TierOneDuty(TierOneDutyOptions options)
    : opt_(std::move(options)), source_(*opt_.catalog), tracker_(opt_.config) {}

std::optional<std::uint64_t> TierOneDuty::free_bytes(const std::filesystem::path& path) {
  std::error_code ec;
  // `available` is f_bavail: what the node, an unprivileged writer, can use.
  const auto space = std::filesystem::space(path, ec);
  if (ec) return std::nullopt;
  return space.available;
}

std::set<std::string> TierOneDuty::fetches() const {
  std::set<std::string> out;
  for (const auto& [id, f] : fetches_) out.insert(id);
  return out;
}

double TierOneDuty::observed_rate() const {
  double bytes = 0, seconds = 0;
  for (const auto& [b, s] : rate_samples_) {
    bytes += b;
    seconds += s;
  }
  return seconds > 0 ? bytes / seconds : 0;
}

void TierOneDuty::on_placed(const std::string& instance_id) {
  own_changes_.push_back(instance_id);  // its replica record was just signed
  auto it = fetches_.find(instance_id);
  if (it == fetches_.end()) return;
  if (it->second.measured) {
    // Claim to placement, verification included: what a deadline has to cover.
    const double seconds = std::max(1e-3, std::chrono::duration<double>(SteadyClock::now() - it->second.started).count());
    rate_samples_.emplace_back(static_cast<double>(it->second.size), seconds);
    while (rate_samples_.size() > kRateSamples) rate_samples_.pop_front();
  }
  fetches_.erase(it);
}

Result<bool> TierOneDuty::sign(const TierOneAction& action, std::int64_t now, TierOneRound& round) {
  auto record = action.record(now);
  if (!record) return false;
  const std::string id = action.instance_id();
  // At equal made_at a release outranks a take: a second record for the version in the
  // same second could be void, so it waits for the next round.
  if (auto it = signed_.find(id); it != signed_.end() && it->second.at >= now) return false;
  FEDSWARM_ASSIGN_OR_RETURN(Envelope env, opt_.catalog->append_local(*opt_.key, RecordKind::claim, record->encode(), now));
  (void)env;
  signed_[id] = {record->action, now};
  own_changes_.push_back(id);
  ++round.signed_records;
  return true;
}

Status TierOneDuty::start_fetch(const std::string& instance_id, const TierOneInputs& in, std::uint64_t size,
                                bool measured, std::int64_t claim_span) {
  FEDSWARM_ASSIGN_OR_RETURN(Manifest manifest, opt_.catalog->manifest(instance_id));
  FetchOptions fo;
  fo.peers = in.peers;
  FEDSWARM_TRY(opt_.swarm->fetch(manifest, fo));
  RuleFetch f{SteadyClock::now(), 0, size, measured, std::nullopt, claim_span};
  FEDSWARM_ASSIGN_OR_RETURN(f.doc, opt_.catalog->doc_of(instance_id));
  fetches_[instance_id] = f;
  return {};
}

Result<bool> TierOneDuty::drop_surplus(const std::string& instance_id, const std::string& why, std::int64_t now) {
  FEDSWARM_ASSIGN_OR_RETURN(std::optional<LocalReplica> local, opt_.catalog->local(instance_id));
  // Only a placed, complete copy is released (a row that moved on since: nothing to do).
  if (!local || local->state != LocalState::complete || local->path.empty()) return false;
  FEDSWARM_ASSIGN_OR_RETURN(std::optional<VersionInfo> version, opt_.catalog->version(instance_id));
  if (!version) return false;
  // Seeding stops before the files go.
  FEDSWARM_TRY(opt_.swarm->remove(instance_id));
  auto seq = drop_local_copy(*opt_.catalog, *opt_.key, *local, *version, true, "surplus Tier-1 copy released: " + why, now);
  if (!seq) {
    // Nothing changed in the catalog (the record and the row go together): seed it
    // again (a complete local row is seeded, not fetched). Otherwise the row says
    // "dropped with a path" and the replication loop's start finishes the deletion.
    auto row = opt_.catalog->local(instance_id);
    if (row && *row && (*row)->state == LocalState::complete)
      if (auto m = opt_.catalog->manifest(instance_id)) (void)opt_.swarm->fetch(*m, FetchOptions{});
    return std::move(seq).error();
  }
  own_changes_.push_back(instance_id);
  return true;
}

Result<std::vector<std::uint32_t>> TierOneDuty::docs_of_changes(const std::vector<std::string>& ids) {
  // A version's verdict reads its siblings (previous holders, supersession): every
  // version of a touched dataset is judged again.
  std::set<std::string> datasets;
  for (const auto& id : ids) datasets.insert(split_dataset(id));
  std::set<std::uint32_t> docs;
  for (const auto& d : datasets) {
    FEDSWARM_ASSIGN_OR_RETURN(auto versions, opt_.catalog->versions_of(d));
    for (const auto& v : versions) docs.insert(v.doc);
  }
  return std::vector<std::uint32_t>(docs.begin(), docs.end());
}

Result<TierOneRound> TierOneDuty::round(const TierOneInputs& in) {
  TierOneRound round;
  const std::int64_t now = in.now;
  const PublicKey self = opt_.key->public_key();
  const bool acting = in.act && opt_.swarm != nullptr;

  std::vector<std::string> changed = in.changed;
  changed.insert(changed.end(), own_changes_.begin(), own_changes_.end());
  own_changes_.clear();
  // Surplus copies kept for a subscription that no longer wants them: judged again, so
  // their drop_surplus comes back.
  for (auto it = kept_surplus_.begin(); it != kept_surplus_.end();) {
    if (in.subscribed.count(*it)) {
      ++it;
      continue;
    }
    changed.push_back(*it);
    it = kept_surplus_.erase(it);
  }
  FEDSWARM_ASSIGN_OR_RETURN(auto roster, opt_.catalog->roster());
  TierOneTrackerInput ti;
  ti.now = now;
  ti.stop = in.stop;
  FEDSWARM_ASSIGN_OR_RETURN(ti.members, tier_one_members(*opt_.catalog, roster, in.liveness));
  FEDSWARM_ASSIGN_OR_RETURN(ti.changed, docs_of_changes(changed));

  std::map<std::string, TransferInfo> transfers;
  if (opt_.swarm)
    for (auto& t : opt_.swarm->transfers()) {
      std::string id = t.instance_id;
      transfers.emplace(std::move(id), std::move(t));
    }

  // Rule fetches that ended without us: placed (now a seed; on_placed took its sample),
  // or taken out of the swarm by someone else (a retraction).
  for (auto it = fetches_.begin(); it != fetches_.end();) {
    auto t = transfers.find(it->first);
    if (t == transfers.end() || t->second.kind == TransferKind::seed) it = fetches_.erase(it);
    else ++it;
  }
  // Fetches of claimed versions that SwarmEngine::restore re-added after a restart.
  for (const auto& [id, t] : transfers) {
    if (t.kind != TransferKind::fetch || fetches_.count(id) || in.subscribed.count(id)) continue;
    FEDSWARM_ASSIGN_OR_RETURN(auto c, opt_.catalog->version_case(id));
    if (!c) continue;
    const ClaimInfo* own = nullptr;
    for (const auto& cl : c->claims)
      if (cl.node == self && (!own || newer_claim(cl, *own))) own = &cl;
    const bool held = std::any_of(c->replicas.begin(), c->replicas.end(), [&](const ReplicaLocation& r) { return r.node == self; });
    if (!own || own->action != ClaimAction::take || held) continue;
    fetches_[id] = RuleFetch{SteadyClock::now(), t.bytes_done, t.bytes_total, false, c->version.doc,
                             own->deadline - own->made_at};
  }

  // --- local figures ---------------------------------------------------------------------
  TierOneCapacity cap;
  cap.configured = opt_.configured_capacity;
  if (roster)
    if (const RosterMember* me = roster->member(self)) cap.roster = me->capacity;
  cap.committed = 0;
  for (const auto& m : tracker_.members())
    if (m.key == self) cap.committed = m.committed;
  if (cap.committed == 0)
    for (const auto& m : ti.members)
      if (m.key == self) cap.committed = m.committed;
  cap.data_root_free = free_bytes(opt_.data_root);
  const std::uint64_t limit = cap.configured ? cap.configured : cap.roster;
  // Committed bytes are already on disk (or allocated in staging), so they count
  // against the limit together with what is still free.
  cap.quota = cap.data_root_free ? std::min(limit, add_bytes(cap.committed, *cap.data_root_free)) : limit;
  cap.observed_rate = observed_rate();
  const auto steady_now = SteadyClock::now();
  for (const auto& [id, f] : fetches_) {
    const TransferInfo& t = transfers.at(id);
    const std::uint64_t left = t.bytes_total > t.bytes_done ? t.bytes_total - t.bytes_done : 0;
    cap.backlog = add_bytes(cap.backlog, left);
    std::optional<std::int64_t> eta;
    if (t.state == LocalState::paused) {
      // A disk error or repeated verification failures: no end in sight, pass it on.
      eta = std::numeric_limits<std::int64_t>::max();
    } else if (t.state == LocalState::verifying) {
      eta = now;
    } else if (f.measured && steady_now - f.started >= eta_warmup(f.claim_span) && t.bytes_done > f.bytes_at_start) {
      const double seconds = std::chrono::duration<double>(steady_now - f.started).count();
      const double rate = static_cast<double>(t.bytes_done - f.bytes_at_start) / seconds;
      const double to_go = std::ceil(static_cast<double>(left) / rate);
      eta = to_go >= 1e15 ? std::numeric_limits<std::int64_t>::max() : now + static_cast<std::int64_t>(to_go);
    }
    if (eta && f.doc) ti.local_etas[*f.doc] = *eta;
  }
  capacity_ = cap;
  if (acting) ti.local = TierOneLocal{self, cap.observed_rate, cap.backlog, cap.quota};

  auto r = tracker_.round(ti, source_);
  if (!r) return std::move(r).error();
  round.rebuilding = r->rebuilding;
  round.judged = r->judged;
  // The tracker's own view of this node's committed bytes, for the next quota.
  for (const auto& m : tracker_.members())
    if (m.key == self) capacity_.committed = m.committed;
  if (!acting || r->rebuilding) return round;

  // --- actions ---------------------------------------------------------------------------
  for (const auto& a : r->actions) {
    const std::string id = a.instance_id();
    std::uint64_t size = 0;
    if (auto t = transfers.find(id); t != transfers.end()) size = t->second.bytes_total;
    switch (a.kind) {
      case TierOneActionKind::claim: {
        auto signed_now = sign(a, now, round);
        if (!signed_now) {
          round.errors.push_back(signed_now.error().with_context("claiming " + id));
          break;
        }
        if (!*signed_now) break;
        round.done.push_back("claimed " + id + " (" + human_deadline(a.deadline, now) + "): " + a.why);
        if (auto v = opt_.catalog->version(id); v && *v) size = (*v)->size;
        if (auto st = start_fetch(id, in, size, true, a.deadline - now); !st)
          round.errors.push_back(st.error().with_context("fetching " + id));
        break;
      }
      case TierOneActionKind::fetch: {
        auto t = transfers.find(id);
        if (t == transfers.end()) {
          if (auto v = opt_.catalog->version(id); v && *v) size = (*v)->size;
          if (auto st = start_fetch(id, in, size, false, 0); !st)
            round.errors.push_back(st.error().with_context("fetching " + id));
          else
            round.done.push_back("resumed fetching " + id + ": " + a.why);
        } else if (t->second.kind == TransferKind::fetch && !fetches_.count(id)) {
          // A subscription's fetch of a version this node claimed: the claim rides on it.
          RuleFetch f{steady_now, t->second.bytes_done, t->second.bytes_total, false, std::nullopt, 0};
          if (auto doc = opt_.catalog->doc_of(id); doc) f.doc = *doc;
          fetches_[id] = f;
        }
        break;
      }
      case TierOneActionKind::abandon:
      case TierOneActionKind::release:
      case TierOneActionKind::give_up:
      case TierOneActionKind::decline: {
        auto signed_now = sign(a, now, round);
        if (!signed_now) round.errors.push_back(signed_now.error().with_context("releasing " + id));
        else if (*signed_now)
          round.done.push_back(std::string(to_string(a.kind)) + " " + id + " (release signed): " + a.why);
        break;
      }
      case TierOneActionKind::drop_surplus: {
        // The tracker gives this action once (it does not judge such a version every
        // round): a copy kept for a subscription is judged again when that ends.
        if (in.subscribed.count(id)) {
          if (kept_surplus_.insert(id).second)
            round.done.push_back("kept the surplus copy of " + id + ": a subscription of this node wants it");
          break;
        }
        auto dropped = drop_surplus(id, a.why, now);
        if (!dropped) {
          round.errors.push_back(dropped.error().with_context("releasing the surplus copy of " + id));
          own_changes_.push_back(id);  // judged again next round: retried while still surplus
        } else if (*dropped) {
          ++round.signed_records;
          round.done.push_back("released the surplus copy of " + id + " (dropped record signed): " + a.why);
        }
        break;
      }
    }
  }
  // Everything fetched for the rule must have a current claim or fetch action
  // (TierOneRule.hpp); the rest lost its claim.
  std::set<std::string> keep;
  for (const auto& [doc, acts] : tracker_.actions())
    for (const auto& a : acts)
      if (a.kind == TierOneActionKind::claim || a.kind == TierOneActionKind::fetch) keep.insert(a.instance_id());
  for (auto it = fetches_.begin(); it != fetches_.end();) {
    const std::string& id = it->first;
    if (keep.count(id)) {
      ++it;
      continue;
    }
    if (in.subscribed.count(id)) {
      round.done.push_back("left " + id + " to its subscription: this node's claim on it ended");
      it = fetches_.erase(it);
      continue;
    }
    auto st = opt_.swarm->cancel(id, "no longer fetched for the Tier-1 rule: this node's claim on it ended");
    if (!st) {
      // conflict: being placed — the next round finds it placed or cancels it.
      if (st.error().code != Errc::conflict) round.errors.push_back(st.error().with_context("cancelling " + id));
      ++it;
      continue;
    }
    round.done.push_back("cancelled the fetch of " + id + ": this node's claim on it ended");
    it = fetches_.erase(it);
  }
  for (auto it = signed_.begin(); it != signed_.end();) {
    if (it->second.at + 60 < now) it = signed_.erase(it);
    else ++it;
  }
  return round;
}

}  // namespace fedswarm
