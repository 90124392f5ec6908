// DRS layer: dataset ids, version directories and file names, driven by the project
// templates in protocol/projects/ against real ids from tests/fixtures.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "TestSupport.hpp"
#include "fedswarm/protocol/Limits.hpp"
#include "fedswarm/protocol/ProjectTemplate.hpp"
#include "fedswarm/protocol/Version.hpp"

using namespace fedswarm;
using json = nlohmann::json;

namespace {

// Set by CMake, not derived from __FILE__ (ccache's base_dir makes that relative).
const std::filesystem::path projects_dir = FEDSWARM_PROJECTS_DIR;

const ProjectTemplate& cmip6() {
  const ProjectTemplate* t = ProjectRegistry::builtin().find("CMIP6");
  REQUIRE(t != nullptr);
  return *t;
}

// Loads vocabularies from the fixture CVs, as a configured folder would.
Result<std::string> fixture_cv(std::string_view name) {
  const auto p = test::cv_dir() / std::string(name);
  if (!std::filesystem::exists(p)) return make_error(Errc::not_found, "no_such_cv", std::string(name));
  return test::read_file(p);
}

Result<std::string> no_cvs(std::string_view name) {
  return make_error(Errc::not_found, "no_such_cv", "test loader has no " + std::string(name));
}

std::string reason(std::string_view id) {
  auto r = ProjectRegistry::builtin().parse_dataset_id(id);
  return r ? std::string("ok") : r.error().reason;
}

struct Ref {
  std::string id, version, file;  // version "vYYYYMMDD" or empty; file name or empty
};

// "<9 facets>[.vYYYYMMDD][.<file name>]" as found in ESGF instance/master/dataset ids.
Ref split_esgf_id(std::string s) {
  if (auto bar = s.find('|'); bar != std::string::npos) s.resize(bar);
  Ref r;
  std::size_t pos = 0;
  for (int i = 0; i < 9; ++i) pos = s.find('.', pos) + 1;
  r.id = s.substr(0, pos ? pos - 1 : s.size());
  if (pos == 0) return r;
  std::string rest = s.substr(pos);
  if (rest.size() >= 9 && rest[0] == 'v' && validate_version(rest.substr(0, 9)).ok() &&
      (rest.size() == 9 || rest[9] == '.')) {
    r.version = rest.substr(0, 9);
    rest = rest.size() > 10 ? rest.substr(10) : "";
  }
  r.file = rest;
  return r;
}

std::vector<Ref> real_refs() {
  std::vector<Ref> refs;
  const auto fx = test::fixtures_dir();
  for (const auto& entry : std::filesystem::directory_iterator(fx / "esgf_search")) {
    const json doc = json::parse(test::read_file(entry.path()));
    if (!doc.contains("response")) continue;
    for (const json& d : doc["response"]["docs"])
      for (const char* key : {"instance_id", "master_id", "dataset_id"})
        if (d.contains(key)) refs.push_back(split_esgf_id(d[key].get<std::string>()));
  }
  const json errata = json::parse(test::read_file(fx / "errata" / "ipsl_versioning_errata.json"));
  for (const json& s : errata["issue"]["datasets"]) {
    const std::string v = s.get<std::string>();
    refs.push_back({v.substr(0, v.find('#')), "v" + v.substr(v.find('#') + 1), ""});
  }
  const json mapfile = json::parse(test::read_file(fx / "publisher" / "e3sm_mapfile_parsed.json"));
  for (const json& row : mapfile) {
    const std::string v = row[0].get<std::string>();
    refs.push_back({v.substr(0, v.find('#')), "v" + v.substr(v.find('#') + 1), ""});
  }
  return refs;
}

const std::string base = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr";

// The base id with component `i` replaced.
std::string with(std::size_t i, const std::string& value) {
  std::vector<std::string> parts;
  std::size_t pos = 0;
  for (std::size_t dot; (dot = base.find('.', pos)) != std::string::npos; pos = dot + 1)
    parts.push_back(base.substr(pos, dot - pos));
  parts.push_back(base.substr(pos));
  parts[i] = value;
  std::string out;
  for (std::size_t k = 0; k < parts.size(); ++k) out += (k ? "." : "") + parts[k];
  return out;
}

}  // namespace

