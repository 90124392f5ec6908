#include "ManifestFactory.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "fedswarm/protocol/Bencode.hpp"

namespace fedswarm::test {

namespace {

nlohmann::json load_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error("cannot read controlled vocabulary " + p.string());
  return nlohmann::json::parse(in);
}

std::vector<std::string> keys_or_items(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& v : j) out.push_back(v.get<std::string>());
  else
    for (auto it = j.begin(); it != j.end(); ++it) out.push_back(it.key());
  return out;
}

template <class T>
const T& pick(const std::vector<T>& v, std::mt19937_64& rng) {
  return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
}

bool fixed_field_table(std::string_view table) {
  return table == "fx" || table == "Efx" || table == "Ofx" || table == "IfxAnt" || table == "IfxGre";
}

Sha256 random_digest(std::mt19937_64& rng) {
  Sha256 d;
  for (std::size_t i = 0; i < 32; i += 8) {
    std::uint64_t x = rng();
    std::memcpy(d.data() + i, &x, 8);
  }
  return d;
}

std::string random_uuid(std::mt19937_64& rng) {
  std::uint64_t a = rng(), b = rng();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>(a >> 16 & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | (b >> 48 & 0x3fff)), static_cast<unsigned long long>(b & 0xffffffffffffull));
  return buf;
}

}  // namespace

Cmip6Vocabulary Cmip6Vocabulary::load(const std::filesystem::path& cv_dir) {
  Cmip6Vocabulary cv;
  auto sources = load_json(cv_dir / "CMIP6_source_id.json").at("source_id");
  for (auto it = sources.begin(); it != sources.end(); ++it) {
    Source s{it.key(), {}};
    for (const auto& i : it.value().at("institution_id")) s.institutions.push_back(i.get<std::string>());
    if (!s.institutions.empty()) cv.sources.push_back(std::move(s));
  }
  auto experiments = load_json(cv_dir / "CMIP6_experiment_id.json").at("experiment_id");
  for (auto it = experiments.begin(); it != experiments.end(); ++it) {
    Experiment e{it.key(), {}, {}};
    for (const auto& a : it.value().at("activity_id")) e.activities.push_back(a.get<std::string>());
    for (const auto& s : it.value().at("sub_experiment_id")) e.sub_experiments.push_back(s.get<std::string>());
    if (e.sub_experiments.empty()) e.sub_experiments.push_back("none");
    if (!e.activities.empty()) cv.experiments.push_back(std::move(e));
  }
  cv.tables = keys_or_items(load_json(cv_dir / "CMIP6_table_id.json").at("table_id"));
  cv.grid_labels = keys_or_items(load_json(cv_dir / "CMIP6_grid_label.json").at("grid_label"));
  return cv;
}

const Cmip6Vocabulary::Source* Cmip6Vocabulary::source(std::string_view id) const {
  for (const auto& s : sources)
    if (s.id == id) return &s;
  return nullptr;
}

const Cmip6Vocabulary::Experiment* Cmip6Vocabulary::experiment(std::string_view id) const {
  for (const auto& e : experiments)
    if (e.id == id) return &e;
  return nullptr;
}

std::string DatasetSpec::member_id() const {
  return sub_experiment.empty() || sub_experiment == "none" ? variant : sub_experiment + "-" + variant;
}

std::string DatasetSpec::dataset_id() const {
  return "CMIP6." + activity + "." + institution + "." + source + "." + experiment + "." + member_id() + "." + table +
         "." + variable + "." + grid;
}

std::vector<Facet> DatasetSpec::drs_facets() const {
  return {
      {"mip_era", {"CMIP6"}},
      {"activity_id", {activity}},
      {"institution_id", {institution}},
      {"source_id", {source}},
      {"experiment_id", {experiment}},
      {"member_id", {member_id()}},
      {"table_id", {table}},
      {"variable_id", {variable}},
      {"grid_label", {grid}},
      {"sub_experiment_id", {sub_experiment.empty() ? std::string("none") : sub_experiment}},
      {"variant_label", {variant}},
  };
}

ManifestFactory::ManifestFactory(const std::filesystem::path& cv_dir) : cv_(Cmip6Vocabulary::load(cv_dir)) {}

DatasetSpec ManifestFactory::random_dataset(std::mt19937_64& rng) const {
  static const std::vector<std::string> variables = {"tas", "pr", "psl", "ua", "va", "ta", "hus", "zg", "tos", "sos",
                                                     "uas", "vas", "clt", "rsds", "rlds", "huss", "tasmax", "tasmin"};
  DatasetSpec s;
  const auto& src = pick(cv_.sources, rng);
  const auto& exp = pick(cv_.experiments, rng);
  s.source = src.id;
  s.institution = pick(src.institutions, rng);
  s.experiment = exp.id;
  s.activity = pick(exp.activities, rng);
  s.sub_experiment = pick(exp.sub_experiments, rng);
  s.variant = "r" + std::to_string(rng() % 10 + 1) + "i1p1f" + std::to_string(rng() % 3 + 1);
  s.table = pick(cv_.tables, rng);
  s.variable = pick(variables, rng);
  s.grid = pick(cv_.grid_labels, rng);
  return s;
}

