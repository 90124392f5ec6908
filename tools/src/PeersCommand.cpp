#include <iostream>

#include "Commands.hpp"
#include "Output.hpp"
#include "Table.hpp"
#include "fedswarm/engine/ControlClient.hpp"

namespace fedswarm::cli {

namespace {

std::string ms_ago(const nlohmann::json& v) {
  if (!v.is_number()) return "never";
  return human_age(v.get<std::int64_t>() / 1000) + " ago";
}

std::string lag_cell(const nlohmann::json& behind, const nlohmann::json& ahead) {
  if (!behind.is_number()) return "?";
  return std::to_string(behind.get<std::uint64_t>()) + " / " + std::to_string(ahead.get<std::uint64_t>());
}

}  // namespace

int run_peers(Context& ctx, const PeersOptions&, std::ostream& out) {
  auto answer = control_request(ctx.home, {{"cmd", "peers"}});
  if (!answer) return report_error(answer.error(), ctx.json);
  if (ctx.json) {
    out << answer->dump(2) << "\n";
    return exit_ok;
  }
  Table t({"SITE", "TIER", "ADDRESS", "STATE", "LAST SEEN", "RECORDS SENT/RECV", "BYTES SENT/RECV", "LAG THEM/US",
           "BACKOFF", "LAST ERROR"});
  for (const auto& p : (*answer)["peers"]) {
    std::string state = p.value("state", "?");
    if (!p.value("connected", false)) state += " (no link)";
    std::string backoff = "-";
    if (!p.value("connected", false) && p.value("failures", 0) > 0)
      backoff = std::to_string(p.value("backoff_ms", 0)) + " ms, retry in " + std::to_string(p.value("next_dial_in_ms", 0)) + " ms";
    t.add({p.value("site", ""), p.value("tier", ""), p.value("address", ""), state, ms_ago(p["last_seen_ms_ago"]),
           std::to_string(p.value("records_sent", 0)) + " / " + std::to_string(p.value("records_received", 0)),
           human_bytes(p.value("bytes_sent", std::uint64_t{0})) + " / " + human_bytes(p.value("bytes_received", std::uint64_t{0})),
           lag_cell(p["behind"], p["ahead"]), backoff, p.value("connected", false) ? "" : p.value("last_error", "")});
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
