#include "fedswarm/engine/ComplianceReport.hpp"

#include "fedswarm/policy/ViolatingSince.hpp"
#include "replication/CatalogCaseSource.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <tuple>

namespace fedswarm {

namespace {

std::int64_t non_negative(std::int64_t a, std::int64_t b) { return a > b ? a - b : 0; }

// Status order of the report: what needs an operator first.
int rank(TierOneStatus s) {
  switch (s) {
    case TierOneStatus::violating: return 0;
    case TierOneStatus::pending: return 1;
    case TierOneStatus::compliant: return 2;
    case TierOneStatus::exempt: return 3;
  }
  return 4;
}

Error bad_compliance_report(const std::string& what) {
  return make_error(Errc::invalid, "bad_compliance_report", "the compliance report is malformed: " + what);
}

}  // namespace

// --- summary -----------------------------------------------------------------------------

nlohmann::json ComplianceSummary::to_json() const {
  return {{"versions", versions},
          {"compliant", compliant},
          {"pending", pending},
          {"violating", violating},
          {"exempt", exempt},
          {"blocked", blocked},
          {"violating_bytes", violating_bytes},
          {"longest_violation_s", longest_violation},
          {"tier1_members", tier1_members},
          {"liveness_known", liveness_known}};
}

Result<ComplianceSummary> ComplianceSummary::from_json(const nlohmann::json& j) {
  if (!j.is_object()) return bad_compliance_report("the summary is not an object");
  try {
    ComplianceSummary s;
    s.versions = j.value("versions", std::uint64_t{0});
    s.compliant = j.value("compliant", std::uint64_t{0});
    s.pending = j.value("pending", std::uint64_t{0});
    s.violating = j.value("violating", std::uint64_t{0});
    s.exempt = j.value("exempt", std::uint64_t{0});
    s.blocked = j.value("blocked", std::uint64_t{0});
    s.violating_bytes = j.value("violating_bytes", std::uint64_t{0});
    s.longest_violation = j.value("longest_violation_s", std::int64_t{0});
    s.tier1_members = j.value("tier1_members", std::uint64_t{0});
    s.liveness_known = j.value("liveness_known", false);
    return s;
  } catch (const nlohmann::json::exception& e) {
    return bad_compliance_report(std::string("summary: ") + e.what());
  }
}

// --- report ------------------------------------------------------------------------------

std::vector<const ComplianceEntry*> ComplianceReport::violations_older_than(std::int64_t max_age) const {
  std::vector<const ComplianceEntry*> out;
  for (const auto& e : versions)
    if (e.status == TierOneStatus::violating && e.violating_for >= max_age) out.push_back(&e);
  return out;
}

nlohmann::json ComplianceReport::to_json() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& e : versions) {
    const bool pending = e.status == TierOneStatus::pending, violating = e.status == TierOneStatus::violating;
    rows.push_back({{"instance_id", e.instance_id},
                    {"size", e.size},
                    {"primary_site", e.primary_site},
                    {"published_at", e.published_at},
                    {"age_s", e.age},
                    {"status", std::string(to_string(e.status))},
                    {"cause", std::string(to_string(e.cause))},
                    {"blocker", std::string(to_string(e.blocker))},
                    {"holders", e.holders},
                    {"claimant", pending ? nlohmann::json(e.claimant) : nlohmann::json(nullptr)},
                    {"deadline", pending ? nlohmann::json(e.deadline) : nlohmann::json(nullptr)},
                    {"bytes_done", e.bytes_done ? nlohmann::json(*e.bytes_done) : nlohmann::json(nullptr)},
                    {"assignee", violating && !e.assignee.empty() ? nlohmann::json(e.assignee) : nlohmann::json(nullptr)},
                    {"violating_since", violating ? nlohmann::json(e.violating_since) : nlohmann::json(nullptr)},
                    {"violating_for_s", violating ? nlohmann::json(e.violating_for) : nlohmann::json(nullptr)}});
  }
  return {{"generated_at", generated_at},
          {"summary", summary.to_json()},
          {"status", status_filter ? nlohmann::json(std::string(to_string(*status_filter))) : nlohmann::json(nullptr)},
          {"offset", offset},
          {"matching", matching},
          {"rebuilding", rebuilding},
          {"judged", judged},
          {"total", total},
          {"versions", std::move(rows)}};
}

