#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "Commands.hpp"
#include "Output.hpp"
#include "ProgressBar.hpp"
#include "fedswarm/engine/ReplicaVerifier.hpp"

namespace fedswarm::cli {

namespace {

// The complete local replicas the targets name (all of them when there are no targets);
// targets that name none are returned in `unmatched`.
struct Selection {
  std::vector<LocalReplica> replicas;
  std::vector<std::string> unmatched;
};

Result<Selection> select(const Catalog& catalog, const std::vector<std::string>& targets) {
  FEDSWARM_ASSIGN_OR_RETURN(std::vector<LocalReplica> locals, catalog.locals());
  Selection sel;
  std::vector<bool> chosen(locals.size(), targets.empty());
  for (const auto& t : targets) {
    auto [dataset, version] = split_instance_id(t);
    bool any = false;
    for (std::size_t i = 0; i < locals.size(); ++i) {
      if (locals[i].state != LocalState::complete) continue;
      bool hit = version.empty() ? split_instance_id(locals[i].instance_id).first == dataset : locals[i].instance_id == t;
      if (hit) chosen[i] = any = true;
    }
    if (!any) sel.unmatched.push_back(t);
  }
  for (std::size_t i = 0; i < locals.size(); ++i)
    if (chosen[i] && locals[i].state == LocalState::complete) sel.replicas.push_back(locals[i]);
  return sel;
}

nlohmann::json report_json(const VerifyReport& r) {
  nlohmann::json problems = nlohmann::json::array();
  for (const auto& p : r.problems) problems.push_back({{"file", p.file}, {"reason", p.reason}, {"message", p.message}});
  nlohmann::json j{{"instance_id", r.instance_id}, {"directory", r.directory}, {"ok", r.ok},
                   {"files_checked", r.files_checked}, {"bytes_checked", r.bytes_checked}, {"problems", problems}};
  if (r.withdrawn)
    j["withdrawn"] = {{"moved_to", r.moved_to}, {"state", std::string(to_string(r.new_state))},
                      {"dropped_record_seq", r.dropped_record_seq}, {"record_error", r.record_error}};
  return j;
}

}  // namespace

int run_verify(Context& ctx, const VerifyOptions& o, std::ostream& out) {
  auto home = ctx.open_home();
  if (!home) return report_error(home.error(), ctx.json);
  auto catalog = home->open_catalog();
  if (!catalog) return report_error(catalog.error(), ctx.json);
  auto sel = select(**catalog, o.targets);
  if (!sel) return report_error(sel.error(), ctx.json);
  const VerifyMode mode = o.full ? VerifyMode::full : VerifyMode::fast;

  std::uint64_t total = 0;
  std::map<std::string, std::uint64_t> sizes;
  for (const auto& l : sel->replicas) {
    auto v = (*catalog)->version(l.instance_id);
    if (!v) return report_error(v.error(), ctx.json);
    sizes[l.instance_id] = *v ? (*v)->size : 0;
    total += sizes[l.instance_id];
  }

  ReplicaVerifier verifier(*home, **catalog);
  ProgressBar bar(o.full ? "verifying (SHA-256)" : "verifying (xxh3)");
  std::uint64_t before = 0;
  std::vector<VerifyReport> reports;
  bool changed = false;
  for (const auto& l : sel->replicas) {
    auto r = verifier.verify(l, mode, now_seconds(), [&](const VerifyProgress& p) { bar.update(before + p.bytes_done, total, p.current); });
    if (!r) {
      bar.finish();
      if (changed) notify_node(*home);
      return report_error(r.error().with_context(l.instance_id), ctx.json);
    }
    changed = changed || r->withdrawn;
    before += sizes[l.instance_id];
    reports.push_back(std::move(*r));
  }
  bar.finish();
  // The dropped replica records are new: let a running node push them (and refetch).
  if (changed) notify_node(*home);

  std::size_t failed = 0;
  for (const auto& r : reports) failed += r.ok ? 0 : 1;
  int code = failed ? exit_corrupt : !sel->unmatched.empty() ? exit_not_found : exit_ok;
  if (ctx.json) {
    nlohmann::json versions = nlohmann::json::array();
    for (const auto& r : reports) versions.push_back(report_json(r));
    out << nlohmann::json{{"mode", o.full ? "full" : "fast"}, {"versions", versions}, {"verified", reports.size() - failed},
                          {"failed", failed}, {"not_found", sel->unmatched}}
               .dump(2)
        << "\n";
    return code;
  }
  for (const auto& r : reports) {
    out << (r.ok ? "ok      " : "FAILED  ") << r.instance_id << "  (" << r.files_checked << " file"
        << (r.files_checked == 1 ? "" : "s") << ", " << human_bytes(r.bytes_checked) << " checked)\n";
    for (const auto& p : r.problems)
      out << "        " << (p.file.empty() ? std::string("(directory)") : p.file) << ": " << p.reason << ": " << p.message << "\n";
    if (r.withdrawn) {
      out << "        withdrawn: " << (r.moved_to.empty() ? std::string("directory already gone") : "moved to " + r.moved_to);
      if (r.dropped_record_seq) out << "; signed \"dropped\" replica record " << r.dropped_record_seq;
      out << "; state " << to_string(r.new_state)
          << (r.new_state == LocalState::wanted ? " (it will be fetched again)" : " (retracted: not fetched again)") << "\n";
      if (!r.record_error.empty()) out << "        warning: no replica record could be signed: " << r.record_error << "\n";
    }
  }
  for (const auto& t : sel->unmatched) out << "missing " << t << "  (no complete local replica of it here)\n";
  out << reports.size() - failed << " verified, " << failed << " failed (" << (o.full ? "SHA-256" : "xxh3-128") << ")";
  if (!sel->unmatched.empty()) out << ", " << sel->unmatched.size() << " not held here";
  out << "\n";
  return code;
}

void add_verify_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<VerifyOptions>();
  auto* cmd = app.add_subcommand("verify",
                                 "re-hash complete local replicas against their manifests; a bad one is withdrawn, moved "
                                 "aside and fetched again");
  cmd->add_option("targets", o->targets, "DATASET or DATASET.vVERSION (default: every complete local replica)");
  cmd->add_flag("--full", o->full, "check SHA-256 (slower) instead of xxh3-128");
  cmd->callback([&ctx, o] { ctx.exit_code = run_verify(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
