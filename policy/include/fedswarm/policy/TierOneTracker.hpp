// TierOneTracker: the one-Tier-1-copy rule (TierOneRule.hpp) kept up to date
// incrementally, so that a round costs what changed, not what the catalog holds.
//
// It keeps, per version (by the catalog's dense doc number), the verdict's status; the
// counts by status; the violating versions with when their violation began and the
// pending ones with their deadlines (the compliance report's order); the local node's
// current actions; the claims that reserve capacity (CapacityLedger's live part); and
// a timer per version for the next moment its verdict can change by time alone. A round
// re-judges only:
// - the versions whose records changed (`changed`: the catalog's touched ids);
// - versions whose timer is due: a claim's effective deadline passed, a pass stopped
//   being recent (retry_after), a violation it reported aged, the keeper of surplus
//   copies settled (TierOneDecision::release_at: exactly when keeper.up_since + settle
//   and its complete record's time + settle have both passed);
// - the versions a member holds or claims when that member's liveness changed (alive,
//   or present: down for less than grace_seconds — the grace end is a member timer —
//   or, while alive, up_since: the keeper of surplus copies settles from it);
// - when any member's committed bytes, capacity, aliveness or presence changed: every
//   open version (violating or pending), whose chain depends on them;
// - the versions for which the local node has an action or a live claim (its ETA and
//   figures change every round) — except those whose only actions are drop_surplus,
//   which read neither (a drop the engine skipped, a subscription wanting the version,
//   is not asked again every round); every open version when acting starts or stops;
//   and, when acting starts or a rebuild ends, the versions where the local node is a
//   surplus holder without its drop_surplus action yet.
// Verdicts of every other version cannot have changed, so after every round the verdicts,
// the members' committed bytes and the local actions are those TierOneRule::evaluate
// gives on the whole catalog (tests/policy/tier_one_tracker_test.cpp checks exactly
// that against the reference on random record streams with liveness changes).
//
// Committed bytes: the caller gives each member's complete-replica bytes (the catalog
// maintains them: NodeTotals::complete_bytes); the tracker adds the claims that
// reserve (take, not held complete by the claimant, version not retracted, effective
// deadline ≥ now), which it learns from the cases it loads.
//
// Rebuild: the first round, a call to `invalidate`, or a change of the member set (keys
// or sites) starts a rebuild: every doc is judged again, at most `rebuild_chunk` docs
// per round (`rebuilding()` says whether more are left; the caller schedules the next
// round at once). During a rebuild no actions are given and the counts cover the docs
// judged so far (`rebuild_progress`). When the last chunk is done, the open versions
// are judged again with the final committed bytes and actions resume.
//
// Local actions come in the reference's order: every action of a version the local
// node must claim or decline (violating, local is the assignee) is decided after the
// others, oldest version first (published_at, then instance id), the bytes claimed
// earlier in the round counting against the quota of later ones.
//
// Contract: pure logic over a case source (no I/O of its own); single-threaded (the
// owner's thread: the replication loop). Memory: one byte per doc plus entries for
// open versions, reserving claims, timers, actions and versions with surplus copies.
// Errors: the source's (`io`), and `unavailable` (reason cancelled) when `stop` is set
// between chunks; after an error the next round rebuilds.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "fedswarm/policy/TierOneConfig.hpp"
#include "fedswarm/policy/TierOneRule.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

// A TierOneCase that owns its records (TierOneCase holds spans).
struct TierOneCaseData {
  std::uint32_t doc = 0;
  TierOneVersion version;
  std::vector<ReplicaLocation> replicas;
  std::vector<ClaimInfo> claims;
  std::vector<PublicKey> previous_holders;

  TierOneCase view(std::optional<std::int64_t> local_eta = std::nullopt) const;
};

// Where the tracker reads cases (the engine: the catalog; tests: an in-memory snapshot).
class TierOneCaseSource {
 public:
  virtual ~TierOneCaseSource() = default;
  // One past the highest doc number.
  virtual Result<std::uint32_t> doc_count() = 0;
  // The cases of `docs`, in that order; unknown docs are left out.
  virtual Result<std::vector<TierOneCaseData>> load(std::span<const std::uint32_t> docs) = 0;
  // The cases of docs [first, first + max).
  virtual Result<std::vector<TierOneCaseData>> load_range(std::uint32_t first, std::size_t max) = 0;
  // Docs of the versions for which `member` has a replica record or a claim.
  virtual Result<std::vector<std::uint32_t>> docs_of(const PublicKey& member) = 0;
};

struct TierOneTrackerInput {
  std::int64_t now = 0;
  // The roster's Tier-1 members with their liveness; `committed` = the member's
  // complete-replica bytes (the tracker adds its reserving claims).
  std::vector<TierOneMember> members;
  // Docs whose version, replicas or claims changed since the last round.
  std::vector<std::uint32_t> changed;
  // The acting node (nullopt: judge only, no actions).
  std::optional<TierOneLocal> local;
  std::map<std::uint32_t, std::int64_t> local_etas;  // by doc: the local transfer's expected end
  const std::atomic<bool>* stop = nullptr;           // checked between chunks
};

struct TierOneTrackerRound {
  std::vector<TierOneAction> actions;  // the local node's, in the reference's order
  std::size_t judged = 0;              // versions judged this round
  bool rebuilding = false;             // more rebuild chunks are left
};

struct TierOneCounts {
  std::uint64_t versions = 0, compliant = 0, pending = 0, violating = 0, exempt = 0;
  std::uint64_t blocked = 0;          // violating with nobody to assign
  std::uint64_t violating_bytes = 0;
  std::int64_t oldest_violation = 0;  // earliest violating_since; 0: none
};