Result<ComplianceReport> ComplianceReport::from_json(const nlohmann::json& j) {
  if (!j.is_object()) return bad_compliance_report("not a JSON object");
  if (!j.contains("summary") || !j.contains("versions") || !j["versions"].is_array())
    return bad_compliance_report("no summary or versions");
  ComplianceReport r;
  auto summary = ComplianceSummary::from_json(j["summary"]);
  if (!summary) return std::move(summary).error();
  r.summary = *summary;
  try {
    r.generated_at = j.value("generated_at", std::int64_t{0});
    r.offset = j.value("offset", std::uint64_t{0});
    r.matching = j.value("matching", std::uint64_t{0});
    r.rebuilding = j.value("rebuilding", false);
    r.judged = j.value("judged", std::uint64_t{0});
    r.total = j.value("total", std::uint64_t{0});
    if (auto st = j.find("status"); st != j.end() && st->is_string())
      r.status_filter = tier_one_status_from(st->get<std::string>());
    // Nullable fields: absent and null both mean "does not apply".
    auto opt_string = [](const nlohmann::json& o, const char* k) {
      auto it = o.find(k);
      return it == o.end() || it->is_null() ? std::string() : it->get<std::string>();
    };
    auto opt_int = [](const nlohmann::json& o, const char* k) {
      auto it = o.find(k);
      return it == o.end() || it->is_null() ? std::int64_t{0} : it->get<std::int64_t>();
    };
    for (const auto& v : j["versions"]) {
      if (!v.is_object()) return bad_compliance_report("a version is not an object");
      ComplianceEntry e;
      e.instance_id = v.at("instance_id").get<std::string>();
      e.size = v.value("size", std::uint64_t{0});
      e.primary_site = v.value("primary_site", "");
      e.published_at = v.value("published_at", std::int64_t{0});
      e.age = v.value("age_s", std::int64_t{0});
      auto status = tier_one_status_from(v.at("status").get<std::string>());
      auto cause = tier_one_cause_from(v.value("cause", "none"));
      auto blocker = tier_one_blocker_from(v.value("blocker", "none"));
      if (!status || !cause || !blocker)
        return bad_compliance_report("unknown status, cause or blocker for " + e.instance_id);
      e.status = *status;
      e.cause = *cause;
      e.blocker = *blocker;
      if (auto h = v.find("holders"); h != v.end() && h->is_array()) e.holders = h->get<std::vector<std::string>>();
      e.claimant = opt_string(v, "claimant");
      e.deadline = opt_int(v, "deadline");
      if (auto b = v.find("bytes_done"); b != v.end() && !b->is_null()) e.bytes_done = b->get<std::uint64_t>();
      e.assignee = opt_string(v, "assignee");
      e.violating_since = opt_int(v, "violating_since");
      e.violating_for = opt_int(v, "violating_for_s");
      r.versions.push_back(std::move(e));
    }
  } catch (const nlohmann::json::exception& e) {
    return bad_compliance_report(e.what());
  }
  return r;
}

// --- building ----------------------------------------------------------------------------

TierOneSnapshot tier_one_snapshot(const ReplicationState& state, const std::optional<Roster>& roster,
                                  const std::optional<LivenessMap>& liveness) {
  TierOneSnapshot s;
  if (roster) s.members = TierOneMember::of(*roster);
  if (liveness)
    for (auto& m : s.members)
      if (auto it = liveness->find(m.key); it != liveness->end()) {
        m.alive = it->second.alive;
        m.down_since = it->second.down_since;
        m.up_since = it->second.up_since;
      }
  s.versions.reserve(state.versions.size());
  for (const auto& v : state.versions) s.versions.push_back(TierOneVersion::from(v));
  s.replicas.reserve(state.replicas.size());
  for (const auto& r : state.replicas) s.replicas.push_back({r.instance_id, r.location});
  s.claims.reserve(state.claims.size());
  for (const auto& c : state.claims) s.claims.push_back({c.instance_id, c.claim});
  return s;
}

