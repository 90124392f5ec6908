#include "fedswarm/policy/Subscription.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>

namespace fedswarm {

namespace {

Error invalid(std::string reason, std::string message) {
  return make_error(Errc::invalid, std::move(reason), std::move(message));
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool facet_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool name_char(char c) { return facet_name_char(c) || c == '-' || c == '.'; }

// The publisher's descriptive facets (engine/src/Publisher.cpp) and the catalog's
// derived and identity facets (storage/src/CatalogIngest.cpp, SearchExecutor.cpp).
constexpr std::array<std::string_view, 8> kExtraFacets = {
    "frequency", "realm", "nominal_resolution", "source_type", "cf_standard_name", "project", "data_node", "master_id"};

// Constraints collected by facet name; values kept unique and sorted (std::set), so the
// result is canonical whatever the spelling order.
using Collected = std::map<std::string, std::set<std::string>>;

Status add_token(std::string_view token, Collected& out, std::size_t& pairs) {
  auto eq = token.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == token.size())
    return invalid("subscription_bad_constraint",
                   "\"" + std::string(token) + "\" is not facet=value (e.g. experiment_id=historical)");
  std::string facet(token.substr(0, eq));
  std::string_view value = token.substr(eq + 1);
  if (!std::all_of(facet.begin(), facet.end(), facet_name_char))
    return invalid("subscription_bad_facet_name",
                   "\"" + facet + "\" is not a facet name (letters, digits and '_' only)");
  if (facet == "version" || facet == "instance_id" || facet == "id")
    return invalid("subscription_pinned_version",
                   "a subscription follows the latest version of what it matches and cannot name a version (" + facet +
                       "); to follow one dataset use master_id=DATASET, to fetch one old version ask its holders directly");
  if (facet == "dataset_id") facet = "master_id";  // ESGF's alias
  if (value.size() > kMaxSubscriptionValueBytes)
    return invalid("subscription_bad_value", facet + ": value longer than " + std::to_string(kMaxSubscriptionValueBytes) + " bytes");
  for (char c : value)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return invalid("subscription_bad_value", facet + ": value contains a control character");
  if (++pairs > kMaxSubscriptionConstraints)
    return invalid("subscription_too_many", "more than " + std::to_string(kMaxSubscriptionConstraints) +
                                                " facet=value pairs; split the subscription in several");
  out[facet].insert(std::string(value));
  return {};
}

Status add_text(std::string_view text, Collected& out, std::size_t& pairs) {
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    std::size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start) FEDSWARM_TRY(add_token(text.substr(start, i - start), out, pairs));
  }
  return {};
}

Result<std::vector<FacetConstraint>> finish(Collected collected) {
  if (collected.empty())
    return invalid("subscription_empty",
                   "a subscription needs at least one facet=value pair (to mirror a whole project: project=CMIP6)");
  std::vector<FacetConstraint> out;
  out.reserve(collected.size());
  for (auto& [facet, values] : collected) out.push_back({facet, std::vector<std::string>(values.begin(), values.end())});
  return out;
}

bool contains(const std::vector<std::string>& sorted, std::string_view v) {
  return std::binary_search(sorted.begin(), sorted.end(), v, std::less<>());
}

}  // namespace

std::string Subscription::constraints_text() const {
  std::string out;
  for (const auto& c : constraints)
    for (const auto& v : c.values) out += (out.empty() ? "" : " ") + c.facet + "=" + v;
  return out;
}

std::vector<std::pair<std::string, std::string>> Subscription::search_constraints() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& c : constraints)
    for (const auto& v : c.values) out.emplace_back(c.facet, v);
  return out;
}

bool Subscription::matches(std::string_view dataset_id, std::span<const Facet> facets) const {
  for (const auto& c : constraints) {
    bool hit = false;
    if (c.facet == "master_id") {
      hit = contains(c.values, dataset_id);
    } else {
      // A facet normally appears once; a repeated entry is searched too, as the index would.
      for (const auto& f : facets) {
        if (f.name != c.facet) continue;
        hit = std::any_of(f.values.begin(), f.values.end(), [&](const std::string& v) { return contains(c.values, v); });
        if (hit) break;
      }
    }
    if (!hit) return false;
  }
  return true;
}

bool Subscription::matches(const Manifest& manifest, std::string_view data_node) const {
  std::vector<Facet> facets = manifest.facets;
  facets.push_back({"project", {manifest.project}});
  facets.push_back({"version", {manifest.version}});
  if (!data_node.empty()) facets.push_back({"data_node", {std::string(data_node)}});
  return matches(manifest.dataset_id, facets);
}

Result<std::vector<FacetConstraint>> parse_constraints(std::string_view text) {
  Collected collected;
  std::size_t pairs = 0;
  FEDSWARM_TRY(add_text(text, collected, pairs));
  return finish(std::move(collected));
}

