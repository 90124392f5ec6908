// TierOneDuty: a node's side of the one-Tier-1-copy rule (DESIGN §7,
// policy/TierOneRule.hpp) — every node keeps the rule's verdicts up to date for
// `compliance` and `health` (a TierOneTracker over the catalog: a round costs what
// changed); a Tier-1 node also acts on them:
// - claim: sign a Claim{take, deadline} record and fetch the version through the swarm;
// - fetch: make sure the claimed version is being fetched (e.g. after a restart);
// - abandon, release, give_up, decline: sign a Claim{release} record;
// - drop_surplus (its copy is surplus: the holder it repaired is back and settled):
//   unless a subscription of this node wants the version (then it is kept, and judged
//   again once no subscription wants it), stop seeding it, then
//   drop_local_copy (DropLocalCopy.hpp): one transaction with a signed Replica{dropped}
//   record and the local row dropped, the version directory removed, the path cleared
//   (a crash in between is finished at the replication loop's start);
// - and it cancels every fetch it owns ("rule fetch") that has no current claim or
//   fetch action — the claim was released, expired, passed to the next Tier-1 or became
//   moot — unless a subscription wants that version (then it is only disowned). A
//   cancelled fetch's catalog row becomes `dropped` and its staged files are deleted
//   (SwarmEngine::cancel). Nothing is cancelled while the tracker rebuilds (it gives
//   no actions then).
// Records are signed with Catalog::append_local; the ids signed for come back as
// changes of the next round; the caller pushes the records to gossip.
//
// A round's inputs: the instance ids whose records changed (the catalog's touched ids;
// every version of their datasets is judged again, since a version's previous holders
// and supersession depend on its siblings), the members' liveness, and this node's
// figures:
// - quota = min(cap, committed + free): cap is [node] capacity, or the roster capacity
//   when that is 0; committed is this node's complete replicas + reserving claims (as
//   of the tracker's last round); free is the data root's free space.
// - observed_rate: size / wall time (claim or adoption to placement) of the last rule
//   fetches placed (on_placed); 0 until one is.
// - backlog: bytes still to fetch of the rule fetches.
// - local ETA (per rule fetch): a paused fetch has no foreseeable end, so its claim is
//   given up; an active one is expected at now + remaining / its average rate since
//   this duty started it, once it has run for a tenth of its claim's span (at least
//   kEtaWarmup) and made progress; else unknown (its deadline decides).
//
// Which fetches are rule fetches: those this duty started (claim or fetch action), and,
// after a restart (SwarmEngine::restore re-adds them), a fetch of a version that no
// subscription wants, whose latest own claim is a take and that this node never held.
//
// Duplicates: the rule asks for a record only when the catalog lacks it, and the
// catalog is written before the next round reads it. The duty also remembers what it
// signed and never signs twice for one version within one second: at equal times a
// release outranks a take (TierOneCase.hpp), so a take signed in the same second as a
// release would be void.
//
// Contract: single-threaded — every call on the replication loop's thread (the one that
// owns the SwarmEngine). Options' pointers must outlive the duty. `round` returns the
// catalog's errors (`io`; the next round rebuilds); failures of single actions (a
// refused record, a fetch that cannot start, a cancel that must wait) are reported in
// the round's `errors` and retried by the next round.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fedswarm/engine/ComplianceReport.hpp"
#include "fedswarm/policy/TierOneConfig.hpp"
#include "fedswarm/policy/TierOneTracker.hpp"
#include "fedswarm/protocol/Result.hpp"
#include "fedswarm/protocol/SigningKey.hpp"
#include "fedswarm/storage/Catalog.hpp"
#include "replication/CatalogCaseSource.hpp"
#include "swarm/SwarmEngine.hpp"

