// Subscription: a node's standing request for dataset versions (DESIGN §7) — a name, facet
// constraints, an optional quota and a priority. Matching follows the search semantics
// of the catalog (storage/SearchQuery.hpp, ESGF's esg-search): AND across facets, OR
// within a repeated facet, exact and case-sensitive values.
//
// Text form (the CLI's argument and `subscribe list`): whitespace-separated facet=value
// pairs, e.g. "experiment_id=historical table_id=Amon variable_id=tas variable_id=pr"
// = historical AND Amon AND (tas OR pr). `dataset_id=X` is accepted as ESGF's alias of
// `master_id=X` (every version of one dataset) and stored as master_id.
//
// Facets a subscription may name (`check_facets`): the facets of every known project
// template's dataset id (ProjectTemplate::all_facets), the descriptive facets the
// publisher reads from netCDF attributes (frequency, realm, nominal_resolution,
// source_type, cf_standard_name), and project, data_node and master_id. Version
// pins (version, instance_id, id) are refused: a subscription follows the latest
// version of whatever matches.
//
// Contract
// - Pure: no I/O, no clock. Value types; functions are thread-safe.
// - Parsing untrusted text never throws; errors are `invalid` with reasons
//   subscription_bad_name, subscription_empty, subscription_bad_constraint,
//   subscription_bad_facet_name, subscription_pinned_version, subscription_bad_value,
//   subscription_too_many (more than kMaxSubscriptionConstraints pairs),
//   subscription_unknown_facet, subscription_unknown_value (a value not in the
//   controlled vocabulary of any project that has one for that facet).
// - A parsed Subscription is canonical: constraints sorted by facet name, values sorted
//   and unique, so two spellings of the same constraints compare equal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fedswarm/protocol/Manifest.hpp"
#include "fedswarm/protocol/ProjectTemplate.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

// Bounds on one subscription, so a hand-edited file cannot make matching expensive.
inline constexpr std::size_t kMaxSubscriptionConstraints = 64;  // facet=value pairs
inline constexpr std::size_t kMaxSubscriptionValueBytes = 256;  // one value
inline constexpr std::size_t kMaxSubscriptionNameBytes = 64;    // [A-Za-z0-9._-]

struct FacetConstraint {
  std::string facet;                // e.g. "experiment_id"
  std::vector<std::string> values;  // OR; sorted, unique, non-empty
  bool operator==(const FacetConstraint&) const = default;
};

struct Subscription {
  std::string name;                          // unique per node, kMaxSubscriptionNameBytes
  std::vector<FacetConstraint> constraints;  // AND; sorted by facet, at least one
  std::optional<std::uint64_t> quota;        // bytes of local replicas it may fill; none = no limit
  std::int64_t priority = 0;                 // higher is served first (see SubscriptionPlan.hpp)

  // "experiment_id=historical table_id=Amon": canonical, parseable by parse_constraints.
  std::string constraints_text() const;
  // The same constraints as Catalog::search pairs (one pair per value).
  std::vector<std::pair<std::string, std::string>> search_constraints() const;

  // `facets` are a version's indexed facets (SearchDoc::facets: manifest and DRS facets
  // plus project, data_node, version); `dataset_id` answers master_id constraints.
  bool matches(std::string_view dataset_id, std::span<const Facet> facets) const;
  // A manifest's facets plus project; data_node constraints compare against
  // `data_node` (empty: a data_node constraint does not match).
  bool matches(const Manifest& manifest, std::string_view data_node = {}) const;

  bool operator==(const Subscription&) const = default;
};

// Parses the text form. Reasons: subscription_empty, subscription_bad_constraint,
// subscription_bad_facet_name, subscription_pinned_version, subscription_bad_value,
// subscription_too_many.
Result<std::vector<FacetConstraint>> parse_constraints(std::string_view text);
// Same, from separate "facet=value" tokens (each may itself hold several pairs).
Result<std::vector<FacetConstraint>> parse_constraints(std::span<const std::string> tokens);

// Same, from (facet, value) pairs (a file's structured form). A value may not contain
// blanks (the text form could not hold it): subscription_bad_value.
Result<std::vector<FacetConstraint>> constraints_from_pairs(std::span<const std::pair<std::string, std::string>> pairs);

// Names are 1..kMaxSubscriptionNameBytes of [A-Za-z0-9._-], not starting with '-' or '.'.
Status validate_subscription_name(std::string_view name);

// Checks facet names (and vocabulary-backed values) against the projects a node knows.
Status check_facets(std::span<const FacetConstraint> constraints, const ProjectRegistry& projects);

// Facet names accepted besides the templates' facets.
std::span<const std::string_view> extra_subscription_facets();

// A readable default name from the constraint values ("historical-Amon"), made unique
// against `taken` by a "-2", "-3", … suffix.
std::string default_subscription_name(std::span<const FacetConstraint> constraints,
                                      std::span<const std::string> taken);

}  // namespace fedswarm