ComplianceReport make_compliance_report(const TierOneSnapshot& snapshot, const TierOneReport& evaluated,
                                        const ComplianceInputs& in) {
  ComplianceReport report;
  report.generated_at = in.now;
  report.summary.liveness_known = in.liveness.has_value();
  report.summary.tier1_members = evaluated.members.size();

  std::map<PublicKey, std::string> sites;
  for (const auto& m : snapshot.members) sites.emplace(m.key, m.site);
  auto site = [&](const PublicKey& k) {
    auto it = sites.find(k);
    return it == sites.end() || it->second.empty() ? short_key(k) : it->second;
  };
  // The snapshot's versions and records by instance id (a snapshot may repeat a version:
  // the evaluation resolved that, the first one found is only used for its facts).
  std::map<std::string, const TierOneVersion*, std::less<>> versions;
  for (const auto& v : snapshot.versions) versions.emplace(v.instance_id(), &v);
  std::map<std::string, std::vector<std::size_t>, std::less<>> replicas, claims;
  for (std::size_t i = 0; i < snapshot.replicas.size(); ++i) replicas[snapshot.replicas[i].instance_id].push_back(i);
  for (std::size_t i = 0; i < snapshot.claims.size(); ++i) claims[snapshot.claims[i].instance_id].push_back(i);
  static const std::vector<std::size_t> kNone;
  auto of = [](const auto& index, const std::string& id) -> const std::vector<std::size_t>& {
    auto it = index.find(id);
    return it == index.end() ? kNone : it->second;
  };

  for (const auto& d : evaluated.decisions) {
    auto vit = versions.find(d.instance_id);
    if (vit == versions.end()) continue;  // cannot happen: decisions come from these versions
    const TierOneVersion& v = *vit->second;
    ComplianceEntry e;
    e.instance_id = d.instance_id;
    e.size = v.size;
    e.primary_site = v.primary_site;
    e.published_at = v.published_at;
    e.age = non_negative(in.now, v.published_at);
    e.status = d.status;
    e.cause = d.cause;
    e.blocker = d.blocker;
    for (const auto& h : d.holders) e.holders.push_back(site(h));
    auto& sum = report.summary;
    ++sum.versions;
    switch (d.status) {
      case TierOneStatus::compliant: ++sum.compliant; break;
      case TierOneStatus::pending: {
        ++sum.pending;
        const auto claimant = d.claimant();
        if (claimant) e.claimant = site(*claimant);
        e.deadline = d.deadline;
        if (claimant && in.local && *in.local == *claimant && in.local_progress)
          if (auto p = in.local_progress->find(d.instance_id); p != in.local_progress->end())
            e.bytes_done = std::min(p->second, v.size);
        break;
      }
      case TierOneStatus::violating:
        ++sum.violating;
        if (d.blocker != TierOneBlocker::none) ++sum.blocked;
        sum.violating_bytes += v.size;
        if (auto a = d.assignee()) e.assignee = site(*a);
        {
          std::vector<ReplicaLocation> reps;
          std::vector<ClaimInfo> cls;
          for (std::size_t i : of(replicas, d.instance_id)) reps.push_back(snapshot.replicas[i].location);
          for (std::size_t i : of(claims, d.instance_id)) cls.push_back(snapshot.claims[i].claim);
          TierOneCase c;
          c.version = v;
          c.replicas = reps;
          c.claims = cls;
          e.violating_since = violating_since(c, snapshot.members, in.config, in.now);
        }
        e.violating_for = non_negative(in.now, e.violating_since);
        sum.longest_violation = std::max(sum.longest_violation, e.violating_for);
        break;
      case TierOneStatus::exempt: ++sum.exempt; break;
    }
    report.versions.push_back(std::move(e));
  }

  std::stable_sort(report.versions.begin(), report.versions.end(), [](const ComplianceEntry& a, const ComplianceEntry& b) {
    if (rank(a.status) != rank(b.status)) return rank(a.status) < rank(b.status);
    if (a.status == TierOneStatus::violating && a.violating_for != b.violating_for) return a.violating_for > b.violating_for;
    if (a.status == TierOneStatus::pending && a.deadline != b.deadline) return a.deadline < b.deadline;
    return a.instance_id < b.instance_id;
  });
  return report;
}

