#include <iostream>

#include "Commands.hpp"
#include "Output.hpp"
#include "Table.hpp"
#include "fedswarm/engine/ControlClient.hpp"

namespace fedswarm::cli {

namespace {

std::string ms_ago(const std::optional<std::int64_t>& v) {
  if (!v) return "never";
  return human_age(*v / 1000) + " ago";
}

std::string lag_cell(const std::optional<std::uint64_t>& behind, const std::optional<std::uint64_t>& ahead) {
  if (!behind) return "?";
  return std::to_string(*behind) + " / " + std::to_string(ahead.value_or(0));
}

}  // namespace

int run_peers(Context& ctx, const PeersOptions&, std::ostream& out) {
  ControlRequest request;
  request.cmd = ControlCommand::peers;
  auto answer = control_call<PeersAnswer>(ctx.home, request);
  if (!answer) return report_error(answer.error(), ctx.json);
  if (ctx.json) {
    out << answer->to_json().dump(2) << "\n";
    return exit_ok;
  }
  Table t({"SITE", "TIER", "ADDRESS", "STATE", "LAST SEEN", "RECORDS SENT/RECV", "BYTES SENT/RECV", "LAG THEM/US",
           "BACKOFF", "LAST ERROR"});
  for (const auto& p : answer->peers) {
    std::string state = p.state;
    if (!p.connected) state += " (no link)";
    std::string backoff = "-";
    if (!p.connected && p.failures > 0)
      backoff = std::to_string(p.backoff_ms) + " ms, retry in " + std::to_string(p.next_dial_in_ms) + " ms";
    t.add({p.site, std::string(to_string(p.tier)), p.address, state, ms_ago(p.last_seen_ms_ago),
           std::to_string(p.records_sent) + " / " + std::to_string(p.records_received),
           human_bytes(p.bytes_sent) + " / " + human_bytes(p.bytes_received), lag_cell(p.behind, p.ahead), backoff,
           p.connected ? "" : p.last_error});
  }
  if (t.empty()) {
    out << "no peers: the roster lists no other member (fedswarm federation import a roster with them)\n";
    return exit_ok;
  }
  t.print(out);
  out << "LAG THEM/US: records this node holds that the peer lacks / that the peer holds and this node lacks, "
         "from the peer's last digest.\n";
  return exit_ok;
}

void add_peers_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<PeersOptions>();
  auto* cmd = app.add_subcommand("peers", "each federation member as the running node sees it: state, traffic, lag, backoff");
  cmd->callback([&ctx, o] { ctx.exit_code = run_peers(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
