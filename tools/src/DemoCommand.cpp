#include <cstdlib>
#include <iostream>
#include <set>

#include "Commands.hpp"
#include "Output.hpp"
#include "fedswarm/engine/SampleTree.hpp"

namespace fedswarm::cli {

namespace {

// Runs one step of the walk-through: prints the equivalent command line, runs the
// command in-process, and checks its exit status.
class Walkthrough {
 public:
  Walkthrough(Context& ctx, std::ostream& out) : ctx_(ctx), out_(out) {}

  void section(const std::string& title) { out_ << "\n━━ " << ++step_ << ". " << title << "\n"; }

  template <class Fn>
  bool run(const std::string& shown, int expected, Fn&& fn) {
    out_ << "\n$ fedswarm " << shown << "\n";
    int rc = fn();
    if (rc != expected) {
      out_ << "demo: step failed: `fedswarm " << shown << "` exited " << rc << ", expected " << expected << "\n";
      ok_ = false;
    }
    return ok_;
  }
  bool ok() const { return ok_; }
  Context& ctx() { return ctx_; }
  std::ostream& out() { return out_; }

 private:
  Context& ctx_;
  std::ostream& out_;
  int step_ = 0;
  bool ok_ = true;
};

std::string make_temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/fedswarm-demo-XXXXXX";
  if (!mkdtemp(tmpl.data())) return {};
  return tmpl;
}

}  // namespace

