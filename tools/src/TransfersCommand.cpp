#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "Commands.hpp"
#include "Output.hpp"
#include "ProgressBar.hpp"
#include "Table.hpp"
#include "fedswarm/engine/ControlClient.hpp"

namespace fedswarm::cli {

namespace {

std::string rate(std::int64_t bytes_per_s) { return bytes_per_s > 0 ? human_bytes(static_cast<std::uint64_t>(bytes_per_s)) + "/s" : "-"; }

std::string eta(std::int64_t s) { return s < 0 ? "-" : human_age(s); }

// The node is not running: what the catalog says about local replicas.
int offline(Context& ctx, std::ostream& out) {
  auto home = ctx.open_home();
  if (!home) return report_error(home.error(), ctx.json);
  auto catalog = home->open_catalog(true);
  if (!catalog) return report_error(catalog.error(), ctx.json);
  auto locals = (*catalog)->locals();
  if (!locals) return report_error(locals.error(), ctx.json);
  if (ctx.json) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& l : *locals)
      rows.push_back({{"instance_id", l.instance_id}, {"state", std::string(to_string(l.state))},
                      {"bytes_done", l.bytes_done}, {"path", l.path}, {"last_error", l.last_error}});
    out << nlohmann::json{{"running", false}, {"local_replicas", rows}}.dump(2) << "\n";
    return exit_ok;
  }
  out << "node not running (start it with: fedswarm --home " << home->dir().string()
      << " node run); local replicas in the catalog:\n";
  Table t({"DATASET VERSION", "STATE", "DONE", "PATH / LAST ERROR"});
  for (const auto& l : *locals)
    t.add({l.instance_id, std::string(to_string(l.state)), human_bytes(l.bytes_done), l.last_error.empty() ? l.path : l.last_error});
  if (t.empty()) out << "  none\n";
  else t.print(out);
  return exit_ok;
}

}  // namespace

int run_transfers(Context& ctx, const TransfersOptions& o, std::ostream& out) {
  if (o.resume) {
    ControlRequest r;
    r.cmd = ControlCommand::resume;
    r.instance_id = *o.resume;
    auto resumed = control_request(ctx.home, r.to_json());
    std::optional<Error> e;
    if (!resumed) e = resumed.error();
    else e = error_from_json(*resumed);
    if (e) {
      if (e->reason == "node_not_running")
        e->message = "the node is not running: paused transfers resume when it starts (fedswarm node run)";
      return report_error(*e, ctx.json);
    }
    if (!ctx.json) out << "resumed " << (o.resume->empty() ? std::string("every paused transfer") : *o.resume) << "\n";
  }
  ControlRequest request;
  request.cmd = ControlCommand::transfers;
  auto answer = control_call<TransfersAnswer>(ctx.home, request);
  if (!answer) {
    if (answer.error().reason == "node_not_running") return offline(ctx, out);
    return report_error(answer.error(), ctx.json);
  }
  if (ctx.json) {
    out << answer->to_json().dump(2) << "\n";
    return exit_ok;
  }
  const bool tty = ::isatty(STDOUT_FILENO);
  Table t({"DATASET VERSION", "STATE", "PROGRESS", "RATE DOWN/UP", "PEERS", "ETA", "LAST ERROR"});
  std::size_t shown = 0;
  for (const auto& x : answer->transfers) {
    if (x.kind == "seed" && !o.all) continue;
    ++shown;
    // Each byte once: received (merkle-checked pieces) and linked (from an earlier
    // local version) add up to at most the total.
    const std::uint64_t done = std::min(x.bytes_done, x.bytes_total);
    std::string progress = human_bytes(done) + " / " + human_bytes(x.bytes_total);
    if (tty && x.bytes_total > 0) progress = render_bar(done, x.bytes_total, 20) + " " + progress;
    else if (x.bytes_total > 0) progress += " (" + std::to_string(done * 100 / x.bytes_total) + "%)";
    if (x.bytes_linked > 0) progress += ", " + human_bytes(x.bytes_linked) + " linked";
    t.add({x.instance_id, x.activity.empty() ? x.state : x.activity, progress,
           rate(x.download_rate) + " / " + rate(x.upload_rate), std::to_string(x.peers), eta(x.eta_s), x.last_error});
  }
  if (shown == 0) out << "no active transfers" << (o.all ? "" : " (seeds hidden; --all shows them)") << "\n";
  else t.print(out);
  if (answer->counters) {
    const auto& c = *answer->counters;
    out << "placed " << c.placed << ", verification failures " << c.verify_failures << ", local faults re-checked "
        << c.local_faults << ", corrupt pieces " << c.hash_failures << ", disk errors " << c.file_errors;
    if (!c.banned_peers.empty()) {
      out << ", banned peers:";
      for (const auto& b : c.banned_peers) out << " " << b;
    }
    out << "\n";
  }
  return exit_ok;
}

void add_transfers_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<TransfersOptions>();
  auto* cmd = app.add_subcommand("transfers", "the running node's swarm transfers: progress, rate, peers, ETA, state, last error");
  cmd->add_flag("--all", o->all, "also list the versions being seeded");
  cmd->add_option("--resume", o->resume,
                  "retry paused transfers now (after fixing a full disk or a missing data root): all, or DATASET.vVERSION")
      ->expected(0, 1)
      ->default_str("");
  cmd->callback([&ctx, o] { ctx.exit_code = run_transfers(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
