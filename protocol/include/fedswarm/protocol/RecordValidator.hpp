// RecordValidator: receipt rules 1, 2 and 4 of DESIGN §3 for one envelope — signature,
// the author's permission under the roster, and a well-formed body within limits.
// Rules 3 (sequence) and 5 (immutability) need the catalog and are applied there.
//
// Contract
// - Pure: no I/O; the current roster, the pinned authority key, the time and a lookup
//   of a stored version's publisher are inputs.
// - Thread-safe (const); the registry must outlive the validator.
// - Errors: `unauthorized` (bad_signature, author_not_member, author_not_publisher,
//   publisher_not_granted, not_tier1, not_version_publisher, not_authority,
//   no_roster) or `invalid` (malformed body, DRS/path/limits reasons,
//   info_dict_mismatch, retraction_unknown_version, …).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <variant>

#include "fedswarm/protocol/Claim.hpp"
#include "fedswarm/protocol/Envelope.hpp"
#include "fedswarm/protocol/Manifest.hpp"
#include "fedswarm/protocol/ProjectTemplate.hpp"
#include "fedswarm/protocol/ReplicaRecord.hpp"
#include "fedswarm/protocol/Retraction.hpp"
#include "fedswarm/protocol/Roster.hpp"

namespace fedswarm {

using RecordBody = std::variant<Manifest, Retraction, ReplicaRecord, Claim, Roster>;

struct ValidatedRecord {
  Envelope envelope;
  RecordBody body;
  // For manifests: the parsed dataset id (facets feed the search index).
  std::optional<DatasetId> dataset;
};

// Decodes the body of `env` by its kind (no permission checks).
Result<RecordBody> decode_body(const Envelope& env);

// Rule 4 for a manifest alone: DRS id, version, facets consistent with the id, files,
// paths, limits, and the info dict listing exactly the files.
Result<DatasetId> validate_manifest(const Manifest& m, const ProjectRegistry& projects);

class RecordValidator {
 public:
  // Returns the publisher key of a stored dataset version (instance id), if known.
  using PublisherLookup = std::function<std::optional<PublicKey>(std::string_view instance_id)>;

  explicit RecordValidator(const ProjectRegistry& projects) : projects_(projects) {}

  // `roster` may be null before any roster is imported: then only roster records from
  // `authority` are accepted. `now` is unix seconds (for roster expiry).
  // `signature_checked` skips re-verifying a signature the caller already verified
  // (e.g. on a worker thread); every other rule still applies.
  Result<ValidatedRecord> validate(const Envelope& env, const Roster* roster,
                                   const PublicKey& authority, std::int64_t now,
                                   const PublisherLookup& publisher_of,
                                   bool signature_checked = false) const;

 private:
  const ProjectRegistry& projects_;
};

}  // namespace fedswarm