int run_demo(Context& outer, const DemoOptions& o, std::ostream& out) {
  std::string dir = o.dir.empty() ? make_temp_dir() : o.dir;
  if (dir.empty()) return report_error(make_error(Errc::io, "io_error", "cannot create a temporary directory; set TMPDIR"), outer.json);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  Context ctx;
  ctx.home = dir + "/ipsl-node";
  Walkthrough w(ctx, out);
  const std::string home = "--home " + ctx.home + " ";
  const std::string auth = dir + "/authority";
  const std::string archive = dir + "/archive";

  out << "fedswarm demo — a local walk-through in " << dir << "\n"
      << "A federation authority admits a Tier-2 data node (site IPSL), which publishes a\n"
      << "CMIP6-like DRS tree as signed manifests, searches its catalog, retracts a version\n"
      << "and answers whether a file is still good.\n";

  w.section("Create the federation authority and the data node");
  FederationOptions f;
  f.dir = auth;
  f.name = "demo-federation";
  w.run("federation init --dir " + auth + " --name demo-federation", exit_ok, [&] { return run_federation_init(ctx, f, out); }) &&
      w.run("init " + home.substr(0, home.size() - 1) + " --site IPSL --tier 2", exit_ok, [&] {
        InitOptions i;
        i.site = "IPSL";
        i.tier = "2";
        return run_init(ctx, i, out);
      });

  std::vector<SampleVersion> sample;
  if (w.ok()) {
    w.section("Generate a CMIP6-like archive (netCDF files with tracking ids)");
    SampleSpec spec;
    spec.datasets = 4;
    spec.versions_per_dataset = 2;
    spec.files_per_version = 3;
    spec.file_size = 1 << 20;
    auto written = write_sample_tree(archive, o.seed ? o.seed : 20241120, spec);
    if (!written) {
      report_error(written.error(), false);
      return exit_failure;
    }
    sample = std::move(*written);
    std::uint64_t files = 0;
    for (const auto& v : sample) files += v.files.size();
    out << "wrote " << sample.size() << " dataset versions, " << files << " files under " << archive << "\n";
    for (const auto& v : sample) out << "  " << std::filesystem::relative(v.directory, archive).string() << "/\n";
  }

  if (w.ok()) {
    w.section("Admit the node: add it to the roster, grant its institutions, import the signed roster");
    std::set<std::string> institutions;
    for (const auto& v : sample) {
      auto first = v.dataset_id.find('.'), second = v.dataset_id.find('.', first + 1), third = v.dataset_id.find('.', second + 1);
      institutions.insert(v.dataset_id.substr(second + 1, third - second - 1));
    }
    f.node_home = ctx.home;
    f.projects = {"CMIP6"};
    f.institutions.assign(institutions.begin(), institutions.end());
    f.output = dir + "/roster.fsr";
    std::string inst_args;
    for (const auto& i : institutions) inst_args += " --institution " + i;
    w.run("federation add-node --dir " + auth + " --from-home " + ctx.home, exit_ok, [&] { return run_federation_add_node(ctx, f, out); }) &&
        w.run("federation grant --dir " + auth + " --from-home " + ctx.home + " --project CMIP6" + inst_args, exit_ok,
              [&] { return run_federation_grant(ctx, f, out); }) &&
        w.run("federation roster --dir " + auth + " -o " + f.output, exit_ok, [&] { return run_federation_roster(ctx, f, out); }) &&
        w.run(home + "federation import " + f.output, exit_ok, [&] {
          f.file = f.output;
          return run_federation_import(ctx, f, out);
        });
  }

  if (w.ok()) {
    w.section("Publish the archive: hash every file, build the v2 info dict, sign one manifest per version");
    w.run(home + "publish " + archive, exit_ok, [&] {
      PublishOptionsCli p;
      p.paths = {archive};
      return run_publish(ctx, p, out);
    });
  }

  if (w.ok()) {
    w.section("Search the local catalog with facet counts (latest versions only, as ESGF does)");
    w.run(home + "search --facets source_id,experiment_id,variable_id", exit_ok, [&] {
      SearchOptions s;
      s.facets = "source_id,experiment_id,variable_id";
      return run_search(ctx, s, out);
    }) && w.run(home + "search variable_id=tas variable_id=pr --all-versions", exit_ok, [&] {
      SearchOptions s;
      s.constraints = {"variable_id=tas", "variable_id=pr"};
      s.all_versions = true;
      return run_search(ctx, s, out);
    });
  }

  std::string retracted, superseded_file, retracted_file, current_file;
  if (w.ok() && sample.size() >= 4) {
    // The sample lists each dataset's versions oldest first.
    const SampleVersion& old_v = sample[0];
    const SampleVersion& new_v = sample[1];
    const SampleVersion& other = sample[3];
    retracted = new_v.instance_id();
    superseded_file = (old_v.directory / old_v.files.front()).string();
    retracted_file = (new_v.directory / new_v.files.front()).string();
    current_file = (other.directory / other.files.front()).string();

    w.section("Retract a version (signed by its publisher, with the errata id)");
    RetractOptions r;
    r.target = retracted;
    r.reason = "wrong calendar attribute in the time axis";
    r.errata = "2f6a7c4e-1d2b-4c3a-9e8f-0a1b2c3d4e5f";
    w.run(home + "retract " + retracted + " --reason \"" + r.reason + "\" --errata " + r.errata, exit_ok,
          [&] { return run_retract(ctx, r, out); }) &&
        w.run(home + "show " + retracted + " --no-files", exit_ok, [&] {
          ShowOptions s;
          s.target = retracted;
          s.files = false;
          return run_show(ctx, s, out);
        }) &&
        w.run(home + "search --facets variable_id", exit_ok, [&] {
          SearchOptions s;
          s.facets = "variable_id";
          return run_search(ctx, s, out);
        });
  }

  if (w.ok() && !retracted.empty()) {
    w.section("Ask about files: is my copy still good?");
    auto check = [&](const std::string& file, int expected) {
      return w.run(home + "check " + file, expected, [&] {
        CheckOptions c;
        c.targets = {file};
        return run_check(ctx, c, out);
      });
    };
    check(current_file, exit_ok) && check(superseded_file, exit_superseded) && check(retracted_file, exit_retracted);
  }

  out << "\n";
  if (!w.ok()) {
    out << "demo FAILED; its files are kept in " << dir << " for inspection\n";
    return exit_failure;
  }
  if (o.keep) {
    out << "demo finished. Everything is kept in " << dir << "; explore it with, e.g.:\n"
        << "  export FEDSWARM_HOME=" << ctx.home << "\n"
        << "  fedswarm search --facets all\n  fedswarm show " << retracted << "\n  fedswarm federation show\n";
  } else {
    std::filesystem::remove_all(dir, ec);
    out << "demo finished; removed " << dir << " (use --keep to explore it)\n";
  }
  return exit_ok;
}

void add_demo_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<DemoOptions>();
  auto* cmd = app.add_subcommand("demo", "walk through publish, search, retract and check on generated CMIP6-like data");
  cmd->add_flag("--keep", o->keep, "keep the demo files to explore afterwards");
  cmd->add_option("--dir", o->dir, "where to create the demo (default: a new temporary directory)");
  cmd->add_option("--seed", o->seed, "seed of the generated archive");
  cmd->callback([&ctx, o] { ctx.exit_code = run_demo(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