TEST_CASE("every real dataset id in the fixtures parses, and its version validates") {
  const auto refs = real_refs();
  CHECK(refs.size() > 2747 + 7);
  std::size_t versions = 0;
  for (const Ref& r : refs) {
    CAPTURE(r.id);
    auto id = ProjectRegistry::builtin().parse_dataset_id(r.id);
    REQUIRE_MESSAGE(id.ok(), id.error().message);
    CHECK(id->project == "CMIP6");
    CHECK(id->id == r.id);
    CHECK(id->facets.size() == 11);
    if (!r.version.empty()) {
      CHECK(validate_version(r.version).ok());
      ++versions;
    }
    if (!r.file.empty()) CHECK(cmip6().validate_filename(*id, r.file).ok());
  }
  CHECK(versions > 2747);
}

TEST_CASE("a parsed CMIP6 id carries its facets, then the derived ones") {
  const auto& t = cmip6();
  CHECK(t.name() == "CMIP6");
  CHECK(t.institution_facet() == "institution_id");
  CHECK(t.id_facets() == std::vector<std::string>{"mip_era", "activity_id", "institution_id", "source_id",
                                                  "experiment_id", "member_id", "table_id", "variable_id",
                                                  "grid_label"});
  REQUIRE(t.all_facets().size() == 11);
  CHECK(t.all_facets()[9] == "sub_experiment_id");
  CHECK(t.all_facets()[10] == "variant_label");

  auto id = t.parse_dataset_id(base);
  REQUIRE(id.ok());
  CHECK(id->facet("institution_id") == "IPSL");
  CHECK(id->facet("member_id") == "r1i1p1f1");
  CHECK(id->facet("sub_experiment_id") == "none");
  CHECK(id->facet("variant_label") == "r1i1p1f1");
  CHECK(id->facet("no_such_facet").empty());
  for (std::size_t i = 0; i < id->facets.size(); ++i) CHECK(id->facets[i].name == t.all_facets()[i]);

  auto dcpp = t.parse_dataset_id("CMIP6.DCPP.MOHC.HadGEM3-GC31-MM.dcppA-hindcast.s1960-r1i1p1f2.Amon.tas.gn");
  REQUIRE_MESSAGE(dcpp.ok(), dcpp.error().message);
  CHECK(dcpp->facet("member_id") == "s1960-r1i1p1f2");
  CHECK(dcpp->facet("sub_experiment_id") == "s1960");
  CHECK(dcpp->facet("variant_label") == "r1i1p1f2");
}

TEST_CASE("the CV's own DRS examples parse") {
  const json drs = json::parse(test::read_file(test::cv_dir() / "CMIP6_DRS.json"))["DRS"];
  const std::pair<const char*, const char*> examples[] = {
      {"directory_path_example", "filename_example"},
      {"directory_path_sub_experiment_example", "filename_sub_experiment_example"}};
  for (const auto& [dir_key, file_key] : examples) {
    std::vector<std::string> parts;
    std::string dir = drs[dir_key].get<std::string>();
    for (std::size_t pos = 0, slash; (slash = dir.find('/', pos)) != std::string::npos; pos = slash + 1)
      parts.push_back(dir.substr(pos, slash - pos));
    auto vd = cmip6().parse_version_directory(parts);
    REQUIRE_MESSAGE(vd.ok(), vd.error().message);
    CHECK(cmip6().validate_filename(vd->dataset, drs[file_key].get<std::string>()).ok());
  }
}

