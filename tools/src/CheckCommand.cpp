#include <iostream>
#include <nlohmann/json.hpp>

#include "Commands.hpp"
#include "Output.hpp"
#include "fedswarm/policy/VersionVerdict.hpp"
#include "fedswarm/storage/FileHasher.hpp"
#include "fedswarm/storage/NetcdfReader.hpp"

namespace fedswarm::cli {

namespace {

struct Located {
  std::string instance_id;
  std::string file;     // path inside the version, if known
  std::string how;      // "tracking_id", "DRS path", "sha256", "dataset id"
};

// The DRS identity of a file from the directories above it, for any configured project.
std::optional<Located> locate_by_path(const NodeHome& home, const std::filesystem::path& file) {
  std::vector<std::string> parts;
  for (const auto& p : std::filesystem::absolute(file).parent_path()) parts.push_back(p.string());
  for (const auto& name : home.projects().names()) {
    const ProjectTemplate* t = home.projects().find(name);
    std::size_t depth = t->version_directory_depth();
    if (parts.size() < depth) continue;
    std::vector<std::string> tail(parts.end() - static_cast<std::ptrdiff_t>(depth), parts.end());
    auto dir = t->parse_version_directory(tail);
    if (dir) return Located{dir->dataset.id + "." + dir->version, file.filename().string(), "DRS path"};
  }
  return std::nullopt;
}

// An unchanged file is carried by every version that kept it (same tracking id, same
// bytes): the copy's own DRS directory names the version it belongs to; otherwise the
// newest version holding the file is the one whose state matters to its user.
std::optional<Located> pick(const std::vector<FileRef>& refs, const std::optional<Located>& by_path, std::string how) {
  if (refs.empty()) return std::nullopt;
  if (by_path)
    for (const auto& r : refs)
      if (r.instance_id == by_path->instance_id) return Located{r.instance_id, r.path, how};
  const FileRef* newest = &refs.front();
  auto newer = [](std::string_view a, std::string_view b) { return a.size() != b.size() ? a.size() > b.size() : a > b; };
  for (const auto& r : refs)
    if (newer(split_instance_id(r.instance_id).second, split_instance_id(newest->instance_id).second)) newest = &r;
  return Located{newest->instance_id, newest->path, how};
}

Result<std::optional<Located>> locate(const NodeHome& home, const Catalog& cat, const std::string& target) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(target, ec)) {
    auto by_path = locate_by_path(home, target);
    if (auto attrs = read_netcdf_attributes(target); attrs && !attrs->tracking_id.empty()) {
      auto refs = cat.find_tracking_id(attrs->tracking_id);
      if (!refs) return std::move(refs).error();
      if (auto hit = pick(*refs, by_path, "tracking_id " + attrs->tracking_id)) return hit;
    }
    if (by_path) {
      auto v = cat.version(by_path->instance_id);
      if (!v) return std::move(v).error();
      if (*v) return by_path;
    }
    FileHasher hasher;
    auto digest = hasher.hash(target, 16384);
    if (!digest) return std::move(digest).error();
    auto refs = cat.find_sha256(digest->sha256);
    if (!refs) return std::move(refs).error();
    return pick(*refs, by_path, "sha256");
  }
  auto refs = cat.find_tracking_id(target);
  if (!refs) return std::move(refs).error();
  if (auto hit = pick(*refs, std::nullopt, "tracking_id")) return hit;
  auto [dataset, version] = split_instance_id(target);
  if (!version.empty()) return std::optional<Located>(Located{target, "", "dataset id"});
  if (target.rfind("hdl:", 0) != 0 && target.find('/') != std::string::npos)
    return make_error(Errc::not_found, "no_such_file", target + " is not a file, a tracking id or a DATASET.vVERSION");
  return std::optional<Located>();
}

int exit_for(Verdict v) {
  switch (v) {
    case Verdict::current: return exit_ok;
    case Verdict::superseded: return exit_superseded;
    case Verdict::retracted: return exit_retracted;
    case Verdict::unknown: return exit_not_found;
  }
  return exit_failure;
}

// Retracted beats superseded beats unknown beats current when several targets are checked.
int severity(int code) {
  switch (code) {
    case exit_retracted: return 4;
    case exit_superseded: return 3;
    case exit_ok: return 0;
    default: return 2;
  }
}

}  // namespace

int run_check(Context& ctx, const CheckOptions& o, std::ostream& out) {
  auto home = ctx.open_home();
  if (!home) return report_error(home.error(), ctx.json);
  auto catalog = home->open_catalog(true);
  if (!catalog) return report_error(catalog.error(), ctx.json);
  auto& cat = **catalog;
  int worst = exit_ok;
  nlohmann::json results = nlohmann::json::array();
  for (const auto& target : o.targets) {
    auto where = locate(*home, cat, target);
    if (!where) return report_error(where.error(), ctx.json);
    VersionVerdict verdict;
    std::string file, how;
    if (!*where) {
      verdict.verdict = Verdict::unknown;
      verdict.summary = "no published dataset version in this catalog holds it";
    } else {
      file = (*where)->file;
      how = (*where)->how;
      auto v = cat.version((*where)->instance_id);
      if (!v) return report_error(v.error(), ctx.json);
      auto [dataset, version] = split_instance_id((*where)->instance_id);
      auto all = cat.versions_of(dataset);
      if (!all) return report_error(all.error(), ctx.json);
      verdict = decide_verdict((*where)->instance_id, *v, *all);
    }
    int code = exit_for(verdict.verdict);
    if (severity(code) > severity(worst)) worst = code;
    if (ctx.json) {
      nlohmann::json j{{"target", target}, {"verdict", std::string(to_string(verdict.verdict))},
                       {"instance_id", verdict.instance_id}, {"file", file}, {"found_by", how},
                       {"superseded_by", verdict.superseded_by}, {"latest_version", verdict.latest_version},
                       {"summary", verdict.summary}};
      if (verdict.retraction)
        j["retraction"] = {{"reason", verdict.retraction->reason}, {"errata_id", verdict.retraction->errata_id},
                           {"retracted_at", verdict.retraction->retracted_at}};
      results.push_back(j);
    } else {
      out << target << "\n  " << to_string(verdict.verdict);
      if (!verdict.instance_id.empty()) out << "  " << verdict.instance_id;
      out << "\n  " << verdict.summary << "\n";
      if (!how.empty()) out << "  (found by " << how << ")\n";
    }
  }
  if (ctx.json) out << nlohmann::json{{"results", results}}.dump(2) << "\n";
  return worst;
}

void add_check_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<CheckOptions>();
  auto* cmd = app.add_subcommand("check", "is this file's dataset version current, superseded or retracted?");
  cmd->add_option("targets", o->targets, "files, tracking ids (hdl:21.14100/…) or DATASET.vVERSION")->required();
  cmd->footer("Exit status: 0 current, 10 superseded, 11 retracted, 3 unknown (the worst over all targets).");
  cmd->callback([&ctx, o] { ctx.exit_code = run_check(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