Result<std::vector<FacetConstraint>> parse_constraints(std::span<const std::string> tokens) {
  Collected collected;
  std::size_t pairs = 0;
  for (const auto& t : tokens) FEDSWARM_TRY(add_text(t, collected, pairs));
  return finish(std::move(collected));
}

Result<std::vector<FacetConstraint>> constraints_from_pairs(std::span<const std::pair<std::string, std::string>> pairs) {
  Collected collected;
  std::size_t count = 0;
  for (const auto& [facet, value] : pairs) {
    if (std::any_of(value.begin(), value.end(), is_space))
      return invalid("subscription_bad_value", facet + "=\"" + value + "\": values cannot contain blanks");
    if (facet.empty() || !std::all_of(facet.begin(), facet.end(), facet_name_char))
      return invalid("subscription_bad_facet_name", "\"" + facet + "\" is not a facet name (letters, digits and '_' only)");
    FEDSWARM_TRY(add_token(facet + "=" + value, collected, count));
  }
  return finish(std::move(collected));
}

Status validate_subscription_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxSubscriptionNameBytes || name.front() == '-' || name.front() == '.' ||
      !std::all_of(name.begin(), name.end(), name_char))
    return invalid("subscription_bad_name", "subscription name \"" + std::string(name) + "\" must be 1 to " +
                                                std::to_string(kMaxSubscriptionNameBytes) +
                                                " letters, digits, '.', '_' or '-', not starting with '-' or '.'");
  return {};
}

std::span<const std::string_view> extra_subscription_facets() { return kExtraFacets; }

Status check_facets(std::span<const FacetConstraint> constraints, const ProjectRegistry& projects) {
  std::set<std::string, std::less<>> known;
  for (std::string_view f : kExtraFacets) known.emplace(f);
  std::vector<const ProjectTemplate*> templates;
  for (const auto& name : projects.names())
    if (const ProjectTemplate* t = projects.find(name)) {
      templates.push_back(t);
      known.insert(t->all_facets().begin(), t->all_facets().end());
    }
  for (const auto& c : constraints) {
    if (!known.count(c.facet)) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      return invalid("subscription_unknown_facet", "no facet \"" + c.facet + "\" in the known projects; facets are: " + list);
    }
    for (const auto& v : c.values) {
      if (c.facet == "project") {
        if (!projects.find(v))
          return invalid("subscription_unknown_value", "project=" + v + ": no such project template on this node");
        continue;
      }
      if (c.facet == "master_id") {
        auto id = projects.parse_dataset_id(v);
        if (!id) return invalid("subscription_bad_value", "master_id=" + v + ": " + id.error().message);
        continue;
      }
      // A value is refused only when every template with this facet has a vocabulary
      // for it and none lists the value: a pattern facet (member_id, …) takes anything.
      bool vocabulary_only = false, listed = false;
      for (const ProjectTemplate* t : templates) {
        const auto& names = t->all_facets();
        if (std::find(names.begin(), names.end(), c.facet) == names.end()) continue;
        std::vector<std::string> terms = t->terms(c.facet);
        if (terms.empty()) {
          listed = true;
          break;
        }
        vocabulary_only = true;
        if (std::find(terms.begin(), terms.end(), v) != terms.end()) {
          listed = true;
          break;
        }
      }
      if (vocabulary_only && !listed)
        return invalid("subscription_unknown_value", c.facet + "=" + v +
                                                         ": not a term of the controlled vocabulary (values are "
                                                         "case-sensitive; `fedswarm search --facets " +
                                                         c.facet + "` lists the values in the catalog)");
    }
  }
  return {};
}

std::string default_subscription_name(std::span<const FacetConstraint> constraints, std::span<const std::string> taken) {
  std::string base;
  for (const auto& c : constraints)
    for (const auto& v : c.values) {
      if (!base.empty()) base += '-';
      for (char ch : v) base += name_char(ch) ? ch : '_';
    }
  while (!base.empty() && (base.front() == '-' || base.front() == '.')) base.erase(base.begin());
  constexpr std::size_t kRoomForSuffix = 8;
  if (base.size() > kMaxSubscriptionNameBytes - kRoomForSuffix) base.resize(kMaxSubscriptionNameBytes - kRoomForSuffix);
  if (base.empty()) base = "subscription";
  auto is_taken = [&](const std::string& n) { return std::find(taken.begin(), taken.end(), n) != taken.end(); };
  if (!is_taken(base)) return base;
  for (std::size_t i = 2;; ++i) {
    std::string n = base + "-" + std::to_string(i);
    if (!is_taken(n)) return n;
  }
}

}  // namespace fedswarm
