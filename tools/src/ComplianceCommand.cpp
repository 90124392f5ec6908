#include <iostream>

#include "Commands.hpp"
#include "Output.hpp"
#include "Table.hpp"
#include "fedswarm/engine/ComplianceReport.hpp"
#include "fedswarm/engine/ControlClient.hpp"

namespace fedswarm::cli {

namespace {

std::string cause_text(TierOneCause c) {
  switch (c) {
    case TierOneCause::none: return "";
    case TierOneCause::retracted: return "retracted";
    case TierOneCause::superseded: return "superseded (no copy required)";
    case TierOneCause::unclaimed: return "no Tier-1 copy, not claimed yet";
    case TierOneCause::claim_released: return "claims released";
    case TierOneCause::claim_expired: return "claim expired unfulfilled";
    case TierOneCause::claimant_down: return "claimant down past the grace period";
    case TierOneCause::copy_dropped: return "Tier-1 copy dropped";
    case TierOneCause::holders_down: return "every Tier-1 holder down past the grace period";
  }
  return std::string(to_string(c));
}

std::string blocker_text(TierOneBlocker b) {
  switch (b) {
    case TierOneBlocker::none: return "";
    case TierOneBlocker::no_eligible_tier1: return "no eligible Tier-1 (none alive outside the primary's site with room)";
    case TierOneBlocker::all_passed: return "every eligible Tier-1 passed on it recently";
  }
  return std::string(to_string(b));
}

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (const auto& x : xs) out += (out.empty() ? "" : ", ") + x;
  return out;
}

std::string detail(const ComplianceEntry& e) {
  switch (e.status) {
    case TierOneStatus::compliant: return "held by " + join(e.holders);
    case TierOneStatus::pending: {
      std::string s = "claimed by " + e.claimant + ", due " + human_time(e.deadline);
      if (e.bytes_done) {
        s += ", " + human_bytes(*e.bytes_done) + " of " + human_bytes(e.size);
        if (e.size > 0) s += " (" + std::to_string(*e.bytes_done * 100 / e.size) + "%)";
      }
      return s;
    }
    case TierOneStatus::violating: {
      std::string s = cause_text(e.cause) + "; violating for " + human_age(e.violating_for) + "; ";
      if (e.blocker != TierOneBlocker::none) return s + "blocked: " + blocker_text(e.blocker);
      return s + "next to claim: " + e.assignee;
    }
    case TierOneStatus::exempt: return "no obligation: " + cause_text(e.cause);
  }
  return "";
}

std::string summary_line(const ComplianceSummary& s) {
  std::string line = std::to_string(s.versions) + " dataset versions: " + std::to_string(s.compliant) + " compliant, " +
                     std::to_string(s.pending) + " pending, " + std::to_string(s.violating) + " violating";
  if (s.violating > 0) {
    line += " (" + human_bytes(s.violating_bytes) + ", longest " + human_age(s.longest_violation);
    if (s.blocked > 0) line += ", " + std::to_string(s.blocked) + " blocked";
    line += ")";
  }
  return line + ", " + std::to_string(s.exempt) + " exempt; " + std::to_string(s.tier1_members) + " Tier-1 members";
}

}  // namespace

int run_compliance(Context& ctx, const ComplianceOptions& o, std::ostream& out) {
  auto max_age = parse_duration(o.max_age);
  if (!max_age)
    return report_error(make_error(Errc::invalid, "bad_duration", "--max-age must be a duration like 24h, 90m or 0s"),
                        ctx.json);

  // The running node knows who is alive; without it (not running, or a node that does
  // not serve the command yet) the verdicts come from the catalog alone.
  std::optional<ComplianceReport> report;
  std::string note;
  bool running = true;
  auto live = control_request(ctx.home, {{"cmd", "compliance"}});
  if (live) {
    auto parsed = ComplianceReport::from_json(*live);
    if (!parsed) return report_error(parsed.error(), ctx.json);
    report = std::move(*parsed);
  } else if (live.error().reason == "node_not_running") {
    running = false;
    note = "node not running: liveness unknown, every member counted alive";
  } else if (live.error().reason == "unknown_command") {
    note = "the running node does not serve compliance: liveness unknown, every member counted alive";
  } else {
    return report_error(live.error(), ctx.json);
  }
  if (!report) {
    auto home = ctx.open_home();
    if (!home) return report_error(home.error(), ctx.json);
    auto catalog = home->open_catalog(true);
    if (!catalog) return report_error(catalog.error(), ctx.json);
    ComplianceInputs in;
    in.now = now_seconds();
    in.local = home->key().public_key();
    in.config = home->config().tier_one;
    auto built = build_compliance_report(**catalog, in);
    if (!built) return report_error(built.error(), ctx.json);
    report = std::move(*built);
  }

  const auto over = report->violations_older_than(*max_age);
  const int code = over.empty() ? exit_ok : exit_violation;
  if (ctx.json) {
    nlohmann::json j = report->to_json();
    j["running"] = running;
    if (!note.empty()) j["note"] = note;
    j["max_age_s"] = *max_age;
    j["over_max_age"] = over.size();
    out << j.dump(2) << "\n";
    return code;
  }

  if (report->versions.empty()) {
    out << "no dataset versions in the catalog\n";
  } else {
    Table t({"DATASET VERSION", "STATUS", "SIZE", "AGE", "PRIMARY", "DETAIL"});
    for (const auto& e : report->versions)
      t.add({e.instance_id, std::string(to_string(e.status)), human_bytes(e.size), human_age(e.age), e.primary_site,
             detail(e)});
    t.print(out);
  }
  out << summary_line(report->summary) << "\n";
  if (!note.empty()) out << note << "\n";
  if (!over.empty())
    out << over.size() << (over.size() == 1 ? " violation has" : " violations have") << " lasted at least "
        << human_age(*max_age) << " (--max-age " << o.max_age << "): exit status " << exit_violation << "\n";
  return code;
}

void add_compliance_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<ComplianceOptions>();
  auto* cmd = app.add_subcommand(
      "compliance", "the one-Tier-1-copy rule: every dataset version compliant, pending or violating (why, since when)");
  cmd->add_option("--max-age", o->max_age,
                  "exit with status 12 if a violation has lasted at least this long (default 24h; 0s: any violation)");
  cmd->callback([&ctx, o] { ctx.exit_code = run_compliance(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
