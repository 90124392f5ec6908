// ErrataRetraction: `fedswarm retract --errata-file` — one signed retraction per dataset
// version an ES-DOC errata issue lists that this node's key published, with the issue's
// uid as errata id and its title as reason.
//
// Contract
// - Every listed version is judged against the catalog first: `retract` (published by
//   `key`, not retracted), or skipped as `unknown` (not in this catalog),
//   `not_publisher` (another key published it) or `already_retracted` (by anyone,
//   this errata included, so a second run retracts nothing and reports why).
// - Then, unless `dry_run`, all `retract` items are signed and stored with ONE
//   Catalog::append_local_batch (one transaction): all of them or, on any error, none
//   (the error is returned; the catalog is as before). Skipped items never make the
//   run fail.
// - The caller tells a running node afterwards (notify_node) so the records are pushed
//   to peers at once; otherwise they go out at the node's next gossip round.
// - `progress(done, total)` is called on the calling thread after each listed version
//   is judged and once more when the records are stored.
// - Errors: those of Catalog (io, or a refusal when the catalog changed between the
//   judging and the write, e.g. a retraction arrived by gossip meanwhile: run again).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "fedswarm/engine/ErrataIssue.hpp"
#include "fedswarm/protocol/SigningKey.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

enum class ErrataOutcome : std::uint8_t { retract, unknown, not_publisher, already_retracted };
// "retract", "unknown", "not_publisher", "already_retracted" (the JSON names).
std::string_view to_string(ErrataOutcome o);

struct ErrataItem {
  ErrataDataset dataset;
  ErrataOutcome outcome = ErrataOutcome::unknown;
  std::string detail;     // why it is skipped (e.g. "published by CNRM"), empty for retract
  std::uint64_t seq = 0;  // the retraction's record seq once stored
};

struct ErrataRetractionOptions {
  bool dry_run = false;
  std::int64_t now = 0;  // retracted_at and the catalog's receipt time
  std::function<void(std::size_t done, std::size_t total)> progress;
};

struct ErrataRetractionReport {
  std::vector<ErrataItem> items;  // the issue's order
  bool stored = false;            // the retractions were written (not a dry run, at least one)
  std::size_t count(ErrataOutcome o) const;
};

Result<ErrataRetractionReport> retract_errata(Catalog& catalog, const SigningKey& key, const ErrataIssue& issue,
                                              const ErrataRetractionOptions& options);

}  // namespace fedswarm
