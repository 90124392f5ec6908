#include "fedswarm/protocol/ProjectTemplate.hpp"

#include <algorithm>
#include <stdexcept>

#include "BuiltinData.hpp"
#include "DrsModel.hpp"
#include "fedswarm/protocol/Limits.hpp"
#include "fedswarm/protocol/Version.hpp"

namespace fedswarm {

namespace drs {

std::string dq(std::string_view s) {
  constexpr std::size_t max_shown = 80;
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < max_shown; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (s.size() > max_shown) out += "...";
  return out + "\"";
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

}  // namespace drs

namespace {

using namespace drs;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string byte_name(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char hex[] = "0123456789abcdef";
  return std::string("byte 0x") + hex[u >> 4] + hex[u & 0xf];
}

Error drs_error(const char* reason, std::string message) {
  return make_error(Errc::invalid, reason, std::move(message));
}

// ---- checks on the hot path ----------------------------------------------------------

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// Error path only: near misses (case or up to two edits) first, else a few examples.
std::string suggest(const Vocabulary& v, std::string_view value) {
  std::vector<std::string_view> close;
  if (value.size() <= 64)
    for (const auto& t : v.sorted) {
      const std::size_t d = t.size() > value.size() ? t.size() - value.size() : value.size() - t.size();
      if (d <= 2 && edit_distance(value, t) <= 2) close.push_back(t);
      if (close.size() == 3) break;
    }
  std::string out;
  if (!close.empty()) {
    out = "; did you mean ";
    for (std::size_t i = 0; i < close.size(); ++i) out += (i ? " or " : "") + std::string(close[i]);
    return out + "?";
  }
  out = "; known terms include ";
  for (std::size_t i = 0; i < v.sorted.size() && i < 5; ++i) out += (i ? ", " : "") + v.sorted[i];
  if (v.sorted.size() > 5) out += ", ... (" + std::to_string(v.sorted.size()) + " in all)";
  return out;
}

Status check_rule(const Spec& s, const Rule& r, std::string_view value) {
  if (value.size() > r.max_length)
    return drs_error("drs_too_long", r.name + " " + dq(value) + " is " + std::to_string(value.size()) +
                                         " bytes; at most " + std::to_string(r.max_length) + " are allowed");
  if (!r.exclude.empty() && std::find(r.exclude.begin(), r.exclude.end(), value) != r.exclude.end())
    return drs_error("drs_bad_pattern", r.name + " " + dq(value) + " is not allowed in a " + s.name + " dataset id");
  switch (r.kind) {
    case Rule::Kind::value:
      if (value != r.value)
        return drs_error("drs_unknown_term",
                         r.name + " " + dq(value) + " must be \"" + r.value + "\" in a " + s.name + " dataset id");
      return {};
    case Rule::Kind::vocabulary:
      if (!r.vocab->terms.contains(value))
        return drs_error("drs_unknown_term", r.name + " " + dq(value) + " is not a " + s.name + " term (" +
                                                 r.vocab->source + ")" + suggest(*r.vocab, value));
      return {};
    case Rule::Kind::pattern:
      if (!r.pattern->match(value))
        return drs_error("drs_bad_pattern",
                         r.name + " " + dq(value) + " does not match the pattern " + r.pattern->source());
      return {};
  }
  return {};
}

Status parse_composite(const Spec& s, const Facet& f, std::string_view value, std::vector<DrsFacet>& out) {
  const std::size_t pieces = 1 + static_cast<std::size_t>(std::count(value.begin(), value.end(), f.separator));
  const std::size_t required = f.parts.size() - f.optional_parts;
  if (pieces != f.parts.size() && pieces != required)
    return drs_error("drs_bad_pattern", f.rule.name + " " + dq(value) + " is not of the form " + f.form);
  const std::size_t skipped = f.parts.size() - pieces;
  std::size_t pos = 0;
  for (std::size_t i = 0; i < f.parts.size(); ++i) {
    const Part& p = f.parts[i];
    if (i < skipped) {
      out[p.index].value = p.absent_value;
      continue;
    }
    const std::size_t end = std::min(value.find(f.separator, pos), value.size());
    const std::string_view piece = value.substr(pos, end - pos);
    pos = end + 1;
    if (piece.empty())
      return drs_error("drs_bad_pattern",
                       f.rule.name + " " + dq(value) + " has an empty " + p.rule.name + "; expected " + f.form);
    if (std::find(p.rule.exclude.begin(), p.rule.exclude.end(), piece) != p.rule.exclude.end())
      return drs_error("drs_bad_pattern", f.rule.name + " " + dq(value) + ": " + p.rule.name + " " + dq(piece) +
                                              " is written by leaving it out (" + f.form + ")");
    if (auto st = check_rule(s, p.rule, piece); !st)
      return make_error(Errc::invalid, st.error().reason, f.rule.name + " " + dq(value) + ": " + st.error().message);
    out[p.index].value = std::string(piece);
  }
  return {};
}

Status check_constraint(const Constraint& c, const std::vector<DrsFacet>& facets) {
  const DrsFacet& key = facets[c.key];
  const auto it = c.allowed.find(key.value);
  if (it == c.allowed.end()) return {};
  const DrsFacet& f = facets[c.facet];
  if (std::find(it->second.begin(), it->second.end(), f.value) != it->second.end()) return {};
  return drs_error("drs_constraint", f.name + " " + dq(f.value) + " does not go with " + key.name + " " +
                                         dq(key.value) + ": " + c.source + " lists " + c.member + " " +
                                         join(it->second, ", ") + " for it");
}

Status check_time_range(std::string_view tr, const std::string& clim_suffix) {
  if (!clim_suffix.empty() && tr.size() > clim_suffix.size() && tr.ends_with(clim_suffix))
    tr.remove_suffix(clim_suffix.size());
  const std::size_t dash = tr.find('-');
  if (dash == npos) return drs_error("filename_template", "time range " + dq(tr) + " is not of the form START-END");
  const std::string_view a = tr.substr(0, dash), b = tr.substr(dash + 1);
  const std::size_t n = a.size();
  if (n != b.size() || n < 4 || n > 14 || n % 2 != 0)
    return drs_error("filename_template",
                     "time range " + dq(tr) + " needs two ends of equal length YYYY[MM[DD[hh[mm[ss]]]]]");
  for (std::string_view e : {a, b}) {
    if (!std::all_of(e.begin(), e.end(), is_digit))
      return drs_error("filename_template", "time range " + dq(tr) + " has a non-digit in " + dq(e));
    // Month, day, hour, minute, second ranges; days stop at 31 because model calendars
    // (360-day, noleap) make a day-in-month check wrong.
    static constexpr int lo[] = {1, 1, 0, 0, 0}, hi[] = {12, 31, 23, 59, 59};
    for (std::size_t k = 0; 4 + 2 * k < n; ++k) {
      const int v = (e[4 + 2 * k] - '0') * 10 + (e[5 + 2 * k] - '0');
      if (v < lo[k] || v > hi[k])
        return drs_error("filename_template", "time range " + dq(tr) + " has an impossible date or time in " + dq(e));
    }
  }
  if (a > b) return drs_error("filename_template", "time range " + dq(tr) + " ends before it starts");
  return {};
}

}  // namespace

// ---- DatasetId -----------------------------------------------------------------------

std::string_view DatasetId::facet(std::string_view name) const {
  for (const auto& f : facets)
    if (f.name == name) return f.value;
  return {};
}

// ---- ProjectTemplate -----------------------------------------------------------------

struct ProjectTemplate::Impl {
  Spec s;
};

ProjectTemplate::ProjectTemplate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProjectTemplate::ProjectTemplate(ProjectTemplate&&) noexcept = default;
ProjectTemplate& ProjectTemplate::operator=(ProjectTemplate&&) noexcept = default;
ProjectTemplate::~ProjectTemplate() = default;

Result<ProjectTemplate> ProjectTemplate::from_json(std::string_view template_json, const VocabularyLoader& load) {
  auto spec = load_spec(template_json, load);
  if (!spec) return std::move(spec).error();
  auto impl = std::make_unique<Impl>();
  impl->s = std::move(*spec);
  return ProjectTemplate(std::move(impl));
}

const std::string& ProjectTemplate::name() const { return impl_->s.name; }
const std::string& ProjectTemplate::institution_facet() const { return impl_->s.institution_facet; }
const std::vector<std::string>& ProjectTemplate::id_facets() const { return impl_->s.id_facets; }
const std::vector<std::string>& ProjectTemplate::all_facets() const { return impl_->s.all_facets; }
std::size_t ProjectTemplate::version_directory_depth() const { return impl_->s.id_facets.size() + 1; }

Result<DatasetId> ProjectTemplate::parse_dataset_id(std::string_view id) const {
  const Spec& s = impl_->s;
  if (id.size() > limits::max_dataset_id_bytes)
    return drs_error("drs_too_long", "dataset id is " + std::to_string(id.size()) + " bytes; at most " +
                                         std::to_string(limits::max_dataset_id_bytes) + " are allowed");
  for (std::size_t i = 0; i < id.size(); ++i)
    if (!is_facet_char(id[i]) && id[i] != '.')
      return drs_error("drs_bad_character", "dataset id " + dq(id) + " has " + byte_name(id[i]) + " at offset " +
                                                std::to_string(i) +
                                                "; facets use only letters, digits and '-', joined by '.'");

  const std::size_t n = s.id_facets.size();
  const std::size_t components = 1 + static_cast<std::size_t>(std::count(id.begin(), id.end(), '.'));
  if (components != n)
    return drs_error("drs_facet_count", "dataset id " + dq(id) + " has " + std::to_string(components) +
                                            " components; a " + s.name + " id has " + std::to_string(n) + ": " +
                                            join(s.id_facets, "."));

  DatasetId out;
  out.project = s.name;
  out.id = std::string(id);
  out.facets.resize(s.all_facets.size());
  for (std::size_t i = 0; i < out.facets.size(); ++i) out.facets[i].name = s.all_facets[i];

  std::size_t pos = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t end = std::min(id.find('.', pos), id.size());
    const std::string_view value = id.substr(pos, end - pos);
    pos = end + 1;
    const Facet& f = s.facets[i];
    if (value.empty())
      return drs_error("drs_facet_count", "dataset id " + dq(id) + " has an empty " + f.rule.name + " (component " +
                                              std::to_string(i + 1) + ")");
    if (f.composite) {
      if (value.size() > f.rule.max_length)
        return drs_error("drs_too_long", f.rule.name + " " + dq(value) + " is longer than " +
                                             std::to_string(f.rule.max_length) + " bytes");
      FEDSWARM_TRY(parse_composite(s, f, value, out.facets));
    } else {
      FEDSWARM_TRY(check_rule(s, f.rule, value));
    }
    out.facets[i].value = std::string(value);
  }
  for (const Constraint& c : s.constraints) FEDSWARM_TRY(check_constraint(c, out.facets));
  return out;
}

Result<VersionDirectory> ProjectTemplate::parse_version_directory(std::span<const std::string> components) const {
  const Spec& s = impl_->s;
  if (components.size() != version_directory_depth())
    return drs_error("drs_facet_count", "a " + s.name + " version directory has " +
                                            std::to_string(version_directory_depth()) + " components (" +
                                            join(s.id_facets, "/") + "/<version>), not " +
                                            std::to_string(components.size()));
  std::string id;
  for (std::size_t i = 0; i + 1 < components.size(); ++i) {
    const std::string& c = components[i];
    // A '.' inside a component would shift every later facet once joined into an id.
    if (c.find('.') != std::string::npos)
      return drs_error("drs_bad_character", "directory component " + dq(c) + " (" + s.id_facets[i] + ") contains '.'");
    if (id.size() + c.size() > limits::max_dataset_id_bytes)
      return drs_error("drs_too_long", "version directory names a dataset id longer than " +
                                           std::to_string(limits::max_dataset_id_bytes) + " bytes");
    if (i) id += '.';
    id += c;
  }
  FEDSWARM_ASSIGN_OR_RETURN(DatasetId dataset, parse_dataset_id(id));
  FEDSWARM_TRY(validate_version(components.back()));
  return VersionDirectory{std::move(dataset), components.back()};
}

std::string ProjectTemplate::version_directory(const DatasetId& id, std::string_view version) const {
  std::string out;
  for (const std::string& f : impl_->s.id_facets) {
    out += id.facet(f);
    out += '/';
  }
  out += version;
  return out;
}

Status ProjectTemplate::validate_filename(const DatasetId& id, std::string_view file_name) const {
  const Spec& s = impl_->s;
  const FilenameSpec& fs = s.filename;
  const auto bad = [&](const std::string& why) {
    return drs_error("filename_template",
                     "file name " + dq(file_name) + " " + why + " (" + s.name + " file names are " + fs.text + ")");
  };
  if (id.project != s.name)
    return drs_error("filename_facet_mismatch", "dataset " + dq(id.id) + " is not a " + s.name + " dataset");
  if (file_name.size() > limits::max_path_component_bytes)
    return bad("is longer than " + std::to_string(limits::max_path_component_bytes) + " bytes");
  for (char c : file_name)
    if (!is_facet_char(c) && c != '_' && c != '.') return bad("contains " + byte_name(c));
  if (file_name.size() <= fs.extension.size() || !file_name.ends_with(fs.extension))
    return bad("does not end in " + fs.extension);
  std::string_view stem = file_name.substr(0, file_name.size() - fs.extension.size());

  const std::size_t pieces = 1 + static_cast<std::size_t>(std::count(stem.begin(), stem.end(), fs.separator));
  const bool has_range = pieces == fs.fields.size() + 1 && fs.time_range;
  if (pieces != fs.fields.size() && !has_range)
    return bad("has " + std::to_string(pieces) + " fields separated by '" + fs.separator + "'");
  std::size_t pos = 0;
  for (const FileField& ff : fs.fields) {
    const std::size_t end = std::min(stem.find(fs.separator, pos), stem.size());
    const std::string_view piece = stem.substr(pos, end - pos);
    pos = end + 1;
    if (ff.facet != npos) {
      const std::string_view want = id.facet(s.all_facets[ff.facet]);
      if (piece != want)
        return drs_error("filename_facet_mismatch", "file name " + dq(file_name) + " has " + ff.name + " " + dq(piece) +
                                                        " but dataset " + dq(id.id) + " has " + dq(want));
    } else if (piece.size() > ff.max_length || !ff.pattern->match(piece)) {
      return bad("has " + ff.name + " " + dq(piece) + ", which does not match " + ff.pattern->source());
    }
  }
  const bool must_be_absent =
      fs.absent_facet != npos && std::find(fs.absent_values.begin(), fs.absent_values.end(),
                                           id.facet(s.all_facets[fs.absent_facet])) != fs.absent_values.end();
  if (has_range) {
    if (must_be_absent)
      return bad("has a time range, but " + s.all_facets[fs.absent_facet] + " " +
                 dq(id.facet(s.all_facets[fs.absent_facet])) + " data has none");
    if (auto st = check_time_range(stem.substr(pos), fs.clim_suffix); !st)
      return drs_error("filename_template", "file name " + dq(file_name) + ": " + st.error().message);
  } else if (fs.time_range && fs.required_otherwise && !must_be_absent) {
    return bad("has no time range");
  }
  return {};
}

std::vector<std::string> ProjectTemplate::terms(std::string_view facet) const {
  const auto of = [](const Rule& r) -> std::vector<std::string> {
    if (r.kind == Rule::Kind::value) return {r.value};
    if (r.kind == Rule::Kind::vocabulary) return r.vocab->sorted;
    return {};
  };
  for (const Facet& f : impl_->s.facets) {
    if (!f.composite && f.rule.name == facet) return of(f.rule);
    for (const Part& p : f.parts)
      if (p.rule.name == facet) return of(p.rule);
  }
  return {};
}

// ---- ProjectRegistry -----------------------------------------------------------------

namespace {

// Built once; a failure here means the embedded template or CVs are broken, which is a
// build defect, so builtin() turns it into std::logic_error.
const Result<std::shared_ptr<const ProjectTemplate>>& builtin_cmip6() {
  static const Result<std::shared_ptr<const ProjectTemplate>> cmip6 =
      []() -> Result<std::shared_ptr<const ProjectTemplate>> {
    const auto loader = [](std::string_view name) -> Result<std::string> {
      const std::string_view data = builtin_data::embedded(name);
      if (data.empty())
        return make_error(Errc::not_found, "vocabulary_missing", "no built-in vocabulary named " + dq(name));
      return std::string(data);
    };
    const std::string_view text = builtin_data::embedded("CMIP6.json");
    if (text.empty()) return make_error(Errc::not_found, "template_missing", "CMIP6.json is not compiled in");
    auto t = ProjectTemplate::from_json(text, loader);
    if (!t) return std::move(t).error();
    return std::make_shared<const ProjectTemplate>(std::move(*t));
  }();
  return cmip6;
}

}  // namespace

const ProjectRegistry& ProjectRegistry::builtin() {
  static const ProjectRegistry registry = [] {
    const auto& t = builtin_cmip6();
    if (!t) throw std::logic_error("built-in CMIP6 project template does not load: " + t.error().message);
    ProjectRegistry r;
    r.add(t.value());
    return r;
  }();
  return registry;
}

Result<ProjectRegistry> ProjectRegistry::with_builtin() {
  const auto& t = builtin_cmip6();
  if (!t) return t.error();
  ProjectRegistry r;
  r.add(t.value());
  return r;
}

void ProjectRegistry::add(std::shared_ptr<const ProjectTemplate> t) {
  // Names match case-insensitively when routing ids, so they must be unique that way.
  for (auto& existing : templates_)
    if (iequals(existing->name(), t->name())) {
      existing = std::move(t);
      return;
    }
  templates_.push_back(std::move(t));
}

const ProjectTemplate* ProjectRegistry::find(std::string_view project) const {
  for (const auto& t : templates_)
    if (t->name() == project) return t.get();
  return nullptr;
}

std::vector<std::string> ProjectRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& t : templates_) out.push_back(t->name());
  std::sort(out.begin(), out.end());
  return out;
}

Result<DatasetId> ProjectRegistry::parse_dataset_id(std::string_view id) const {
  if (id.size() > limits::max_dataset_id_bytes)
    return drs_error("drs_too_long", "dataset id is " + std::to_string(id.size()) + " bytes; at most " +
                                         std::to_string(limits::max_dataset_id_bytes) + " are allowed");
  const std::string_view prefix = id.substr(0, id.find('.'));
  for (const auto& t : templates_)
    if (iequals(t->name(), prefix)) return t->parse_dataset_id(id);
  return drs_error("drs_unknown_project", "dataset id " + dq(id) + " starts with " + dq(prefix) +
                                              ", which names no known project (known: " + join(names(), ", ") + ")");
}

}  // namespace fedswarm
