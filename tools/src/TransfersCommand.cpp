#include <unistd.h>

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
    auto resumed = control_request(ctx.home, {{"cmd", "resume"}, {"instance_id", *o.resume}});
    if (!resumed) {
      Error e = resumed.error();
      if (e.reason == "node_not_running")
        e.message = "the node is not running: paused transfers resume when it starts (fedswarm node run)";
      return report_error(e, ctx.json);
    }
    if (!ctx.json) out << "resumed " << (o.resume->empty() ? std::string("every paused transfer") : *o.resume) << "\n";
  }
  auto answer = control_request(ctx.home, {{"cmd", "transfers"}});
  if (!answer) {
    if (answer.error().reason == "node_not_running") return offline(ctx, out);
    return report_error(answer.error(), ctx.json);
  }
  if (ctx.json) {
    out << answer->dump(2) << "\n";
    return exit_ok;
  }
  const bool tty = ::isatty(STDOUT_FILENO);
  Table t({"DATASET VERSION", "STATE", "PROGRESS", "RATE DOWN/UP", "PEERS", "ETA", "LAST ERROR"});
  std::size_t shown = 0;
  for (const auto& x : (*answer)["transfers"]) {
    const bool seed = x.value("kind", "") == "seed";
    if (seed && !o.all) continue;
    ++shown;
    const auto done = x.value("bytes_done", std::uint64_t{0}), total = x.value("bytes_total", std::uint64_t{0});
    std::string progress = human_bytes(done) + " / " + human_bytes(total);
    if (tty && total > 0) progress = render_bar(done, total, 20) + " " + progress;
    else if (total > 0) progress += " (" + std::to_string(done * 100 / total) + "%)";
    t.add({x.value("instance_id", ""), x.value("activity", x.value("state", "")), progress,
           rate(x.value("download_rate", std::int64_t{0})) + " / " + rate(x.value("upload_rate", std::int64_t{0})),
           std::to_string(x.value("peers", 0)), eta(x.value("eta_s", std::int64_t{-1})), x.value("last_error", "")});
  }
  if (shown == 0) out << "no active transfers" << (o.all ? "" : " (seeds hidden; --all shows them)") << "\n";
  else t.print(out);
  if (answer->contains("counters")) {
    const auto& c = (*answer)["counters"];
    out << "placed " << c.value("placed", 0) << ", verification failures " << c.value("verify_failures", 0)
        << ", local faults re-checked " << c.value("local_faults", 0)
        << ", corrupt pieces " << c.value("hash_failures", 0) << ", disk errors " << c.value("file_errors", 0);
    if (!c["banned_peers"].empty()) {
      out << ", banned peers:";
      for (const auto& b : c["banned_peers"]) out << " " << b.get<std::string>();
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
