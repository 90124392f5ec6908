#include <iostream>
#include <nlohmann/json.hpp>

#include "Commands.hpp"
#include "Output.hpp"
#include "Table.hpp"

namespace fedswarm::cli {

namespace {

std::string status_word(const VersionInfo& v) {
  std::string s(to_string(v.status));
  if (v.latest) s += ", latest";
  return s;
}

std::string site_or_key(const std::optional<Roster>& roster, const PublicKey& key) {
  if (roster)
    if (const RosterMember* m = roster->member(key)) return m->site;
  return short_key(key);
}

}  // namespace

int run_show(Context& ctx, const ShowOptions& o, std::ostream& out) {
  auto home = ctx.open_home();
  if (!home) return report_error(home.error(), ctx.json);
  auto catalog = home->open_catalog(true);
  if (!catalog) return report_error(catalog.error(), ctx.json);
  auto& cat = **catalog;

  auto [dataset_id, version] = split_instance_id(o.target);
  auto versions = cat.versions_of(dataset_id);
  if (!versions) return report_error(versions.error(), ctx.json);
  if (versions->empty())
    return report_error(make_error(Errc::not_found, "unknown_dataset", "no dataset " + dataset_id + " in this catalog; try `fedswarm search`"), ctx.json);
  const VersionInfo* chosen = nullptr;
  if (version.empty()) {
    // Without a version: the latest, else the newest.
    for (const auto& v : *versions)
      if (v.latest) chosen = &v;
    if (!chosen) chosen = &versions->back();
  } else {
    for (const auto& v : *versions)
      if (v.version == version) chosen = &v;
    if (!chosen)
      return report_error(make_error(Errc::not_found, "unknown_version", dataset_id + " has no version " + version + " in this catalog"), ctx.json);
  }
  auto manifest = cat.manifest(chosen->instance_id());
  if (!manifest) return report_error(manifest.error(), ctx.json);
  auto replicas = cat.replicas(chosen->instance_id());
  if (!replicas) return report_error(replicas.error(), ctx.json);
  auto roster = cat.roster();
  if (!roster) return report_error(roster.error(), ctx.json);
  auto local = cat.local(chosen->instance_id());
  if (!local) return report_error(local.error(), ctx.json);
  // A dark repository's copy is not an official replica (DESIGN §1): listed apart.
  std::vector<ReplicaLocation> official, dark;
  for (const auto& r : *replicas) {
    const RosterMember* m = *roster ? (*roster)->member(r.node) : nullptr;
    (m && m->tier == Tier::dark ? dark : official).push_back(r);
  }

  if (ctx.json) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : manifest->files)
      files.push_back({{"path", f.path}, {"size", f.size}, {"sha256", to_hex(f.sha256)}, {"xxh3_128", to_hex(f.xxh3)}, {"tracking_id", f.tracking_id}});
    nlohmann::json chain = nlohmann::json::array();
    for (const auto& v : *versions)
      chain.push_back({{"version", v.version}, {"status", std::string(to_string(v.status))}, {"latest", v.latest}});
    auto rows = [](const std::vector<ReplicaLocation>& list) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& r : list)
        a.push_back({{"node", to_hex(r.node)}, {"site", r.site}, {"state", std::string(to_string(r.state))}, {"at", r.at}});
      return a;
    };
    nlohmann::json reps = rows(official);
    nlohmann::json facets = nlohmann::json::object();
    for (const auto& f : manifest->facets) facets[f.name] = f.values;
    nlohmann::json j{{"instance_id", chosen->instance_id()}, {"dataset_id", chosen->dataset_id}, {"version", chosen->version},
                     {"project", manifest->project}, {"status", std::string(to_string(chosen->status))}, {"latest", chosen->latest},
                     {"publisher_key", to_hex(chosen->publisher)}, {"data_node", chosen->data_node}, {"seq", chosen->seq},
                     {"published_at", chosen->published_at}, {"size", chosen->size}, {"number_of_files", chosen->number_of_files},
                     {"supersedes", chosen->supersedes}, {"superseded_by", chosen->superseded_by},
                     {"info_hash", to_hex(manifest->info_hash())}, {"facets", facets}, {"files", files},
                     {"versions", chain}, {"replicas", reps}, {"dark_copies", rows(dark)}};
    if (chosen->retraction)
      j["retraction"] = {{"reason", chosen->retraction->reason}, {"errata_id", chosen->retraction->errata_id},
                         {"retracted_at", chosen->retraction->retracted_at}, {"by", to_hex(chosen->retraction->author)}};
    if (*local) j["local"] = {{"state", std::string(to_string((*local)->state))}, {"path", (*local)->path}};
    out << j.dump(2) << "\n";
    return exit_ok;
  }

  out << chosen->instance_id() << "  [" << status_word(*chosen) << "]\n";
  if (chosen->retraction) {
    out << "  RETRACTED    " << human_time(chosen->retraction->retracted_at) << " by "
        << site_or_key(*roster, chosen->retraction->author) << ": " << chosen->retraction->reason << "\n";
    if (!chosen->retraction->errata_id.empty()) out << "  errata       " << chosen->retraction->errata_id << "\n";
  }
  out << "  publisher    " << chosen->data_node << " (key " << short_key(chosen->publisher) << ", record " << chosen->seq << ")\n"
      << "  published    " << human_time(chosen->published_at) << "\n"
      << "  size         " << human_bytes(chosen->size) << " in " << chosen->number_of_files << " file" << (chosen->number_of_files == 1 ? "" : "s") << "\n"
      << "  info-hash    " << to_hex(manifest->info_hash()) << "\n";
  out << "  versions    ";
  for (const auto& v : *versions) {
    out << " " << v.version;
    if (&v == chosen) out << "*";
    out << " (" << (v.latest ? "latest" : std::string(to_string(v.status))) << ")";
    if (&v != &versions->back()) out << " →";
  }
  out << "\n";
  if (!chosen->superseded_by.empty()) out << "  superseded   by " << chosen->superseded_by << "\n";
  auto list = [&](const char* label, const std::vector<ReplicaLocation>& rows) {
    out << label;
    if (rows.empty()) out << "none recorded";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      out << (i ? ", " : "") << (r.site.empty() ? short_key(r.node) : r.site) << " (" << to_string(r.state) << " " << human_time(r.at) << ")";
    }
    out << "\n";
  };
  list("  replicas     ", official);
  if (!dark.empty()) list("  dark copies  ", dark);
  if (*local) out << "  local copy   " << to_string((*local)->state) << (((*local)->path.empty()) ? "" : " at " + (*local)->path) << "\n";
  out << "  facets      ";
  for (const auto& f : manifest->facets) {
    out << " " << f.name << "=";
    for (std::size_t i = 0; i < f.values.size(); ++i) out << (i ? "," : "") << f.values[i];
  }
  out << "\n";
  if (o.files) {
    out << "\n";
    Table t({"FILE", "SIZE", "SHA256", "TRACKING ID"});
    for (const auto& f : manifest->files)
      t.add({f.path, human_bytes(f.size), to_hex(f.sha256).substr(0, 16) + "…", f.tracking_id.empty() ? "-" : f.tracking_id});
    t.print(out);
  }
  return exit_ok;
}

void add_show_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<ShowOptions>();
  auto* cmd = app.add_subcommand("show", "show a dataset version: manifest, files, version chain, status, replicas");
  cmd->add_option("dataset", o->target, "DATASET or DATASET.vVERSION")->required();
  cmd->add_flag("!--no-files", o->files, "omit the file list");
  cmd->callback([&ctx, o] { ctx.exit_code = run_show(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