TEST_CASE("unknown terms are rejected as drs_unknown_term, naming facet, value and CV") {
  auto r = ProjectRegistry::builtin().parse_dataset_id(with(2, "IPSLX"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::invalid);
  CHECK(r.error().reason == "drs_unknown_term");
  CHECK(r.error().message.find("institution_id \"IPSLX\"") != std::string::npos);
  CHECK(r.error().message.find("CMIP6_institution_id.json") != std::string::npos);
  CHECK(r.error().message.find("IPSL") != std::string::npos);

  const std::pair<std::size_t, const char*> cases[] = {
      {1, "CMIPX"},     {2, "IPSLX"},      {2, "ipsl"},           {3, "IPSL-CM6A-LRX"},
      {4, "historcal"}, {4, "Historical"}, {6, "Amonn"},          {6, "fX"},
      {8, "gx"},        {8, "GR"},         {5, "s1800-r1i1p1f1"}, {5, "s19600-r1i1p1f1"}};
  for (const auto& c : cases) {
    const std::string id = with(c.first, c.second);
    CAPTURE(id);
    CHECK(reason(id) == "drs_unknown_term");
  }
  // Through the template directly (the registry would route "CMIP5" elsewhere).
  CHECK(cmip6().parse_dataset_id(with(0, "CMIP5")).error().reason == "drs_unknown_term");
  auto near = cmip6().parse_dataset_id(with(4, "historcal"));
  REQUIRE_FALSE(near.ok());
  CHECK(near.error().message.find("did you mean historical") != std::string::npos);
  // Lower-case project prefix routes to CMIP6, whose mip_era is exactly "CMIP6".
  CHECK(reason("cmip6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr") == "drs_unknown_term");
}

TEST_CASE("wrong facet counts and empty components are drs_facet_count") {
  for (const std::string& id : {std::string("CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas"), base + ".gr",
                                base + ".", std::string("CMIP6"), std::string("CMIP6."), with(2, ""), with(8, ""),
                                with(3, "IPSL.IPSL-CM6A-LR"), std::string("CMIP6........")}) {
    CAPTURE(id);
    CHECK(reason(id) == "drs_facet_count");
  }
}

TEST_CASE("bad member ids and variables are drs_bad_pattern") {
  for (const char* m : {"r0i1p1f1", "r1i0p1f1", "r01i1p1f1", "r1i1p1", "r1i1p1f", "x1i1p1f1", "r1i1p1f1x", "rai1p1f1",
                        "R1i1p1f1", "none-r1i1p1f1", "-r1i1p1f1", "s1960-", "s1960-s1961-r1i1p1f1", "s1960r1i1p1f1"}) {
    CAPTURE(m);
    CHECK(reason(with(5, m)) == "drs_bad_pattern");
  }
  for (const char* v : {"1tas", "ta-s", "-tas"}) {
    CAPTURE(v);
    CHECK(reason(with(7, v)) == "drs_bad_pattern");
  }
  CHECK(reason(with(5, "r10i2p3f44")) == "ok");
}

TEST_CASE("bad characters and oversize ids are refused before anything else") {
  for (const std::string& v : {std::string("ta_s"), std::string("ta s"), std::string("ta/s"), std::string("t\xc3\xa9"),
                               std::string("ta\0s", 4), std::string("tas\n"), std::string("ta*")}) {
    CAPTURE(v);
    CHECK(reason(with(7, v)) == "drs_bad_character");
  }
  CHECK(reason(with(7, std::string(65, 'a'))) == "drs_too_long");
  CHECK(reason(with(7, std::string(64, 'a'))) == "ok");
  CHECK(reason(with(3, std::string(300, 'A'))) == "drs_too_long");
  CHECK(reason(base + std::string(limits::max_dataset_id_bytes, 'x')) == "drs_too_long");
  CHECK(reason(std::string(10'000'000, '.')) == "drs_too_long");
  auto r = ProjectRegistry::builtin().parse_dataset_id(with(7, std::string("ta\x1b[2Js", 7)));
  REQUIRE_FALSE(r.ok());
  for (char c : r.error().message) CHECK((c >= 0x20 && c < 0x7f));
}

TEST_CASE("cross-facet constraints from the CVs are drs_constraint") {
  // source_id IPSL-CM6A-LR belongs to IPSL, not NCAR.
  auto r = ProjectRegistry::builtin().parse_dataset_id(with(2, "NCAR"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().reason == "drs_constraint");
  CHECK(r.error().message.find("CMIP6_source_id.json") != std::string::npos);
  // historical is a CMIP experiment, not a ScenarioMIP one.
  CHECK(reason(with(1, "ScenarioMIP")) == "drs_constraint");
  // historical has no sub-experiments; dcppA-hindcast needs one.
  CHECK(reason(with(5, "s1960-r1i1p1f1")) == "drs_constraint");
  CHECK(reason("CMIP6.DCPP.MOHC.HadGEM3-GC31-MM.dcppA-hindcast.r1i1p1f2.Amon.tas.gn") == "drs_constraint");
  // ssp370 belongs to two activities; either is accepted.
  CHECK(reason("CMIP6.ScenarioMIP.IPSL.IPSL-CM6A-LR.ssp370.r1i1p1f1.Amon.tas.gr") == "ok");
  CHECK(reason("CMIP6.AerChemMIP.IPSL.IPSL-CM6A-LR.ssp370.r1i1p1f1.Amon.tas.gr") == "ok");
  CHECK(reason("CMIP6.CDRMIP.IPSL.IPSL-CM6A-LR.ssp370.r1i1p1f1.Amon.tas.gr") == "drs_constraint");
}

TEST_CASE("ids of unknown projects are drs_unknown_project") {
  for (const std::string& id : {std::string("CMIP5.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr"),
                                std::string("CMIP7.x"), std::string(""), std::string(".CMIP6"),
                                std::string("cmip5.output1.MOHC.HadGEM2-ES.historical.mon.atmos.Amon.r1i1p1")}) {
    CAPTURE(id);
    CHECK(reason(id) == "drs_unknown_project");
  }
  CHECK(ProjectRegistry::builtin().names() == std::vector<std::string>{"CMIP6"});
  CHECK(ProjectRegistry::builtin().find("CMIP5") == nullptr);
}

TEST_CASE("version directories round-trip") {
  const auto& t = cmip6();
  CHECK(t.version_directory_depth() == 10);
  for (const Ref& r : real_refs()) {
    if (r.version.empty()) continue;
    auto id = t.parse_dataset_id(r.id);
    REQUIRE(id.ok());
    const std::string dir = t.version_directory(*id, r.version);
    std::vector<std::string> parts;
    std::size_t pos = 0;
    for (std::size_t slash; (slash = dir.find('/', pos)) != std::string::npos; pos = slash + 1)
      parts.push_back(dir.substr(pos, slash - pos));
    parts.push_back(dir.substr(pos));
    REQUIRE(parts.size() == 10);
    auto vd = t.parse_version_directory(parts);
    REQUIRE_MESSAGE(vd.ok(), vd.error().message);
    CHECK(vd->dataset.id == r.id);
    CHECK(vd->version == r.version);
    CHECK(vd->dataset.facets == id->facets);
  }
  std::vector<std::string> parts = {"CMIP6",    "CMIP", "IPSL", "IPSL-CM6A-LR", "historical",
                                    "r1i1p1f1", "Amon", "tas",  "gr",           "v20180803"};
  CHECK(t.parse_version_directory(parts).ok());
  parts[9] = "v20180230";
  CHECK(t.parse_version_directory(parts).error().reason == "version_date");
  parts[9] = "latest";
  CHECK(t.parse_version_directory(parts).error().reason == "version_format");
  parts[9] = "v20180803";
  parts[2] = "IPSL.X";
  CHECK(t.parse_version_directory(parts).error().reason == "drs_bad_character");
  parts[2] = "IPSLX";
  CHECK(t.parse_version_directory(parts).error().reason == "drs_unknown_term");
  parts.pop_back();
  CHECK(t.parse_version_directory(parts).error().reason == "drs_facet_count");
}

TEST_CASE("file names follow the template and the dataset's facets") {
  const auto& t = cmip6();
  for (const char* f : {"cmip6_one_file.json", "ceda_replica_file.json"}) {
    const json doc = json::parse(test::read_file(test::fixtures_dir() / "esgf_search" / f));
    for (const json& d : doc["response"]["docs"]) {
      auto id = t.parse_dataset_id(split_esgf_id(d["dataset_id"].get<std::string>()).id);
      REQUIRE(id.ok());
      const std::string title = d["title"].get<std::string>();
      CAPTURE(title);
      CHECK(t.validate_filename(*id, title).ok());
    }
  }
  auto id = t.parse_dataset_id(base);
  REQUIRE(id.ok());
  const auto check = [&](const std::string& name, const char* want) {
    CAPTURE(name);
    auto st = t.validate_filename(*id, name);
    CHECK((st ? std::string("ok") : st.error().reason) == want);
  };
  const std::string stem = "tas_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr";
  check(stem + "_185001-201412.nc", "ok");
  check(stem + "_1850-2014.nc", "ok");
  check(stem + "_18500101-20141231.nc", "ok");
  check(stem + "_185001010000-201412311800.nc", "ok");
  check(stem + "_18500101000000-20141231235959.nc", "ok");
  check(stem + "_185001-201412-clim.nc", "ok");
  check("pr_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_185001-201412.nc", "filename_facet_mismatch");
  check("tas_Omon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_185001-201412.nc", "filename_facet_mismatch");
  check("tas_Amon_CESM2_historical_r1i1p1f1_gr_185001-201412.nc", "filename_facet_mismatch");
  check("tas_Amon_IPSL-CM6A-LR_historical_r2i1p1f1_gr_185001-201412.nc", "filename_facet_mismatch");
  check("tas_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gn_185001-201412.nc", "filename_facet_mismatch");
  for (const char* bad : {"_185001-20141.nc", "_185013-201412.nc", "_201412-185001.nc", "_185001201412.nc",
                          "_18500-20141.nc", "_185001-201412-clim-clim.nc", "_1850x1-201412.nc",
                          "_18500132-20141231.nc", "_185001012400-201412311800.nc", "_-.nc", "_185001-201412-.nc"})
    check(stem + bad, "filename_template");
  check(stem + ".nc", "filename_template");  // Amon data has a time range
  check(stem + "_185001-201412.nc4", "filename_template");
  check(stem + "_185001-201412", "filename_template");
  check(stem + "_185001-201412_x.nc", "filename_template");
  check(stem + "_185001-201412.nc/x", "filename_template");
  check("tas_Amon_IPSL-CM6A-LR_historical_r1i1p1f1.nc", "filename_template");
  check(".nc", "filename_template");
  check("", "filename_template");
  check(std::string(300, 'a') + ".nc", "filename_template");

  auto fx = t.parse_dataset_id("CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.fx.areacella.gr");
  REQUIRE(fx.ok());
  CHECK(t.validate_filename(*fx, "areacella_fx_IPSL-CM6A-LR_historical_r1i1p1f1_gr.nc").ok());
  CHECK(t.validate_filename(*fx, "areacella_fx_IPSL-CM6A-LR_historical_r1i1p1f1_gr_1850-2014.nc").error().reason ==
        "filename_template");
}

TEST_CASE("terms lists vocabulary facets sorted, and nothing for pattern facets") {
  const auto& t = cmip6();
  const auto inst = t.terms("institution_id");
  CHECK(inst.size() == 49);
  CHECK(std::is_sorted(inst.begin(), inst.end()));
  CHECK(std::find(inst.begin(), inst.end(), "IPSL") != inst.end());
  CHECK(t.terms("source_id").size() == 132);
  CHECK(t.terms("experiment_id").size() == 322);
  CHECK(t.terms("activity_id").size() == 24);
  CHECK(t.terms("table_id").size() == 43);
  CHECK(t.terms("mip_era") == std::vector<std::string>{"CMIP6"});
  const auto sub = t.terms("sub_experiment_id");
  CHECK(std::find(sub.begin(), sub.end(), "s1960") != sub.end());
  CHECK(t.terms("variable_id").empty());
  CHECK(t.terms("variant_label").empty());
  CHECK(t.terms("member_id").empty());
  CHECK(t.terms("nope").empty());
}

TEST_CASE("CMIP5 is added purely by template data, and a registry routes ids by prefix") {
  auto loaded = ProjectTemplate::from_json(test::read_file(projects_dir / "CMIP5.json"), no_cvs);
  REQUIRE_MESSAGE(loaded.ok(), loaded.error().message);
  auto cmip5 = std::make_shared<const ProjectTemplate>(std::move(*loaded));
  CHECK(cmip5->name() == "CMIP5");
  CHECK(cmip5->institution_facet() == "institute");
  CHECK(cmip5->version_directory_depth() == 10);

  const std::string id5 = "cmip5.output1.MOHC.HadGEM2-ES.historical.mon.atmos.Amon.r1i1p1";
  auto id = cmip5->parse_dataset_id(id5);
  REQUIRE_MESSAGE(id.ok(), id.error().message);
  CHECK(id->facet("institute") == "MOHC");
  CHECK(id->facet("ensemble") == "r1i1p1");
  CHECK(cmip5->version_directory(*id, "v20120928") ==
        "cmip5/output1/MOHC/HadGEM2-ES/historical/mon/atmos/Amon/r1i1p1/v20120928");
  CHECK(cmip5->validate_filename(*id, "tas_Amon_HadGEM2-ES_historical_r1i1p1_185912-188411.nc").ok());
  CHECK(cmip5->validate_filename(*id, "tas_Amon_HadGEM2-ES_rcp45_r1i1p1_185912-188411.nc").error().reason ==
        "filename_facet_mismatch");
  CHECK(cmip5->validate_filename(*id, "2tas_Amon_HadGEM2-ES_historical_r1i1p1_185912-188411.nc").error().reason ==
        "filename_template");
  auto fx = cmip5->parse_dataset_id("cmip5.output1.MOHC.HadGEM2-ES.historical.fx.atmos.fx.r0i0p0");
  REQUIRE(fx.ok());
  CHECK(cmip5->validate_filename(*fx, "orog_fx_HadGEM2-ES_historical_r0i0p0.nc").ok());
  CHECK(cmip5->parse_dataset_id("cmip5.output3.MOHC.HadGEM2-ES.historical.mon.atmos.Amon.r1i1p1").error().reason ==
        "drs_unknown_term");
  CHECK(cmip5->parse_dataset_id("cmip5.output1.MOHC.HadGEM2-ES.historical.mon.atmos.Amon.r1i1").error().reason ==
        "drs_bad_pattern");
  CHECK(cmip5->terms("realm").size() == 8);

  ProjectRegistry both = ProjectRegistry::builtin();  // copies share the built-in template
  both.add(cmip5);
  CHECK(both.names() == std::vector<std::string>{"CMIP5", "CMIP6"});
  auto routed5 = both.parse_dataset_id(id5);
  REQUIRE(routed5.ok());
  CHECK(routed5->project == "CMIP5");
  auto routed6 = both.parse_dataset_id(base);
  REQUIRE(routed6.ok());
  CHECK(routed6->project == "CMIP6");
  // Routing is case-insensitive; the project facet itself is then checked exactly.
  CHECK(both.parse_dataset_id("CMIP5.output1.MOHC.HadGEM2-ES.historical.mon.atmos.Amon.r1i1p1").error().reason ==
        "drs_unknown_term");
  CHECK(both.parse_dataset_id("CMIP7.x").error().reason == "drs_unknown_project");
  CHECK(ProjectRegistry::builtin().names() == std::vector<std::string>{"CMIP6"});

  auto configured = ProjectRegistry::with_builtin();
  REQUIRE(configured.ok());
  configured->add(cmip5);
  configured->add(cmip5);  // same name replaces
  CHECK(configured->names().size() == 2);
}

TEST_CASE("a configured CMIP6 template over CV files behaves like the built-in one") {
  const std::string text = test::read_file(projects_dir / "CMIP6.json");
  auto t = ProjectTemplate::from_json(text, fixture_cv);
  REQUIRE_MESSAGE(t.ok(), t.error().message);
  for (const Ref& r : real_refs()) CHECK(t->parse_dataset_id(r.id).ok());

  // Patterns written differently take the std::regex path; results must agree with the
  // hand-written matchers for the built-in spelling.
  std::string re_text = text;
  const auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = re_text.find(from);
    REQUIRE(at != std::string::npos);
    re_text.replace(at, from.size(), to);
  };
  replace("r[1-9][0-9]*i[1-9][0-9]*p[1-9][0-9]*f[1-9][0-9]*", "r[1-9]\\\\d*i[1-9]\\\\d*p[1-9]\\\\d*f[1-9]\\\\d*");
  replace("\"[A-Za-z][A-Za-z0-9]*\"", "\"[A-Za-z][A-Za-z0-9]{0,}\"");
  auto slow = ProjectTemplate::from_json(re_text, fixture_cv);
  REQUIRE_MESSAGE(slow.ok(), slow.error().message);
  for (const char* m : {"r1i1p1f1", "r10i2p3f44", "r0i1p1f1", "r01i1p1f1", "r1i1p1", "r1i1p1f1x", "x1i1p1f1", "r1i1p1f",
                        "ri1p1f1", "r9999999i1p1f1"})
    for (const char* v : {"tas", "t", "tas2", "2tas", "Tas", "ta-s"}) {
      const std::string id = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical." + std::string(m) + ".Amon." + v + ".gr";
      CAPTURE(id);
      auto a = t->parse_dataset_id(id);
      auto b = slow->parse_dataset_id(id);
      REQUIRE(a.ok() == b.ok());
      if (!a.ok()) CHECK(a.error().reason == b.error().reason);
    }
}

TEST_CASE("broken templates are refused as values") {
  const std::string good = test::read_file(projects_dir / "CMIP6.json");
  const auto load = [&](const std::string& text) {
    auto r = ProjectTemplate::from_json(text, fixture_cv);
    return r ? std::string("ok") : r.error().reason;
  };
  CHECK(load(good) == "ok");
  CHECK(load("") == "template_invalid");
  CHECK(load("[1,2]") == "template_invalid");
  CHECK(load("{\"name\": \"X\"}") == "template_invalid");
  const auto mutated = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return load(s.replace(at, from.size(), to));
  };
  CHECK(mutated("\"constraints\"", "\"constrains\"") == "template_invalid");
  CHECK(mutated("<grid_label>/<version>", "<version>/<grid_label>") == "template_invalid");
  CHECK(mutated("[A-Za-z][A-Za-z0-9]*", "[A-Za-z") == "template_invalid");
  CHECK(mutated("CMIP6_source_id.json\"", "CMIP6_nope.json\"") == "no_such_cv");
  CHECK(mutated("\"listed_in\": \"source_id\"", "\"listed_in\": \"variable_id\"") == "template_invalid");
  CHECK(mutated("\"optional\": true", "\"optional\": false") == "ok");
  CHECK(mutated("<grid_label>[_<time_range>].nc", "<grid_label>[_<time_range>]") == "template_invalid");
  CHECK(mutated("<grid_label>[_<time_range>].nc", "<grid_label>_<nope>.nc") == "template_invalid");
  CHECK(mutated("\"member\": \"table_id\"", "\"member\": \"tables\"") == "template_invalid");
}
