#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "Commands.hpp"
#include "Output.hpp"
#include "Table.hpp"

namespace fedswarm::cli {

namespace {

// One esg-search document (Solr JSON shape), so scripts written for ESGF keep working.
nlohmann::json esgf_doc(const SearchDoc& d) {
  nlohmann::json j;
  std::string instance = d.instance_id();
  j["id"] = instance + "|" + d.data_node;
  j["instance_id"] = instance;
  j["master_id"] = d.dataset_id;
  j["dataset_id"] = instance + "|" + d.data_node;
  j["title"] = d.dataset_id;
  j["version"] = d.version.size() > 1 ? d.version.substr(1) : d.version;  // ESGF drops the 'v'
  j["type"] = "Dataset";
  j["data_node"] = d.data_node;
  for (const auto& f : d.facets) {
    if (f.name == "data_node" || f.name == "version") continue;
    j[f.name] = f.values;
  }
  j["latest"] = d.latest;
  j["retracted"] = d.retracted;
  j["replica"] = false;
  j["size"] = d.size;
  j["number_of_files"] = d.number_of_files;
  j["_timestamp"] = human_time(d.published_at);
  j["publisher_key"] = to_hex(d.publisher);
  return j;
}

}  // namespace

int run_search(Context& ctx, const SearchOptions& o, std::ostream& out) {
  SearchQuery q;
  for (const auto& c : o.constraints) {
    auto eq = c.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == c.size())
      return report_error(make_error(Errc::invalid, "bad_constraint", "\"" + c + "\" is not facet=value (e.g. experiment_id=historical)"), ctx.json);
    std::string facet = c.substr(0, eq), value = c.substr(eq + 1);
    // ESGF prints versions without the 'v'; accept both spellings.
    if (facet == "version" && !value.empty() && value[0] != 'v') value = "v" + value;
    q.constraints.emplace_back(facet, value);
  }
  if (o.facets == "all" || o.facets == "*") q.facet_fields = {"*"};
  else {
    std::size_t start = 0;
    while (start < o.facets.size()) {
      auto comma = o.facets.find(',', start);
      if (comma == std::string::npos) comma = o.facets.size();
      if (comma > start) q.facet_fields.push_back(o.facets.substr(start, comma - start));
      start = comma + 1;
    }
  }
  q.all_versions = o.all_versions;
  q.include_retracted = o.include_retracted;
  q.limit = o.limit;
  q.offset = o.offset;

  auto home = ctx.open_home();
  if (!home) return report_error(home.error(), ctx.json);
  auto catalog = home->open_catalog(true);
  if (!catalog) return report_error(catalog.error(), ctx.json);
  if (!q.facet_fields.empty() && q.facet_fields[0] != "*") {
    auto names = (*catalog)->facet_names();
    if (!names) return report_error(names.error(), ctx.json);
    for (const auto& f : q.facet_fields)
      if (std::find(names->begin(), names->end(), f) == names->end() && !names->empty())
        return report_error(make_error(Errc::invalid, "unknown_facet", "no facet \"" + f + "\" in this catalog; `--facets all` lists every facet"), ctx.json);
  }
  auto t0 = std::chrono::steady_clock::now();
  auto result = (*catalog)->search(q);
  auto qtime = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  if (!result) return report_error(result.error(), ctx.json);

  if (ctx.json) {
    nlohmann::json docs = nlohmann::json::array();
    for (const auto& d : result->docs) docs.push_back(esgf_doc(d));
    nlohmann::json fields = nlohmann::json::object();
    for (const auto& fc : result->facet_counts) {
      nlohmann::json flat = nlohmann::json::array();
      for (const auto& c : fc.counts) {
        flat.push_back(c.value);
        flat.push_back(c.count);
      }
      fields[fc.facet] = flat;
    }
    nlohmann::json fq = nlohmann::json::array({"type:Dataset"});
    for (const auto& [k, v] : q.constraints) fq.push_back(k + ":\"" + v + "\"");
    if (!q.all_versions) fq.push_back("latest:true");
    if (!q.include_retracted) fq.push_back("retracted:false");
    nlohmann::json j{
        {"responseHeader", {{"status", 0}, {"QTime", qtime}, {"params", {{"fq", fq}, {"start", std::to_string(q.offset)}, {"rows", std::to_string(q.limit)}, {"facet.sort", "lex"}, {"facet.mincount", "1"}, {"wt", "json"}}}}},
        {"response", {{"numFound", result->num_found}, {"start", q.offset}, {"maxScore", 1.0}, {"docs", docs}}},
        {"facet_counts", {{"facet_queries", nlohmann::json::object()}, {"facet_fields", fields}, {"facet_ranges", nlohmann::json::object()}, {"facet_intervals", nlohmann::json::object()}, {"facet_heatmaps", nlohmann::json::object()}}}};
    out << j.dump(2) << "\n";
    return exit_ok;
  }

  if (!result->docs.empty()) {
    Table t({"DATASET VERSION", "SIZE", "FILES", "DATA NODE", "STATUS"});
    for (const auto& d : result->docs) {
      std::string status = d.retracted ? "retracted" : d.latest ? "latest" : d.superseded ? "superseded" : "published";
      t.add({d.instance_id(), human_bytes(d.size), std::to_string(d.number_of_files), d.data_node, status});
    }
    t.print(out);
  }
  out << result->num_found << " dataset version" << (result->num_found == 1 ? "" : "s") << " found";
  if (result->num_found > result->docs.size())
    out << ", showing " << (result->docs.empty() ? 0 : q.offset + 1) << "–" << q.offset + result->docs.size()
        << " (use --limit/--offset)";
  out << (q.all_versions ? "" : "; latest versions only") << (q.include_retracted ? "" : "; retracted hidden") << "\n";
  for (const auto& fc : result->facet_counts) {
    out << "\n" << fc.facet << ":";
    std::string line;
    for (const auto& c : fc.counts) line += "  " + c.value + " (" + std::to_string(c.count) + ")";
    out << (line.empty() ? "  -" : line) << "\n";
  }
  return exit_ok;
}

void add_search_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<SearchOptions>();
  auto* cmd = app.add_subcommand("search", "search the local catalog (ESGF semantics: AND across facets, OR within one)");
  cmd->add_option("constraints", o->constraints, "facet=value pairs, e.g. experiment_id=historical variable_id=tas variable_id=pr");
  cmd->add_option("--facets", o->facets, "facet counts to show: f1,f2 or all");
  cmd->add_flag("--all-versions", o->all_versions, "include superseded versions");
  cmd->add_flag("--include-retracted", o->include_retracted, "include retracted versions");
  cmd->add_option("--limit", o->limit, "results per page")->capture_default_str();
  cmd->add_option("--offset", o->offset, "first result")->capture_default_str();
  cmd->callback([&ctx, o] { ctx.exit_code = run_search(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