namespace fedswarm {

struct TierOneDutyOptions {
  TierOneConfig config;                   // [policy]
  Catalog* catalog = nullptr;             // required
  const SigningKey* key = nullptr;        // required: this node's key, signs claims
  SwarmEngine* swarm = nullptr;           // null: judge only (a node that is not Tier-1)
  std::filesystem::path data_root;        // its free space bounds the quota
  std::uint64_t configured_capacity = 0;  // [node] capacity; 0: the roster capacity
};

// What the caller knows at round time.
struct TierOneInputs {
  std::int64_t now = 0;  // unix seconds
  // Members' link liveness (this node need not be in it: absent counts alive).
  LivenessMap liveness;
  std::vector<std::string> peers;  // swarm endpoints "ip:port" for new fetches
  // Instance ids the subscriptions want: their fetches are never cancelled by the rule.
  std::set<std::string> subscribed;
  // Instance ids whose records changed since the last round.
  std::vector<std::string> changed;
  // false: judge only, sign and change nothing (e.g. while the links are still coming
  // up and every peer looks down, or on a node that is not Tier-1).
  bool act = true;
  const std::atomic<bool>* stop = nullptr;
};

// This node's room for the rule, as last measured (status `capacity`).
struct TierOneCapacity {
  std::uint64_t configured = 0;                 // [node] capacity (0: not set)
  std::uint64_t roster = 0;                     // this node's roster capacity (0: not a member)
  std::optional<std::uint64_t> data_root_free;  // nullopt: could not be read
  std::uint64_t committed = 0;                  // complete replicas + reserving claims
  std::uint64_t quota = 0;                      // what the rule may commit here (see header)
  double observed_rate = 0;                     // bytes/s; 0: unknown
  std::uint64_t backlog = 0;                    // bytes left in rule fetches
};

// What one round did.
struct TierOneRound {
  bool rebuilding = false;           // the tracker has more of its rebuild to do
  std::size_t judged = 0;
  std::uint64_t signed_records = 0;  // claims, releases and dropped records appended (push them)
  std::vector<std::string> done;     // one line per action taken, for the log
  std::vector<Error> errors;         // actions that failed (retried next time)
};

class TierOneDuty {
 public:
  // A rule fetch is given an ETA only after running at least this long (a rate measured
  // over the first seconds of a transfer is noise, and a wrong ETA gives a claim up).
  static constexpr std::chrono::seconds kEtaWarmup{10};
  // Rate samples kept for observed_rate.
  static constexpr std::size_t kRateSamples = 8;

  explicit TierOneDuty(TierOneDutyOptions options);

  Result<TierOneRound> round(const TierOneInputs& in);
  // The next round judges every version again (a new roster, a catalog error).
  void invalidate() { tracker_.invalidate(); }

  // The swarm placed a version (SwarmEvent::placed): a rule fetch is done; its wall
  // time feeds observed_rate.
  void on_placed(const std::string& instance_id);

  std::set<std::string> fetches() const;
  const TierOneCapacity& capacity() const { return capacity_; }
  const TierOneTracker& tracker() const { return tracker_; }
  TierOneCaseSource& source() { return source_; }
  const TierOneConfig& config() const { return opt_.config; }
  // When a round has something to do by time alone (unix seconds; INT64_MAX: never).
  std::int64_t next_due() const { return tracker_.next_due(); }

  // Bytes available to this user on the file system of `path` (std::filesystem::space),
  // or nullopt when it cannot be read. The one definition of "free space" (heartbeats,
  // status, the quota).
  static std::optional<std::uint64_t> free_bytes(const std::filesystem::path& path);

 private:
  struct RuleFetch {
    std::chrono::steady_clock::time_point started;
    std::uint64_t bytes_at_start = 0;
    std::uint64_t size = 0;
    bool measured = true;  // false: adopted after a restart (its start is unknown)
    std::optional<std::uint32_t> doc;
    std::int64_t claim_span = 0;  // deadline − made_at of the claim it serves (0: unknown)
  };
  struct Signed {
    ClaimAction action = ClaimAction::take;
    std::int64_t at = 0;
  };

  Result<bool> sign(const TierOneAction& action, std::int64_t now, TierOneRound& round);
  // drop_surplus: true if the copy was dropped (record signed), false if there was no
  // complete local copy to drop.
  Result<bool> drop_surplus(const std::string& instance_id, const std::string& why, std::int64_t now);
  Status start_fetch(const std::string& instance_id, const TierOneInputs& in, std::uint64_t size, bool measured,
                     std::int64_t claim_span);
  double observed_rate() const;
  Result<std::vector<std::uint32_t>> docs_of_changes(const std::vector<std::string>& ids);

  TierOneDutyOptions opt_;
  CatalogCaseSource source_;
  TierOneTracker tracker_;
  std::map<std::string, RuleFetch> fetches_;
  std::map<std::string, Signed> signed_;
  std::vector<std::string> own_changes_;  // ids this duty signed for: next round's changes
  std::set<std::string> kept_surplus_;     // surplus copies kept for a subscription
  std::deque<std::pair<double, double>> rate_samples_;  // (bytes, seconds)
  TierOneCapacity capacity_;
};

}  // namespace fedswarm
