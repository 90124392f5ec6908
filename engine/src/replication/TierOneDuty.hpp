// TierOneDuty: a Tier-1 node enacting the one-Tier-1-copy rule (DESIGN §7,
// policy/TierOneRule.hpp). Each evaluation reads one catalog snapshot, runs the rule with
// the node's link liveness and local figures, and does what the rule asks of this node:
// - claim: sign a Claim{take, deadline} record and fetch the version through the swarm;
// - fetch: make sure the claimed version is being fetched (e.g. after a restart);
// - abandon, release, give_up, decline: sign a Claim{release} record;
// - and it cancels every fetch it owns ("rule fetch") that the evaluation gave no claim
//   or fetch action — the claim was released, expired, passed to the next Tier-1 or
//   became moot — unless a subscription wants that version (then it is only disowned).
//   A cancelled fetch's catalog row becomes `dropped` and its staged files are deleted
//   (SwarmEngine::cancel).
// Records are signed with Catalog::append_local; the caller pushes them to gossip.
//
// Local figures (TierOneLocal)
// - quota = min(cap, committed + free): cap is [node] capacity, or the roster capacity
//   when that is 0; committed is CapacityLedger's count for this node (complete replicas
//   + live claims) from the same snapshot; free is the data root's free space
//   (statvfs, bytes available to this user). A claim that would not fit is declined.
// - observed_rate: size / wall time (claim or adoption to placement) of the last rule
//   fetches placed (on_placed); 0 until one is.
// - backlog: bytes still to fetch of the rule fetches.
// - local_eta (per rule fetch): a paused fetch (disk error, repeated verification
//   failures) has no foreseeable end, so its claim is given up; an active one is
//   expected at now + remaining / its average rate since this duty started it, once it
//   has run for a tenth of its claim's span (at least kEtaWarmup) and made progress;
//   else unknown (its deadline decides).
//
// Which fetches are rule fetches: those this duty started (claim or fetch action), and,
// after a restart (SwarmEngine::restore re-adds them), a fetch of a version that no
// subscription wants, whose latest own claim is a take and that this node never held
// (no own replica record) — so a `verify` re-fetch of a dropped copy is left alone.
//
// Duplicates: the rule asks for a record only when the catalog lacks it (a claim when
// the node has no live claim, a release when it has one), and the catalog is written
// before the next evaluation reads it, so no evaluation signs the same thing twice. The
// duty also remembers what it signed and never signs twice for one version within one
// second: at equal times a release outranks a take (TierOneCase.hpp), so a take signed
// in the same second as a release would be void.
//
// Contract: single-threaded — every call on the owner's thread (the daemon's io thread,
// the one that owns the SwarmEngine). Options' pointers must outlive the duty.
// evaluate returns the catalog's errors (`io`); failures of single actions (a refused
// record, a fetch that cannot start, a cancel that must wait) are reported in the
// round's `errors` and retried by the next evaluation.
#pragma once

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
#include "swarm/SwarmEngine.hpp"
#include "fedswarm/policy/TierOneConfig.hpp"
#include "fedswarm/policy/TierOneRule.hpp"
#include "fedswarm/protocol/Result.hpp"
#include "fedswarm/protocol/SigningKey.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

struct TierOneDutyOptions {
  TierOneConfig config;                  // [policy]
  Catalog* catalog = nullptr;            // required
  const SigningKey* key = nullptr;       // required: this node's key, signs claims
  SwarmEngine* swarm = nullptr;          // required
  std::filesystem::path data_root;       // statvfs'd for the free space
  std::uint64_t configured_capacity = 0;  // [node] capacity; 0: the roster capacity
};

// What the caller knows at evaluation time.
struct TierOneInputs {
  std::int64_t now = 0;  // unix seconds
  // Members' link liveness (this node need not be in it: absent counts alive).
  LivenessMap liveness;
  std::vector<std::string> peers;  // swarm endpoints "ip:port" for new fetches
  // Instance ids the subscriptions want: their fetches are never cancelled by the rule.
  std::set<std::string> subscribed;
  // false: evaluate and measure only, sign and change nothing (e.g. while the links
  // are still coming up and every peer looks down).
  bool act = true;
};

// This node's room for the rule, as last measured (status `capacity`).
struct TierOneCapacity {
  std::uint64_t configured = 0;            // [node] capacity (0: not set)
  std::uint64_t roster = 0;                // this node's roster capacity (0: not a member)
  std::optional<std::uint64_t> data_root_free;  // statvfs; nullopt: could not be read
  std::uint64_t committed = 0;             // CapacityLedger: complete replicas + live claims
  std::uint64_t quota = 0;                 // what the rule may commit here (see header)
  double observed_rate = 0;                // bytes/s; 0: unknown
  std::uint64_t backlog = 0;               // bytes left in rule fetches
};

// What one evaluation did.
struct TierOneRound {
  bool evaluated = false;
  std::uint64_t signed_records = 0;  // claims and releases appended (push them)
  std::vector<std::string> done;     // one line per action taken, for the log
  std::vector<Error> errors;         // actions that failed (retried next time)
  TierOneReport report;              // the rule's verdicts and this node's actions
};

class TierOneDuty {
 public:
  // A rule fetch is given an ETA only after running at least this long (a rate measured
  // over the first seconds of a transfer is noise, and a wrong ETA gives a claim up).
  static constexpr std::chrono::seconds kEtaWarmup{10};
  // Rate samples kept for observed_rate.
  static constexpr std::size_t kRateSamples = 8;

  explicit TierOneDuty(TierOneDutyOptions options);

  // One evaluation and its actions (see the header).
  Result<TierOneRound> evaluate(const TierOneInputs& in);

  // The swarm placed a version (SwarmEvent::placed): a rule fetch is done; its wall
  // time feeds observed_rate.
  void on_placed(const std::string& instance_id);

  // Rule fetches in progress, by instance id.
  std::set<std::string> fetches() const;
  const TierOneCapacity& capacity() const { return capacity_; }

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
  };
  struct Signed {
    ClaimAction action = ClaimAction::take;
    std::int64_t at = 0;
  };

  // Appends the action's claim record; false: not signed now (same second as the last
  // record for the version).
  Result<bool> sign(const TierOneAction& action, std::int64_t now, TierOneRound& round);
  Status start_fetch(const std::string& instance_id, const TierOneInputs& in, std::uint64_t size, bool measured);
  double observed_rate() const;

  TierOneDutyOptions opt_;
  TierOneRule rule_;
  std::map<std::string, RuleFetch> fetches_;
  std::map<std::string, Signed> signed_;
  std::deque<std::pair<double, double>> rate_samples_;  // (bytes, seconds)
  TierOneCapacity capacity_;
};

}  // namespace fedswarm
