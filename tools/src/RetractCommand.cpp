#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "Commands.hpp"
#include "Output.hpp"
#include "ProgressBar.hpp"
#include "Table.hpp"
#include "fedswarm/engine/AuthorityImport.hpp"
#include "fedswarm/engine/ErrataRetraction.hpp"
#include "fedswarm/engine/FederationAuthority.hpp"

namespace fedswarm::cli {

namespace {

std::string skip_label(ErrataOutcome o) {
  switch (o) {
    case ErrataOutcome::retract: return "retracted";
    case ErrataOutcome::unknown: return "skipped: not in this catalog";
    case ErrataOutcome::not_publisher: return "skipped: published by another node";
    case ErrataOutcome::already_retracted: return "skipped: already retracted";
  }
  return "";
}

void print_errata_json(const ErrataIssue& issue, const std::string& file, const ErrataRetractionReport& report,
                       bool dry_run, std::ostream& out) {
  nlohmann::json retracted = nlohmann::json::array(), skipped = nlohmann::json::array();
  for (const auto& i : report.items) {
    if (i.outcome == ErrataOutcome::retract) {
      nlohmann::json r{{"instance_id", i.dataset.instance_id()}, {"listed", i.dataset.listed}};
      if (!dry_run) r["seq"] = i.seq;
      retracted.push_back(std::move(r));
    } else {
      skipped.push_back({{"instance_id", i.dataset.instance_id()}, {"listed", i.dataset.listed},
                         {"reason", std::string(to_string(i.outcome))}, {"detail", i.detail}});
    }
  }
  nlohmann::json summary;
  for (auto o : {ErrataOutcome::retract, ErrataOutcome::unknown, ErrataOutcome::not_publisher,
                 ErrataOutcome::already_retracted})
    summary[o == ErrataOutcome::retract ? "retracted" : std::string(to_string(o))] = report.count(o);
  out << nlohmann::json{{"errata", {{"uid", issue.uid}, {"title", issue.title}, {"severity", issue.severity},
                                    {"status", issue.status}, {"file", file}}},
                        {"dry_run", dry_run},
                        {"listed", issue.datasets.size()},
                        {"duplicates", issue.duplicates},
                        {"retracted", retracted},
                        {"skipped", skipped},
                        {"summary", summary}}
             .dump(2)
      << "\n";
}

void print_errata_human(const ErrataIssue& issue, const ErrataRetractionReport& report, bool dry_run,
                        std::ostream& out) {
  out << "Errata " << issue.uid << (issue.severity.empty() ? "" : " (" + issue.severity + ")") << ": " << issue.title
      << "\n"
      << issue.datasets.size() << " dataset version(s) listed"
      << (issue.duplicates ? " (" + std::to_string(issue.duplicates) + " listed twice, counted once)" : "") << "\n\n";
  // Retractions first, then the skipped ones grouped by reason, each in the issue's order.
  std::vector<const ErrataItem*> rows;
  for (const auto& i : report.items) rows.push_back(&i);
  std::stable_sort(rows.begin(), rows.end(), [](const ErrataItem* a, const ErrataItem* b) { return a->outcome < b->outcome; });
  Table t({"DATASET VERSION", "RESULT"});
  for (const auto* i : rows) {
    std::string result;
    if (i->outcome != ErrataOutcome::retract) result = "skipped: " + i->detail;
    else if (dry_run) result = "would retract";
    else result = "retracted (record " + std::to_string(i->seq) + ")";
    t.add({i->dataset.instance_id(), result});
  }
  t.print(out);
  out << "\n";
  Table summary({"RESULT", "VERSIONS"});
  for (auto o : {ErrataOutcome::retract, ErrataOutcome::unknown, ErrataOutcome::not_publisher,
                 ErrataOutcome::already_retracted})
    summary.add({o == ErrataOutcome::retract && dry_run ? "would retract" : skip_label(o), std::to_string(report.count(o))});
  summary.print(out);
  if (dry_run) out << "\nDry run: nothing was signed or stored.\n";
  else if (!report.stored) out << "\nNothing to retract: nothing was signed or stored.\n";
}

// `retract --errata-file`: every listed version this node published, in one transaction.
int run_retract_errata(Context& ctx, const RetractOptions& o, std::ostream& out) {
  if (!o.target.empty() || !o.reason.empty() || !o.errata.empty() || !o.as_authority.empty())
    return report_error(make_error(Errc::invalid, "errata_file_alone",
                                   "--errata-file takes the versions, the reason (its title) and the errata id (its uid) "
                                   "from the file: give no DATASET.vVERSION, --reason, --errata or --as-authority with it"),
                        ctx.json);
  auto issue = ErrataIssue::load(o.errata_file);
  if (!issue) return report_error(issue.error(), ctx.json);
  auto home = ctx.open_home();
  if (!home) return report_error(home.error(), ctx.json);
  auto catalog = home->open_catalog(o.dry_run);
  if (!catalog) return report_error(catalog.error(), ctx.json);

  ProgressBar bar(o.dry_run ? "checking" : "retracting", "versions");
  ErrataRetractionOptions options;
  options.dry_run = o.dry_run;
  options.now = now_seconds();
  options.progress = [&bar](std::size_t done, std::size_t total) { bar.update(done, total); };
  auto report = retract_errata(**catalog, home->key(), *issue, options);
  bar.finish();
  if (!report)
    return report_error(report.error().with_context("nothing was retracted (errata " + issue->uid + ")"), ctx.json);
  if (report->stored) notify_node(*home);
  if (ctx.json) print_errata_json(*issue, o.errata_file, *report, o.dry_run, out);
  else print_errata_human(*issue, *report, o.dry_run, out);
  return exit_ok;
}

}  // namespace

int run_retract(Context& ctx, const RetractOptions& o, std::ostream& out) {
  if (!o.errata_file.empty()) return run_retract_errata(ctx, o, out);
  if (o.dry_run)
    return report_error(make_error(Errc::invalid, "dry_run_needs_errata_file", "--dry-run goes with --errata-file"), ctx.json);
  if (o.target.empty())
    return report_error(make_error(Errc::invalid, "no_version", "name the version to retract (DATASET.vYYYYMMDD) or give --errata-file"), ctx.json);
  auto [dataset_id, version] = split_instance_id(o.target);
  if (version.empty())
    return report_error(make_error(Errc::invalid, "no_version", "name the version to retract: DATASET.vYYYYMMDD"), ctx.json);
  if (o.reason.empty()) return report_error(make_error(Errc::invalid, "retraction_no_reason", "--reason is required"), ctx.json);
  auto home = ctx.open_home();
  if (!home) return report_error(home.error(), ctx.json);
  auto catalog = home->open_catalog();
  if (!catalog) return report_error(catalog.error(), ctx.json);
  auto known = (*catalog)->version(o.target);
  if (!known) return report_error(known.error(), ctx.json);
  if (!*known && o.as_authority.empty())
    return report_error(make_error(Errc::not_found, "unknown_version", o.target + " is not in this catalog"), ctx.json);
  if (*known && (*known)->retraction)
    return report_error(make_error(Errc::conflict, "already_retracted", o.target + " is already retracted: " + (*known)->retraction->reason), ctx.json);

  Retraction r;
  r.dataset_id = dataset_id;
  r.version = version;
  r.reason = o.reason;
  r.errata_id = o.errata;
  r.retracted_at = now_seconds();
  std::uint64_t seq = 0;
  std::string by;
  if (!o.as_authority.empty()) {
    auto authority = FederationAuthority::open(o.as_authority);
    if (!authority) return report_error(authority.error(), ctx.json);
    auto env = authority->sign_retraction(r);
    if (!env) return report_error(env.error(), ctx.json);
    // Bring the authority's whole log along so this node's copy of it has no gap.
    auto log = authority->log();
    if (!log) return report_error(log.error(), ctx.json);
    auto imported = import_authority_records(*home, **catalog, *log, now_seconds());
    if (!imported) return report_error(imported.error(), ctx.json);
    seq = env->seq;
    by = "the federation authority";
  } else {
    if (*known && (*known)->publisher != home->key().public_key())
      return report_error(make_error(Errc::unauthorized, "not_version_publisher",
                                     o.target + " was published by " + (*known)->data_node +
                                         "; only its publisher or the federation authority (--as-authority DIR) may retract it"),
                          ctx.json);
    auto env = (*catalog)->append_local(home->key(), RecordKind::retraction, r.encode(), now_seconds());
    if (!env) return report_error(env.error(), ctx.json);
    seq = env->seq;
    by = home->config().site;
  }
  notify_node(*home);
  if (ctx.json) out << nlohmann::json{{"retracted", o.target}, {"reason", o.reason}, {"errata_id", o.errata}, {"seq", seq}}.dump(2) << "\n";
  else out << "Retracted " << o.target << " (signed by " << by << ", record " << seq << ")\n"
           << "  reason  " << o.reason << "\n" << (o.errata.empty() ? "" : "  errata  " + o.errata + "\n");
  return exit_ok;
}

void add_retract_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<RetractOptions>();
  auto* cmd = app.add_subcommand("retract", "withdraw a dataset version with a signed retraction");
  cmd->add_option("version", o->target, "DATASET.vVERSION (or --errata-file)");
  cmd->add_option("--reason", o->reason, "why (shown to every user of any copy); required with a version");
  cmd->add_option("--errata", o->errata, "ES-DOC errata id");
  cmd->add_option("--as-authority", o->as_authority, "sign as the federation authority (its folder)");
  cmd->add_option("--errata-file", o->errata_file,
                  "an ES-DOC errata issue (JSON): retract every listed version this node published, "
                  "with the issue's uid and title, all or none");
  cmd->add_flag("--dry-run", o->dry_run, "with --errata-file: list what would be retracted and what not; store nothing");
  cmd->callback([&ctx, o] { ctx.exit_code = run_retract(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
