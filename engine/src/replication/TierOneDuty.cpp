#include "replication/TierOneDuty.hpp"


#include <cmath>
#include <limits>

#include "fedswarm/policy/CapacityLedger.hpp"
#include "fedswarm/protocol/RecordKind.hpp"

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
std::chrono::steady_clock::duration eta_warmup(const std::map<std::string, ClaimInfo>& own_claims,
                                               const std::string& id) {
  std::chrono::steady_clock::duration warmup = TierOneDuty::kEtaWarmup;
  if (auto c = own_claims.find(id); c != own_claims.end() && c->second.deadline > c->second.made_at) {
    const std::int64_t tenth = std::min<std::int64_t>((c->second.deadline - c->second.made_at) / 10, 86400);
    warmup = std::max<std::chrono::steady_clock::duration>(warmup, std::chrono::seconds(tenth));
  }
  return warmup;
}

}  // namespace

TierOneDuty::TierOneDuty(TierOneDutyOptions options) : opt_(std::move(options)), rule_(opt_.config) {}

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
  auto it = fetches_.find(instance_id);
  if (it == fetches_.end()) return;
  if (it->second.measured) {
    // Claim to placement, verification included: what a deadline has to cover.
    const double seconds =
        std::max(1e-3, std::chrono::duration<double>(SteadyClock::now() - it->second.started).count());
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
  // same second could be void, so it waits for the next evaluation.
  if (auto it = signed_.find(id); it != signed_.end() && it->second.at >= now) return false;
  FEDSWARM_ASSIGN_OR_RETURN(Envelope env, opt_.catalog->append_local(*opt_.key, RecordKind::claim, record->encode(), now));
  (void)env;
  signed_[id] = {record->action, now};
  ++round.signed_records;
  return true;
}

Status TierOneDuty::start_fetch(const std::string& instance_id, const TierOneInputs& in, std::uint64_t size,
                                bool measured) {
  FEDSWARM_ASSIGN_OR_RETURN(Manifest manifest, opt_.catalog->manifest(instance_id));
  FetchOptions fo;
  fo.peers = in.peers;
  FEDSWARM_TRY(opt_.swarm->fetch(manifest, fo));
  fetches_[instance_id] = RuleFetch{SteadyClock::now(), 0, size, measured};
  return {};
}

