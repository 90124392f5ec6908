#include <iostream>

#include "Commands.hpp"
#include "Output.hpp"
#include "Table.hpp"
#include "fedswarm/engine/ControlClient.hpp"
#include "fedswarm/engine/HealthReport.hpp"

namespace fedswarm::cli {

namespace {

std::string lag_cell(const SiteHealth& s) {
  if (s.local) return "-";
  if (!s.behind || !s.ahead) return "?";
  return std::to_string(*s.behind) + " / " + std::to_string(*s.ahead);
}

std::string rate_cell(const SiteHealth& s) {
  if (!s.download_rate || !s.upload_rate) return "-";
  return human_bytes(*s.download_rate) + "/s / " + human_bytes(*s.upload_rate) + "/s";
}

std::string compliance_line(const ComplianceSummary& s) {
  std::string line = std::to_string(s.versions) + " dataset versions: " + std::to_string(s.compliant) + " compliant, " +
                     std::to_string(s.pending) + " pending, " + std::to_string(s.violating) + " violating";
  if (s.violating > 0) line += " (longest " + human_age(s.longest_violation) + ")";
  line += ", " + std::to_string(s.exempt) + " exempt";
  if (!s.liveness_known) line += "; liveness unknown, every member counted alive";
  return line;
}

void print(const HealthReport& r, const std::string& home, std::ostream& out) {
  std::size_t tier1 = 0;
  for (const auto& s : r.sites) tier1 += s.tier == Tier::tier1;
  out << "federation  ";
  if (r.federation.empty()) out << "no roster imported (fedswarm federation import ROSTER.fsr)\n";
  else
    out << r.federation << ", roster serial " << r.roster_serial << ", " << r.sites.size() << " members (" << tier1
        << " Tier-1)\n";
  out << "node        " << r.local_site;
  if (r.running)
    out << ", running for " << human_age(r.uptime) << "; transfers: " << r.fetching << " fetching, " << r.seeding
        << " seeding, " << r.paused << " paused\n";
  else
    out << ", not running (start it with: fedswarm --home " << home
        << " node run): link states, lag, rates and refusals unknown\n";

  if (!r.sites.empty()) {
    out << "\n";
    Table t({"SITE", "TIER", "STATE", "LAG THEM/US", "VERSIONS", "HELD", "CAPACITY", "FREE", "RATE DOWN/UP"});
    for (const auto& s : r.sites)
      t.add({s.site, std::string(to_string(s.tier)), s.state, lag_cell(s), std::to_string(s.versions_held),
             human_bytes(s.bytes_held), s.capacity ? human_bytes(s.capacity) : "-",
             s.capacity ? human_bytes(s.free_capacity) : "-", rate_cell(s)});
    t.print(out);
    out << "\n";
  }

  out << "compliance  " << compliance_line(r.compliance) << " (details: fedswarm compliance)\n";
  out << "refusals    ";
  if (!r.refusals) out << "unknown (node not running)\n";
  else if (r.refusals->empty()) out << "none\n";
  else {
    std::string line;
    for (const auto& [reason, n] : *r.refusals) line += (line.empty() ? "" : ", ") + reason + " " + std::to_string(n);
    out << line << " (since the node started)\n";
  }
  out << "banned      ";
  if (!r.running) out << "unknown (node not running)\n";
  else if (r.banned_peers.empty()) out << "none\n";
  else {
    std::string line;
    for (const auto& b : r.banned_peers) line += (line.empty() ? "" : ", ") + b;
    out << line << "\n";
  }
  out << "conflicts   ";
  if (r.conflicts.empty()) out << "none\n";
  else {
    out << r.conflicts.size() << " second manifests refused:\n";
    for (const auto& c : r.conflicts)
      out << "            " << c.instance_id << " by " << c.author << ", " << human_time(c.seen_at) << "\n";
  }
}

}  // namespace

int run_health(Context& ctx, const HealthOptions&, std::ostream& out) {
  ControlRequest request;
  request.cmd = ControlCommand::health;
  auto served = control_call<HealthReport>(ctx.home, request);
  if (served) {
    if (ctx.json) out << served->to_json().dump(2) << "\n";
    else print(*served, ctx.home, out);
    return exit_ok;
  }
  if (served.error().reason != "node_not_running") return report_error(served.error(), ctx.json);

  // Offline: what the catalog says, every member counted alive.
  auto home = ctx.open_home();
  if (!home) return report_error(home.error(), ctx.json);
  HealthInputs in;
  in.now = now_seconds();
  in.local_key = home->key().public_key();
  in.local_site = home->config().site;
  in.compliance.local = in.local_key;
  in.compliance.config = home->config().tier_one;
  auto catalog = home->open_catalog(true);
  if (!catalog) return report_error(catalog.error(), ctx.json);
  auto report = build_health_report(**catalog, in);
  if (!report) return report_error(report.error(), ctx.json);
  if (ctx.json) out << report->to_json().dump(2) << "\n";
  else print(*report, home->dir().string(), out);
  return exit_ok;
}

void add_health_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<HealthOptions>();
  auto* cmd = app.add_subcommand(
      "health", "the federation at a glance: each site's state, lag, holdings and free capacity; compliance; refusals");
  cmd->callback([&ctx, o] { ctx.exit_code = run_health(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
