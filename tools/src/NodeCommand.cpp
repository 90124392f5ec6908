#include <iostream>

#include "Commands.hpp"
#include "Output.hpp"
#include "SourceCommit.hpp"
#include "fedswarm/engine/ControlClient.hpp"
#include "fedswarm/engine/NodeDaemon.hpp"

namespace fedswarm::cli {

int run_node_run(Context& ctx, const NodeRunOptionsCli& o, std::ostream&) {
  auto home = ctx.open_home();
  if (!home) return report_error(home.error(), ctx.json);
  NodeRunOptions options;
  options.log_level = o.log_level;
  options.source_commit = std::string(source_commit());
  auto daemon = NodeDaemon::create(*home, options);
  if (!daemon) return report_error(daemon.error(), ctx.json);
  return (*daemon)->run();
}

void add_node_commands(CLI::App& app, Context& ctx) {
  auto* node = app.add_subcommand("node", "run this home's node daemon");
  node->require_subcommand(1);
  auto o = std::make_shared<NodeRunOptionsCli>();
  auto* run = node->add_subcommand(
      "run",
      "run the node in the foreground: gossip with the roster's members, serve the control socket "
      "<home>/control.sock; logs to stderr and <home>/logs/node.log; SIGINT/SIGTERM stop it");
  run->add_option("--log-level", o->log_level, "trace, debug, info, warn or error")->capture_default_str();
  run->callback([&ctx, o] { ctx.exit_code = run_node_run(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