Result<TierOneRound> TierOneDuty::evaluate(const TierOneInputs& in) {
  TierOneRound round;
  const std::int64_t now = in.now;
  const PublicKey self = opt_.key->public_key();
  FEDSWARM_ASSIGN_OR_RETURN(ReplicationState state, opt_.catalog->replication_state());
  FEDSWARM_ASSIGN_OR_RETURN(std::optional<Roster> roster, opt_.catalog->roster());
  TierOneSnapshot snapshot = tier_one_snapshot(state, roster, in.liveness);

  std::map<std::string, TransferInfo> transfers;
  for (auto& t : opt_.swarm->transfers()) {
    std::string id = t.instance_id;
    transfers.emplace(std::move(id), std::move(t));
  }
  std::map<std::string, const VersionInfo*> versions;
  for (const auto& v : state.versions) versions.emplace(v.instance_id(), &v);
  std::map<std::string, ClaimInfo> own_claims;
  for (const auto& c : state.claims) {
    if (c.claim.node != self) continue;
    auto [it, fresh] = own_claims.emplace(c.instance_id, c.claim);
    if (!fresh && newer_claim(c.claim, it->second)) it->second = c.claim;
  }
  std::set<std::string> own_replicas;
  for (const auto& r : state.replicas)
    if (r.location.node == self) own_replicas.insert(r.instance_id);

  // Rule fetches that ended without us: placed (now a seed; on_placed took its sample),
  // or taken out of the swarm by someone else (a retraction).
  for (auto it = fetches_.begin(); it != fetches_.end();) {
    auto t = transfers.find(it->first);
    if (t == transfers.end() || t->second.kind == TransferKind::seed) it = fetches_.erase(it);
    else ++it;
  }
  // Fetches of claimed versions that SwarmEngine::restore re-added after a restart.
  for (const auto& [id, t] : transfers) {
    if (t.kind != TransferKind::fetch || fetches_.count(id) || in.subscribed.count(id) || own_replicas.count(id)) continue;
    auto c = own_claims.find(id);
    if (c == own_claims.end() || c->second.action != ClaimAction::take) continue;
    fetches_[id] = RuleFetch{SteadyClock::now(), t.bytes_done, t.bytes_total, false};
  }

  // --- local figures ---------------------------------------------------------------------
  CapacityLedger ledger(opt_.config);
  for (const auto& v : state.versions)
    ledger.put_version(v.instance_id(), v.size, v.status == VersionStatus::retracted);
  for (const auto& r : state.replicas) ledger.put_replica(r.instance_id, r.location);
  for (const auto& c : state.claims) ledger.put_claim(c.instance_id, c.claim);
  TierOneCapacity cap;
  cap.configured = opt_.configured_capacity;
  if (roster)
    if (const RosterMember* me = roster->member(self)) cap.roster = me->capacity;
  cap.committed = ledger.committed(self, now);
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
    } else if (f.measured && steady_now - f.started >= eta_warmup(own_claims, id) && t.bytes_done > f.bytes_at_start) {
      const double seconds = std::chrono::duration<double>(steady_now - f.started).count();
      const double rate = static_cast<double>(t.bytes_done - f.bytes_at_start) / seconds;
      const double to_go = std::ceil(static_cast<double>(left) / rate);
      eta = to_go >= 1e15 ? std::numeric_limits<std::int64_t>::max() : now + static_cast<std::int64_t>(to_go);
    }
    if (eta) snapshot.local_etas.emplace_back(id, *eta);
  }
  capacity_ = cap;

  std::optional<TierOneLocal> local;
  if (in.act) local = TierOneLocal{self, cap.observed_rate, cap.backlog, cap.quota};
  round.report = rule_.evaluate(snapshot, now, local);
  round.evaluated = true;
  if (!in.act) return round;

  // --- actions ---------------------------------------------------------------------------
  std::set<std::string> keep;  // versions with a claim or fetch action: their fetches stay
  for (const auto& a : round.report.actions) {
    const std::string id = a.instance_id();
    const std::uint64_t size = versions.count(id) ? versions.at(id)->size : 0;
    switch (a.kind) {
      case TierOneActionKind::claim: {
        keep.insert(id);
        auto signed_now = sign(a, now, round);
        if (!signed_now) {
          round.errors.push_back(signed_now.error().with_context("claiming " + id));
          break;
        }
        if (!*signed_now) break;
        round.done.push_back("claimed " + id + " (" + human_deadline(a.deadline, now) + "): " + a.why);
        if (auto st = start_fetch(id, in, size, true); !st) round.errors.push_back(st.error().with_context("fetching " + id));
        break;
      }
      case TierOneActionKind::fetch: {
        keep.insert(id);
        auto t = transfers.find(id);
        if (t == transfers.end()) {
          if (auto st = start_fetch(id, in, size, false); !st)
            round.errors.push_back(st.error().with_context("fetching " + id));
          else
            round.done.push_back("resumed fetching " + id + ": " + a.why);
        } else if (t->second.kind == TransferKind::fetch && !fetches_.count(id)) {
          // A subscription's fetch of a version this node claimed: the claim rides on it.
          fetches_[id] = RuleFetch{steady_now, t->second.bytes_done, t->second.bytes_total, false};
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
    }
  }
  // Everything fetched for the rule must come from a claim or fetch action of this
  // evaluation (TierOneRule.hpp); the rest lost its claim.
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
      // conflict: being placed — the next evaluation finds it placed or cancels it.
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