Manifest ManifestFactory::make(const DatasetSpec& spec, const std::string& version, std::size_t files,
                               std::mt19937_64& rng, std::vector<Facet> extra, const std::string& supersedes) const {
  Manifest m;
  m.project = "CMIP6";
  m.dataset_id = spec.dataset_id();
  m.version = version;
  m.facets = spec.drs_facets();
  for (auto& f : extra) m.facets.push_back(std::move(f));
  m.supersedes = supersedes;
  m.published_at = 1'600'000'000 + static_cast<std::int64_t>(rng() % 100'000'000);
  if (fixed_field_table(spec.table)) files = 1;
  const std::string stem =
      spec.variable + "_" + spec.table + "_" + spec.source + "_" + spec.experiment + "_" + spec.member_id() + "_" + spec.grid;
  std::vector<Sha256> roots;
  for (std::size_t i = 0; i < files; ++i) {
    ManifestFile f;
    if (fixed_field_table(spec.table)) {
      f.path = stem + ".nc";
    } else {
      int y = 1850 + static_cast<int>(i) * 10;
      f.path = stem + "_" + std::to_string(y) + "01-" + std::to_string(y + 9) + "12.nc";
    }
    f.size = (1ull << 20) + rng() % (4ull << 30);
    f.sha256 = random_digest(rng);
    auto x = random_digest(rng);
    std::memcpy(f.xxh3.data(), x.data(), 16);
    f.tracking_id = "hdl:21.14100/" + random_uuid(rng);
    m.files.push_back(std::move(f));
    roots.push_back(random_digest(rng));
  }
  m.info_dict = info_dict_for(m, roots);
  return m;
}

std::string version_string(int day) {
  using namespace std::chrono;
  year_month_day d{sys_days{year{2015} / January / 1} + days{day}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "v%04d%02u%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                static_cast<unsigned>(d.day()));
  return buf;
}

Bytes info_dict_for(const Manifest& m, const std::vector<Sha256>& roots) {
  BValue::Dict tree;
  for (std::size_t i = 0; i < m.files.size(); ++i) {
    const auto& f = m.files[i];
    BValue::Dict leaf;
    leaf["length"] = BValue{static_cast<std::int64_t>(f.size)};
    if (f.size > 0) leaf["pieces root"] = BValue{std::string(as_chars(roots.at(i).view()))};
    BValue::Dict file;
    file[""] = BValue{std::move(leaf)};
    // Walk/create one nested dict per directory component.
    BValue::Dict* dir = &tree;
    std::string_view path = f.path;
    for (auto slash = path.find('/'); slash != std::string_view::npos; slash = path.find('/')) {
      BValue& sub = (*dir)[std::string(path.substr(0, slash))];
      if (!sub.is_dict()) sub = BValue{BValue::Dict{}};
      dir = &std::get<BValue::Dict>(sub.v);
      path.remove_prefix(slash + 1);
    }
    (*dir)[std::string(path)] = BValue{std::move(file)};
  }
  BValue::Dict info;
  info["file tree"] = BValue{std::move(tree)};
  info["meta version"] = BValue{std::int64_t{2}};
  info["name"] = BValue{m.version};
  info["piece length"] = BValue{std::int64_t{16384}};
  info["private"] = BValue{std::int64_t{1}};
  return bencode(BValue{std::move(info)});
}

Envelope FederationKeys::roster(std::uint64_t seq, const Roster& r) const {
  return Envelope::sign(authority, seq, RecordKind::roster, r.encode());
}

RosterMember member(const SigningKey& key, std::string site, Tier tier) {
  RosterMember m;
  m.key = key.public_key();
  m.site = std::move(site);
  m.tier = tier;
  m.endpoints = {"127.0.0.1:7000"};
  m.capacity = 1ull << 40;
  m.swarm_port = 7001;
  return m;
}

PublisherGrant grant(const SigningKey& key, std::vector<std::string> institutions) {
  PublisherGrant g;
  g.key = key.public_key();
  g.projects = {"CMIP6"};
  g.institutions = std::move(institutions);
  return g;
}

Roster make_roster(std::uint64_t serial, std::vector<RosterMember> members, std::vector<PublisherGrant> grants,
                   std::int64_t issued_at, std::int64_t expires_at) {
  Roster r;
  r.federation = "test-federation";
  r.serial = serial;
  r.issued_at = issued_at;
  r.expires_at = expires_at;
  r.members = std::move(members);
  r.grants = std::move(grants);
  return r;
}

}  // namespace fedswarm::test