ComplianceReport compliance_report(const ReplicationState& state, const std::optional<Roster>& roster,
                                   const ComplianceInputs& in) {
  const TierOneSnapshot snapshot = tier_one_snapshot(state, roster, in.liveness);
  const TierOneReport evaluated = TierOneRule(in.config).evaluate(snapshot, in.now);
  return make_compliance_report(snapshot, evaluated, in);
}

// --- at scale ------------------------------------------------------------------------------

ComplianceEntry compliance_entry(const TierOneCase& c, const TierOneDecision& d, std::span<const TierOneMember> members,
                                 const ComplianceInputs& in) {
  auto site = [&](const PublicKey& k) {
    for (const auto& m : members)
      if (m.key == k && !m.site.empty()) return m.site;
    return short_key(k);
  };
  const TierOneVersion& v = c.version;
  ComplianceEntry e;
  e.instance_id = d.instance_id;
  e.size = v.size;
  e.primary_site = v.primary_site;
  e.published_at = v.published_at;
  e.age = non_negative(in.now, v.published_at);
  e.status = d.status;
  e.cause = d.cause;
  e.blocker = d.blocker;
  for (const auto& h : d.holders) e.holders.push_back(site(h));
  switch (d.status) {
    case TierOneStatus::pending: {
      const auto claimant = d.claimant();
      if (claimant) e.claimant = site(*claimant);
      e.deadline = d.deadline;
      if (claimant && in.local && *in.local == *claimant && in.local_progress)
        if (auto p = in.local_progress->find(d.instance_id); p != in.local_progress->end())
          e.bytes_done = std::min(p->second, v.size);
      break;
    }
    case TierOneStatus::violating:
      if (auto a = d.assignee()) e.assignee = site(*a);
      e.violating_since = violating_since(c, members, in.config, in.now);
      e.violating_for = non_negative(in.now, e.violating_since);
      break;
    default: break;
  }
  return e;
}

ComplianceSummary compliance_summary(const TierOneCounts& counts, std::size_t tier1_members, bool liveness_known,
                                     std::int64_t now) {
  ComplianceSummary s;
  s.versions = counts.versions;
  s.compliant = counts.compliant;
  s.pending = counts.pending;
  s.violating = counts.violating;
  s.exempt = counts.exempt;
  s.blocked = counts.blocked;
  s.violating_bytes = counts.violating_bytes;
  s.longest_violation = counts.violating > 0 ? non_negative(now, counts.oldest_violation) : 0;
  s.tier1_members = tier1_members;
  s.liveness_known = liveness_known;
  return s;
}

Result<std::vector<TierOneMember>> tier_one_members(const Catalog& catalog, const std::optional<Roster>& roster,
                                                    const std::optional<LivenessMap>& liveness) {
  std::vector<TierOneMember> members;
  if (!roster) return members;
  members = TierOneMember::of(*roster);
  for (auto& m : members) {
    if (liveness)
      if (auto it = liveness->find(m.key); it != liveness->end()) {
        m.alive = it->second.alive;
        m.down_since = it->second.down_since;
        m.up_since = it->second.up_since;
      }
    FEDSWARM_ASSIGN_OR_RETURN(NodeTotals t, catalog.node_totals(m.key));
    m.committed = t.complete_bytes;
  }
  return members;
}

