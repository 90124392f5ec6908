#include <iostream>
#include <nlohmann/json.hpp>

#include "Commands.hpp"
#include "Output.hpp"
#include "ProgressBar.hpp"
#include "Table.hpp"
#include "fedswarm/engine/Publisher.hpp"

namespace fedswarm::cli {

int run_publish(Context& ctx, const PublishOptionsCli& o, std::ostream& out) {
  auto home = ctx.open_home();
  if (!home) return report_error(home.error(), ctx.json);
  auto catalog = home->open_catalog();
  if (!catalog) return report_error(catalog.error(), ctx.json);

  PublishOptions options;
  for (const auto& p : o.paths) options.paths.emplace_back(p);
  options.dry_run = o.dry_run;
  options.now = now_seconds();
  ProgressBar bar("hashing");
  options.progress = [&bar](const PublishProgress& p) { bar.update(p.bytes_done, p.bytes_total, p.current); };
  Publisher publisher(*home, **catalog);
  auto report = publisher.run(options);
  bar.finish();
  if (!report) return report_error(report.error(), ctx.json);
  if (!o.dry_run) notify_node(*home);

  if (ctx.json) {
    nlohmann::json versions = nlohmann::json::array();
    for (const auto& v : report->versions)
      versions.push_back({{"instance_id", v.instance_id}, {"directory", v.directory.string()}, {"files", v.files},
                          {"size", v.bytes}, {"supersedes", v.supersedes}, {"seq", v.seq}, {"unchanged", v.unchanged}});
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& e : report->errors)
      errors.push_back({{"code", std::string(to_string(e.code))}, {"reason", e.reason}, {"message", e.message}});
    out << nlohmann::json{{"published", versions}, {"errors", errors}, {"warnings", report->warnings}, {"dry_run", o.dry_run}}.dump(2) << "\n";
  } else if (report->errors.empty()) {
    for (const auto& w : report->warnings) std::cerr << "fedswarm: warning: " << w << "\n";
    Table t({"DATASET VERSION", "FILES", "SIZE", "SUPERSEDES", "RESULT"});
    for (const auto& v : report->versions)
      t.add({v.instance_id, std::to_string(v.files), human_bytes(v.bytes), v.supersedes.empty() ? "-" : v.supersedes,
             o.dry_run ? "checked" : v.unchanged ? "unchanged" : "published (seq " + std::to_string(v.seq) + ")"});
    t.print(out);
    std::size_t published = 0;
    for (const auto& v : report->versions) published += (!v.unchanged && !o.dry_run);
    out << "\n" << (o.dry_run ? "Dry run: " : "") << report->versions.size() << " dataset version(s) found, "
        << published << " published\n";
  } else {
    std::cerr << "fedswarm: publish refused, nothing was stored (" << report->errors.size() << " problem"
              << (report->errors.size() == 1 ? "" : "s") << "):\n";
    for (const auto& e : report->errors) std::cerr << "  - " << e.message << " [" << e.reason << "]\n";
  }
  if (!report->errors.empty()) return exit_code_for(report->errors.front().code);
  return exit_ok;
}

void add_publish_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<PublishOptionsCli>();
  auto* cmd = app.add_subcommand("publish", "sign and store manifests for the dataset versions in DRS trees");
  cmd->add_option("paths", o->paths, "DRS roots, subtrees or version directories")->required()->check(CLI::ExistingPath);
  cmd->add_flag("--dry-run", o->dry_run, "scan, validate and hash only; store nothing");
  cmd->callback([&ctx, o] { ctx.exit_code = run_publish(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
