#include <iostream>
#include <nlohmann/json.hpp>

#include "Commands.hpp"
#include "Output.hpp"
#include "fedswarm/engine/AuthorityImport.hpp"
#include "fedswarm/engine/FederationAuthority.hpp"

namespace fedswarm::cli {

int run_retract(Context& ctx, const RetractOptions& o, std::ostream& out) {
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
  cmd->add_option("version", o->target, "DATASET.vVERSION")->required();
  cmd->add_option("--reason", o->reason, "why (shown to every user of any copy)")->required();
  cmd->add_option("--errata", o->errata, "ES-DOC errata id");
  cmd->add_option("--as-authority", o->as_authority, "sign as the federation authority (its folder)");
  cmd->callback([&ctx, o] { ctx.exit_code = run_retract(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
