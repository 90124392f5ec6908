#include "fedswarm/protocol/RecordValidator.hpp"

#include <algorithm>
#include <set>

#include "fedswarm/protocol/InfoDict.hpp"
#include "fedswarm/protocol/Limits.hpp"
#include "fedswarm/protocol/PathRules.hpp"
#include "fedswarm/protocol/Version.hpp"

namespace fedswarm {

namespace {

Error unauthorized(std::string reason, std::string message) {
  return make_error(Errc::unauthorized, std::move(reason), std::move(message));
}

Status validate_version_ref(const ProjectRegistry& projects, const std::string& dataset_id, const std::string& version) {
  auto id = projects.parse_dataset_id(dataset_id);
  if (!id) return std::move(id).error();
  return validate_version(version);
}

Status validate_roster_body(const Roster& r) {
  FEDSWARM_TRY(validate_text(r.federation, limits::max_short_text_bytes, "federation name"));
  if (r.expires_at <= r.issued_at)
    return make_error(Errc::invalid, "roster_bad_expiry", "roster expires before it is issued");
  std::set<PublicKey> keys;
  std::set<std::string> sites;
  for (const auto& m : r.members) {
    if (m.site.empty()) return make_error(Errc::invalid, "roster_bad_member", "a roster member has no site name");
    FEDSWARM_TRY(validate_text(m.site, limits::max_short_text_bytes, "site name"));
    for (const auto& e : m.endpoints) FEDSWARM_TRY(validate_text(e, limits::max_short_text_bytes, "endpoint"));
    if (!keys.insert(m.key).second)
      return make_error(Errc::invalid, "roster_duplicate_member", "roster lists key " + short_key(m.key) + " twice");
    if (!sites.insert(m.site).second)
      return make_error(Errc::invalid, "roster_duplicate_member", "roster lists site " + m.site + " twice");
  }
  for (const auto& g : r.grants) {
    if (g.projects.empty())
      return make_error(Errc::invalid, "roster_bad_grant", "grant for " + short_key(g.key) + " names no project");
    for (const auto& p : g.projects) FEDSWARM_TRY(validate_text(p, limits::max_facet_text_bytes, "granted project"));
    for (const auto& i : g.institutions) FEDSWARM_TRY(validate_text(i, limits::max_facet_text_bytes, "granted institution"));
  }
  return {};
}

}  // namespace

Result<RecordBody> decode_body(const Envelope& env) {
  switch (env.kind) {
    case RecordKind::manifest: {
      auto r = Manifest::decode(env.body);
      if (!r) return std::move(r).error();
      return RecordBody{std::move(*r)};
    }
    case RecordKind::retraction: {
      auto r = Retraction::decode(env.body);
      if (!r) return std::move(r).error();
      return RecordBody{std::move(*r)};
    }
    case RecordKind::replica: {
      auto r = ReplicaRecord::decode(env.body);
      if (!r) return std::move(r).error();
      return RecordBody{std::move(*r)};
    }
    case RecordKind::claim: {
      auto r = Claim::decode(env.body);
      if (!r) return std::move(r).error();
      return RecordBody{std::move(*r)};
    }
    case RecordKind::roster: {
      auto r = Roster::decode(env.body);
      if (!r) return std::move(r).error();
      return RecordBody{std::move(*r)};
    }
  }
  return make_error(Errc::invalid, "unknown_kind", "unknown record kind");
}

Result<DatasetId> validate_manifest(const Manifest& m, const ProjectRegistry& projects) {
  const ProjectTemplate* tmpl = projects.find(m.project);
  if (!tmpl)
    return make_error(Errc::invalid, "drs_unknown_project", "project \"" + m.project.substr(0, 64) + "\" is not configured on this node");
  auto id = tmpl->parse_dataset_id(m.dataset_id);
  if (!id) return std::move(id).error();
  FEDSWARM_TRY(validate_version(m.version));
  if (!m.supersedes.empty()) {
    if (!validate_version(m.supersedes))
      return make_error(Errc::invalid, "supersedes_bad_version", "supersedes \"" + m.supersedes.substr(0, 32) + "\" is not a version");
    if (!(m.supersedes < m.version))
      return make_error(Errc::invalid, "supersedes_not_older", "version " + m.version + " claims to supersede the same or a later version " + m.supersedes);
  }
  std::set<std::string_view> names;
  for (const auto& f : m.facets) {
    if (f.name.empty() || f.values.empty())
      return make_error(Errc::invalid, "facet_empty", "a facet has no name or no value");
    FEDSWARM_TRY(validate_text(f.name, limits::max_facet_text_bytes, "facet name"));
    for (const auto& v : f.values) FEDSWARM_TRY(validate_text(v, limits::max_facet_text_bytes, "facet " + f.name));
    if (!names.insert(f.name).second)
      return make_error(Errc::invalid, "facet_duplicate", "facet " + f.name + " appears twice");
  }
  // The DRS facets are part of the signed id; the facet list must not contradict them.
  for (const auto& drs : id->facets) {
    const auto* values = m.facet(drs.name);
    if (!values || values->size() != 1 || (*values)[0] != drs.value)
      return make_error(Errc::invalid, "facet_mismatch",
                        "facet " + drs.name + " must be \"" + drs.value + "\" as in the dataset id");
  }
  if (m.files.empty()) return make_error(Errc::invalid, "empty_dataset", m.instance_id() + " lists no files");
  if (m.files.size() > limits::max_files)
    return make_error(Errc::invalid, "too_many_files", m.instance_id() + " lists more than " + std::to_string(limits::max_files) + " files");
  std::set<std::string_view> paths;
  for (const auto& f : m.files) {
    FEDSWARM_TRY(validate_relative_path(f.path));
    if (!paths.insert(f.path).second)
      return make_error(Errc::invalid, "path_duplicate", "file path \"" + f.path + "\" is listed twice");
    if (f.size > limits::max_file_size)
      return make_error(Errc::invalid, "file_too_large", "file \"" + f.path + "\" is larger than the limit");
    FEDSWARM_TRY(validate_text(f.tracking_id, limits::max_short_text_bytes, "tracking_id"));
  }
  auto info = InfoDict::parse(m.info_dict);
  if (!info) return std::move(info).error();
  FEDSWARM_TRY(info->matches(m));
  return id;
}

Result<ValidatedRecord> RecordValidator::validate(const Envelope& env, const Roster* roster, const PublicKey& authority,
                                                  std::int64_t now, const PublisherLookup& publisher_of,
                                                  bool signature_checked) const {
  (void)now;  // roster expiry decides whether a roster becomes current; the catalog does that
  if (!signature_checked && !env.verify())
    return unauthorized("bad_signature", "signature of record " + std::to_string(env.seq) + " by " + short_key(env.author) + " does not verify");
  auto body = decode_body(env);
  if (!body) return std::move(body).error();
  ValidatedRecord out{env, std::move(*body), std::nullopt};

  if (env.kind == RecordKind::roster) {
    if (authority.is_zero())
      return unauthorized("no_authority", "no federation authority key is pinned; import a roster with `fedswarm federation import` first");
    if (env.author != authority)
      return unauthorized("not_authority", "roster signed by " + short_key(env.author) + ", not by the federation authority " + short_key(authority));
    FEDSWARM_TRY(validate_roster_body(std::get<Roster>(out.body)));
    return out;
  }
  if (!roster)
    return unauthorized("no_roster", "no roster is known yet; only roster records are accepted");

  switch (env.kind) {
    case RecordKind::manifest: {
      const auto& m = std::get<Manifest>(out.body);
      auto id = validate_manifest(m, projects_);
      if (!id) return std::move(id).error();
      const ProjectTemplate* tmpl = projects_.find(m.project);
      std::string institution(id->facet(tmpl->institution_facet()));
      if (!roster->may_publish(env.author, m.project, institution))
        return unauthorized("publisher_not_granted", "key " + short_key(env.author) + " is not granted to publish " + m.project + " " + institution);
      out.dataset = std::move(*id);
      return out;
    }
    case RecordKind::retraction: {
      const auto& r = std::get<Retraction>(out.body);
      FEDSWARM_TRY(validate_version_ref(projects_, r.dataset_id, r.version));
      FEDSWARM_TRY(validate_text(r.reason, limits::max_text_bytes, "retraction reason"));
      FEDSWARM_TRY(validate_text(r.errata_id, limits::max_short_text_bytes, "errata id"));
      if (r.reason.empty()) return make_error(Errc::invalid, "retraction_no_reason", "a retraction must give a reason");
      if (env.author == authority) return out;
      auto publisher = publisher_of(r.instance_id());
      if (!publisher)
        return make_error(Errc::invalid, "retraction_unknown_version",
                          "retraction of " + r.instance_id() + " by " + short_key(env.author) + ": version not known here");
      if (*publisher != env.author)
        return unauthorized("not_version_publisher", "only the publisher of " + r.instance_id() + " or the federation authority may retract it");
      return out;
    }
    case RecordKind::replica: {
      const auto& r = std::get<ReplicaRecord>(out.body);
      if (!roster->member(env.author))
        return unauthorized("author_not_member", "replica statement by " + short_key(env.author) + ", which is not a federation member");
      FEDSWARM_TRY(validate_version_ref(projects_, r.dataset_id, r.version));
      return out;
    }
    case RecordKind::claim: {
      const auto& c = std::get<Claim>(out.body);
      const RosterMember* member = roster->member(env.author);
      if (!member)
        return unauthorized("author_not_member", "claim by " + short_key(env.author) + ", which is not a federation member");
      if (member->tier != Tier::tier1)
        return unauthorized("not_tier1", "claim by " + member->site + ", which is not a Tier-1 node");
      FEDSWARM_TRY(validate_version_ref(projects_, c.dataset_id, c.version));
      return out;
    }
    case RecordKind::roster: break;
  }
  return make_error(Errc::invalid, "unknown_kind", "unknown record kind");
}

}  // namespace fedswarm