Result<ComplianceReport> compliance_page(const TierOneTracker& tracker, TierOneCaseSource& source,
                                         const ComplianceInputs& in, std::optional<TierOneStatus> status,
                                         std::uint64_t offset, std::uint64_t limit) {
  ComplianceReport r;
  r.generated_at = in.now;
  r.summary = compliance_summary(tracker.counts(), tracker.members().size(), in.liveness.has_value(), in.now);
  r.status_filter = status;
  r.offset = offset;
  r.rebuilding = tracker.rebuilding();
  std::tie(r.judged, r.total) = tracker.rebuild_progress();
  const auto& c = tracker.counts();
  auto count_of = [&](TierOneStatus st) -> std::uint64_t {
    switch (st) {
      case TierOneStatus::compliant: return c.compliant;
      case TierOneStatus::pending: return c.pending;
      case TierOneStatus::violating: return c.violating;
      case TierOneStatus::exempt: return c.exempt;
    }
    return 0;
  };
  // Report order: what needs an operator first.
  std::vector<TierOneStatus> order = {TierOneStatus::violating, TierOneStatus::pending, TierOneStatus::compliant,
                                      TierOneStatus::exempt};
  if (status) order = {*status};
  std::vector<std::uint32_t> docs;
  std::uint64_t skip = offset;
  for (auto st : order) {
    const std::uint64_t n = count_of(st);
    r.matching += n;
    if (skip >= n) {
      skip -= n;
      continue;
    }
    if (docs.size() >= limit) continue;
    auto page = tracker.page(st, static_cast<std::size_t>(skip), static_cast<std::size_t>(limit - docs.size()));
    skip = 0;
    docs.insert(docs.end(), page.begin(), page.end());
  }
  if (docs.empty()) return r;
  FEDSWARM_ASSIGN_OR_RETURN(auto cases, source.load(docs));
  const TierOneRule rule(in.config);
  for (const auto& cd : cases) {
    const TierOneCase view = cd.view();
    const TierOneDecision d = rule.judge(view, tracker.members(), in.now);
    r.versions.push_back(compliance_entry(view, d, tracker.members(), in));
  }
  return r;
}

std::unique_ptr<TierOneCaseSource> catalog_case_source(const Catalog& catalog) {
  return std::make_unique<CatalogCaseSource>(catalog);
}

Result<TierOneTracker> offline_tracker(const Catalog& catalog, const ComplianceInputs& in) {
  FEDSWARM_ASSIGN_OR_RETURN(auto roster, catalog.roster());
  TierOneTrackerInput ti;
  ti.now = in.now;
  FEDSWARM_ASSIGN_OR_RETURN(ti.members, tier_one_members(catalog, roster, in.liveness));
  TierOneTracker tracker(in.config);
  CatalogCaseSource source(catalog);
  for (;;) {
    FEDSWARM_ASSIGN_OR_RETURN(auto round, tracker.round(ti, source));
    if (!round.rebuilding) break;
  }
  return tracker;
}

Result<ComplianceReport> build_compliance_report(const Catalog& catalog, const ComplianceInputs& in,
                                                 std::optional<TierOneStatus> status, std::uint64_t offset,
                                                 std::uint64_t limit) {
  FEDSWARM_ASSIGN_OR_RETURN(TierOneTracker tracker, offline_tracker(catalog, in));
  ComplianceInputs with = in;
  if (in.local && !in.local_progress) {
    // The local rows are the only progress the catalog knows: the node saves bytes_done
    // with its resume data, so offline this is the figure of its last save.
    FEDSWARM_ASSIGN_OR_RETURN(auto locals, catalog.locals());
    with.local_progress.emplace();
    for (const auto& l : locals)
      if (l.state != LocalState::complete && l.state != LocalState::dropped && l.state != LocalState::quarantined)
        (*with.local_progress)[l.instance_id] = l.bytes_done;
  }
  CatalogCaseSource source(catalog);
  return compliance_page(tracker, source, with, status, offset, limit);
}

}  // namespace fedswarm
