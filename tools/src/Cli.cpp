#include "Cli.hpp"

#include <cstdlib>
#include <iostream>

#include "Commands.hpp"
#include "Output.hpp"
#include "VersionText.hpp"

namespace fedswarm::cli {

Result<NodeHome> Context::open_home() const { return NodeHome::open(home); }

std::pair<std::string, std::string> split_instance_id(const std::string& s) {
  auto dot = s.rfind('.');
  if (dot != std::string::npos && dot + 10 == s.size() && s[dot + 1] == 'v') {
    bool digits = true;
    for (std::size_t i = dot + 2; i < s.size(); ++i) digits = digits && std::isdigit(static_cast<unsigned char>(s[i]));
    if (digits) return {s.substr(0, dot), s.substr(dot + 1)};
  }
  return {s, ""};
}

int run(int argc, char** argv) {
  if (!crypto_init()) {
    std::cerr << "fedswarm: error: libsodium failed to initialise (no random source?)\n";
    return exit_failure;
  }
  CLI::App app{"fedswarm — peer-to-peer replication of signed dataset versions across a federation of archives"};
  app.require_subcommand(1);
  app.fallthrough(true);
  Context ctx;
  if (const char* env = std::getenv("FEDSWARM_HOME"); env && *env) ctx.home = env;
  else if (const char* h = std::getenv("HOME"); h && *h) ctx.home = std::string(h) + "/.fedswarm";
  else ctx.home = ".fedswarm";
  app.add_option("--home", ctx.home, "node home directory (default: $FEDSWARM_HOME or ~/.fedswarm)");
  app.add_flag("--json", ctx.json, "machine-readable JSON output");
  app.set_version_flag("--version", version_text,
                       "print the version, the source commit and the library versions, and exit");

  add_init_command(app, ctx);
  add_federation_commands(app, ctx);
  add_publish_command(app, ctx);
  add_search_command(app, ctx);
  add_show_command(app, ctx);
  add_retract_command(app, ctx);
  add_check_command(app, ctx);
  add_status_command(app, ctx);
  add_node_commands(app, ctx);
  add_peers_command(app, ctx);
  add_transfers_command(app, ctx);
  add_compliance_command(app, ctx);
  add_health_command(app, ctx);
  add_subscribe_commands(app, ctx);
  add_verify_command(app, ctx);
  add_export_torrent_command(app, ctx);
  add_demo_command(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_usage;
  }
  return ctx.exit_code;
}

}  // namespace fedswarm::cli
