#include <iostream>
#include <nlohmann/json.hpp>

#include "Commands.hpp"
#include "Output.hpp"
#include "Table.hpp"
#include "fedswarm/engine/ControlClient.hpp"

namespace fedswarm::cli {

namespace {

int print_live_status(const StatusAnswer& s, std::ostream& out) {
  out << "node      " << s.site << " (" << to_string(s.tier) << "), key " << to_hex(s.node_key) << "\n"
      << "running   yes, up " << human_age(s.uptime_s) << ", listening on " << s.listen << "\n"
      << "catalog   " << s.records << " records from " << s.authors << " authors\n"
      << "roster    serial " << s.roster_serial << "\n"
      << "peers     " << s.peers_up << " up, " << s.peers_suspect << " suspect, " << s.peers_down << " down\n";
  // Bytes as figures or "-" (not applicable, or not known yet).
  auto bytes = [](const std::optional<std::uint64_t>& v) { return v ? human_bytes(*v) : std::string("-"); };
  const auto& c = s.capacity;
  out << "capacity  configured " << (c.configured == 0 ? std::string("0 (the data root's free space)") : human_bytes(c.configured))
      << ", roster " << bytes(c.roster) << "; data root " << c.data_root << " has " << bytes(c.data_root_free) << " free";
  if (c.committed) out << "; committed to the Tier-1 rule " << bytes(c.committed) << " of a quota of " << bytes(c.quota);
  out << "\n";
  const auto& g = s.gossip;
  out << "gossip    " << g.rounds << " rounds; records sent " << g.records_sent << ", received " << g.records_received
      << " (stored " << g.records_stored << ", duplicate " << g.records_duplicate << ", waiting for a gap "
      << g.records_parked << "); " << human_bytes(g.bytes_sent) << " sent, " << human_bytes(g.bytes_received)
      << " received\n";
  if (s.swarm) {
    const auto& w = *s.swarm;
    out << "swarm     " << w.listen << "; " << w.held << " versions held, " << w.loaded << " loaded (" << w.fetching
        << " fetching, " << w.seeding << " seeding, " << w.paused << " paused); " << w.on_demand_loads
        << " loaded on a peer's request; foreign peers: " << w.foreign_refused << " refused, " << w.foreign_served
        << " served, " << w.foreign_dials_refused << " dials refused\n";
  }
  const auto& p = s.pipeline;
  out << "ingest    " << p.written_records << " records written in " << p.write_groups << " commits, " << p.queued_records
      << " queued" << (p.saturated ? " (reading from peers paused until the writer catches up)" : "") << "\n";
  if (p.rule_rebuilding)
    out << "tier-1    judging every version after the start: " << p.rule_judged << " of " << p.rule_versions << "\n";
  if (!s.lag.empty()) {
    out << "\nversion-vector lag (records the peer lacks / records this node lacks):\n";
    Table t({"PEER", "THEY LACK", "WE LACK"});
    for (const auto& l : s.lag)
      t.add({l.site, l.behind ? std::to_string(*l.behind) : "? (no digest yet)", l.ahead ? std::to_string(*l.ahead) : "?"});
    t.print(out);
  }
  out << "\nrefused (by reason):";
  if (s.refused.empty()) out << " none\n";
  else {
    out << "\n";
    Table t({"REASON", "COUNT"});
    for (const auto& [reason, n] : s.refused) t.add({reason, std::to_string(n)});
    t.print(out);
  }
  return exit_ok;
}

}  // namespace

int run_status(Context& ctx, const StatusOptions&, std::ostream& out) {
  ControlRequest request;
  request.cmd = ControlCommand::status;
  auto live = control_call<StatusAnswer>(ctx.home, request);
  if (live) {
    if (ctx.json) out << live->to_json().dump(2) << "\n";
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