class TierOneTracker {
 public:
  // Docs judged per round while rebuilding (bounds a round's time and memory).
  static constexpr std::size_t kRebuildChunk = 20'000;
  // Docs loaded per batch otherwise (bounds memory when many open versions move).
  static constexpr std::size_t kLoadChunk = 4'096;

  explicit TierOneTracker(TierOneConfig config = {}, std::size_t rebuild_chunk = kRebuildChunk);

  Result<TierOneTrackerRound> round(const TierOneTrackerInput& in, TierOneCaseSource& source);
  // The next round rebuilds (e.g. a new roster, a catalog error).
  void invalidate();

  bool rebuilding() const { return rebuild_next_.has_value(); }
  // Docs judged by the rebuild so far and in all (doc_count at its start).
  std::pair<std::uint32_t, std::uint32_t> rebuild_progress() const;

  const TierOneCounts& counts() const { return counts_; }
  // The status of `doc` (nullopt: not judged).
  std::optional<TierOneStatus> status(std::uint32_t doc) const;
  bool blocked(std::uint32_t doc) const;
  // Docs with `status`, in report order (violating: longest first; pending: nearest
  // deadline first; others: doc order), from `offset`, at most `limit`.
  std::vector<std::uint32_t> page(TierOneStatus status, std::size_t offset, std::size_t limit) const;
  std::optional<std::int64_t> violating_since(std::uint32_t doc) const;
  // The members as of the last round, `committed` including reserving claims.
  const std::vector<TierOneMember>& members() const { return members_; }
  // The local node's current actions, by doc.
  const std::map<std::uint32_t, std::vector<TierOneAction>>& actions() const { return actions_; }
  // The earliest time a round has something to do by time alone (INT64_MAX: none).
  std::int64_t next_due() const;
  // Every doc's status, for tests (unknown: nullopt).
  std::size_t docs() const { return status_.size(); }

 private:
  struct Reservation {
    std::int64_t deadline = 0;  // effective
    std::uint64_t size = 0;
  };
  struct MemberView {
    bool alive = true, present = true;
    std::int64_t down_since = 0, up_since = 0;
    std::uint64_t capacity = 0, committed = 0;
  };

  void start_rebuild();
  void forget_all();
  bool present(const TierOneMember& m, std::int64_t now) const;
  // Reservations of `c`'s version: replaced by what its records say now.
  void reserve(const TierOneCaseData& c);
  std::uint64_t reserved(const PublicKey& member, std::int64_t now) const;
  // Docs where `local` is a surplus holder and has no action yet (judged while not
  // acting or by a rebuild): its drop_surplus is still to be decided.
  std::vector<std::uint32_t> surplus_without_action(const PublicKey& local) const;
  // Sets members_ (committed with reservations); true if what the chain reads changed.
  bool refresh_members(const TierOneTrackerInput& in);
  // Judges `c`, updates every table; appends to `deferred` if the local node must
  // claim or decline it (decided later, in order).
  void judge(const TierOneCaseData& c, const TierOneTrackerInput& in, std::vector<TierOneCaseData>* deferred);
  void set_status(std::uint32_t doc, std::uint8_t code, std::uint64_t size, std::int64_t since, std::int64_t deadline);
  void schedule(std::uint32_t doc, const TierOneCaseData& c, const TierOneDecision& d, std::int64_t now);
  Result<std::vector<TierOneCaseData>> load(TierOneCaseSource& source, const std::vector<std::uint32_t>& docs,
                                             const TierOneTrackerInput& in);
  Status judge_docs(TierOneCaseSource& source, const std::vector<std::uint32_t>& docs, const TierOneTrackerInput& in,
                    std::vector<TierOneCaseData>& deferred, std::size_t& judged);

  TierOneConfig config_;
  TierOneRule rule_;
  std::size_t rebuild_chunk_;

  std::vector<std::uint8_t> status_;  // by doc: 0 unknown, else 1 + TierOneStatus, | kBlockedBit
  struct DocInfo {
    std::uint64_t size = 0;
    std::int64_t since = 0;     // violating: since; pending: deadline
  };
  std::map<std::uint32_t, DocInfo> open_;                     // violating and pending docs
  std::set<std::pair<std::int64_t, std::uint32_t>> violating_by_since_;
  std::set<std::pair<std::int64_t, std::uint32_t>> pending_by_deadline_;
  std::multimap<std::int64_t, std::uint32_t> timers_;         // time → doc (stale entries skipped)
  std::map<std::uint32_t, std::int64_t> scheduled_;           // doc → its live timer
  std::multimap<std::int64_t, PublicKey> member_timers_;      // grace ends
  std::map<std::pair<PublicKey, std::uint32_t>, Reservation> reservations_;
  std::map<std::uint32_t, std::vector<TierOneAction>> actions_;
  std::map<std::uint32_t, std::vector<PublicKey>> surplus_;   // compliant docs with surplus holders
  std::vector<TierOneMember> members_;                        // by key, committed with reservations
  std::map<PublicKey, MemberView> seen_;                      // as of the last round
  std::map<std::uint32_t, std::pair<std::int64_t, std::string>> round_keys_;  // judged this round: (published_at, id)
  TierOneCounts counts_;
  std::optional<std::uint32_t> rebuild_next_;  // next doc of the rebuild; nullopt: none
  std::uint32_t rebuild_end_ = 0;
  std::set<std::uint32_t> rebuild_local_;      // judged by the rebuild with a live local claim
  bool fresh_ = true;                          // never rebuilt
  bool was_acting_ = false;                    // the last round had a local node
  std::int64_t last_now_ = 0;
};

}  // namespace fedswarm
