#include <iostream>
#include <nlohmann/json.hpp>

#include "Commands.hpp"
#include "Output.hpp"
#include "Table.hpp"
#include "fedswarm/engine/ControlClient.hpp"

namespace fedswarm::cli {

namespace {

int print_live_status(const nlohmann::json& s, std::ostream& out) {
  const auto& peers = s["peers"];
  out << "node      " << s.value("site", "") << " (" << s.value("tier", "") << "), key " << s.value("node_key", "") << "\n"
      << "running   yes, up " << human_age(s.value("uptime_s", std::int64_t{0})) << ", listening on "
      << s.value("listen", "") << "\n"
      << "catalog   " << s.value("records", std::uint64_t{0}) << " records from " << s.value("authors", std::uint64_t{0})
      << " authors\n"
      << "roster    serial " << s.value("roster_serial", std::uint64_t{0}) << "\n"
      << "peers     " << peers.value("up", 0) << " up, " << peers.value("suspect", 0) << " suspect, "
      << peers.value("down", 0) << " down\n";
  if (s.contains("capacity") && s["capacity"].is_object()) {
    // Bytes as figures or null (not applicable, or not known yet).
    auto bytes = [](const nlohmann::json& v) { return v.is_number() ? human_bytes(v.get<std::uint64_t>()) : std::string("-"); };
    const auto& c = s["capacity"];
    const bool unset = c.value("configured", std::uint64_t{0}) == 0;
    out << "capacity  configured " << (unset ? std::string("0 (the data root's free space)") : bytes(c["configured"])) << ", roster "
        << bytes(c.value("roster", nlohmann::json())) << "; data root " << c.value("data_root", "") << " has "
        << bytes(c.value("data_root_free", nlohmann::json())) << " free";
    if (c.contains("committed") && c["committed"].is_number())
      out << "; committed to the Tier-1 rule " << bytes(c["committed"]) << " of a quota of " << bytes(c.value("quota", nlohmann::json()));
    out << "\n";
  }
  const auto& g = s["gossip"];
  out << "gossip    " << g.value("rounds", std::uint64_t{0}) << " rounds; records sent "
      << g.value("records_sent", std::uint64_t{0}) << ", received " << g.value("records_received", std::uint64_t{0})
      << " (stored " << g.value("records_stored", std::uint64_t{0}) << ", duplicate "
      << g.value("records_duplicate", std::uint64_t{0}) << ", waiting for a gap "
      << g.value("records_parked", std::uint64_t{0}) << "); " << human_bytes(g.value("bytes_sent", std::uint64_t{0}))
      << " sent, " << human_bytes(g.value("bytes_received", std::uint64_t{0})) << " received\n";
  if (!s["lag"].empty()) {
    out << "\nversion-vector lag (records the peer lacks / records this node lacks):\n";
    Table t({"PEER", "THEY LACK", "WE LACK"});
    for (const auto& l : s["lag"])
      t.add({l.value("site", ""), l["behind"].is_number() ? std::to_string(l["behind"].get<std::uint64_t>()) : "? (no digest yet)",
             l["ahead"].is_number() ? std::to_string(l["ahead"].get<std::uint64_t>()) : "?"});
    t.print(out);
  }
  out << "\nrefused (by reason):";
  if (s["refused"].empty()) out << " none\n";
  else {
    out << "\n";
    Table t({"REASON", "COUNT"});
    for (const auto& [reason, n] : s["refused"].items()) t.add({reason, std::to_string(n.get<std::uint64_t>())});
    t.print(out);
  }
  return exit_ok;
}

}  // namespace

int run_status(Context& ctx, const StatusOptions&, std::ostream& out) {
  auto live = control_request(ctx.home, {{"cmd", "status"}});
  if (live) {
    if (ctx.json) out << live->dump(2) << "\n";
    else print_live_status(*live, out);
    return exit_ok;
  }
  if (live.error().reason != "node_not_running") return report_error(live.error(), ctx.json);
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
  out << "running   no (start with: fedswarm --home " << home->dir().string() << " node run)\n";
  return exit_ok;
}

void add_status_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<StatusOptions>();
  auto* cmd = app.add_subcommand("status", "this node: identity, catalog, roster; when it runs, peers, lag and refusals");
  cmd->callback([&ctx, o] { ctx.exit_code = run_status(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
