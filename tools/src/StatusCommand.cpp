#include <iostream>
#include <nlohmann/json.hpp>

#include "Commands.hpp"
#include "Output.hpp"

namespace fedswarm::cli {

int run_status(Context& ctx, const StatusOptions&, std::ostream& out) {
  auto home = ctx.open_home();
  if (!home) return report_error(home.error(), ctx.json);
  auto catalog = home->open_catalog(true);
  if (!catalog) return report_error(catalog.error(), ctx.json);
  auto stats = (*catalog)->stats();
  if (!stats) return report_error(stats.error(), ctx.json);
  auto roster = (*catalog)->roster();
  if (!roster) return report_error(roster.error(), ctx.json);
  auto vv = (*catalog)->version_vector();
  if (!vv) return report_error(vv.error(), ctx.json);
  const auto& c = home->config();
  std::uint64_t own_seq = 0;
  if (auto it = vv->find(home->key().public_key()); it != vv->end()) own_seq = it->second;
  if (ctx.json) {
    out << nlohmann::json{{"node_key", to_hex(home->key().public_key())}, {"site", c.site},
                          {"tier", std::string(to_string(c.tier))}, {"home", home->dir().string()},
                          {"records", stats->records}, {"versions", stats->versions}, {"authors", vv->size()},
                          {"own_seq", own_seq}, {"catalog_bytes", stats->file_bytes},
                          {"roster_serial", *roster ? (*roster)->serial : 0}, {"running", false}}
               .dump(2)
        << "\n";
    return exit_ok;
  }
  out << "node      " << c.site << " (" << to_string(c.tier) << "), key " << to_hex(home->key().public_key()) << "\n"
      << "home      " << home->dir().string() << "\n"
      << "catalog   " << stats->records << " records from " << vv->size() << " authors, " << stats->versions
      << " dataset versions, " << human_bytes(stats->file_bytes) << " on disk\n"
      << "own log   " << own_seq << " records\n"
      << "roster    ";
  if (*roster)
    out << (*roster)->federation << " serial " << (*roster)->serial << ", " << (*roster)->members.size()
        << " members, expires " << human_time((*roster)->expires_at) << "\n";
  else
    out << "none imported (fedswarm federation import ROSTER.fsr)\n";
  return exit_ok;
}

void add_status_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<StatusOptions>();
  auto* cmd = app.add_subcommand("status", "this node: identity, catalog, roster");
  cmd->callback([&ctx, o] { ctx.exit_code = run_status(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
