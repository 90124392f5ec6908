#include "fedswarm/engine/ErrataIssue.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_set>

#include "fedswarm/protocol/Limits.hpp"
#include "fedswarm/protocol/PathRules.hpp"

namespace fedswarm {

namespace {

Error malformed(std::string message) { return make_error(Errc::invalid, "errata_malformed", std::move(message)); }

bool dataset_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

Result<std::string> text_field(const nlohmann::json& issue, const char* name, std::size_t max_bytes, bool required) {
  auto it = issue.find(name);
  if (it == issue.end() || it->is_null()) {
    if (required) return malformed(std::string("no \"") + name + "\" field in the issue");
    return std::string();
  }
  if (!it->is_string()) return malformed(std::string("\"") + name + "\" is a " + it->type_name() + ", not a string");
  std::string value = it->get<std::string>();
  if (required && value.empty()) return malformed(std::string("\"") + name + "\" is empty");
  // The uid and title go into signed records: the catalog's limits apply here already,
  // so a bad file is refused before anything is signed.
  if (auto st = validate_text(value, max_bytes, name); !st)
    return malformed(std::string("\"") + name + "\": " + st.error().message);
  return value;
}

}  // namespace

Result<ErrataDataset> parse_errata_dataset(std::string_view listed) {
  auto hash = listed.find('#');
  if (hash == std::string_view::npos || hash == 0)
    return malformed("expected DATASET_ID#YYYYMMDD");
  std::string_view id = listed.substr(0, hash), version = listed.substr(hash + 1);
  if (id.size() > limits::max_dataset_id_bytes) return malformed("the dataset id is too long");
  for (char c : id)
    if (!dataset_id_char(c)) return malformed("the dataset id holds a character other than letters, digits, '.', '-', '_'");
  if (id.front() == '.' || id.back() == '.') return malformed("the dataset id starts or ends with '.'");
  if (!version.empty() && version.front() == 'v') version.remove_prefix(1);
  bool digits = version.size() == 8;
  for (char c : version) digits = digits && c >= '0' && c <= '9';
  if (!digits) return malformed("the version after '#' is not YYYYMMDD");
  return ErrataDataset{std::string(listed), std::string(id), "v" + std::string(version)};
}

Result<ErrataIssue> ErrataIssue::parse(std::string_view json) {
  auto root = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return malformed("not valid JSON");
  if (!root.is_object()) return malformed("not a JSON object (an ES-DOC errata issue is {\"issue\": {...}})");
  // The web service wraps the issue in {"issue": …}; a bare issue object is accepted too.
  const nlohmann::json* issue = &root;
  if (auto it = root.find("issue"); it != root.end()) {
    if (!it->is_object()) return malformed("\"issue\" is a " + std::string(it->type_name()) + ", not an object");
    issue = &*it;
  }
  ErrataIssue out;
  FEDSWARM_ASSIGN_OR_RETURN(out.uid, text_field(*issue, "uid", limits::max_short_text_bytes, true));
  FEDSWARM_ASSIGN_OR_RETURN(out.title, text_field(*issue, "title", limits::max_text_bytes, true));
  FEDSWARM_ASSIGN_OR_RETURN(out.severity, text_field(*issue, "severity", limits::max_short_text_bytes, false));
  FEDSWARM_ASSIGN_OR_RETURN(out.status, text_field(*issue, "status", limits::max_short_text_bytes, false));

  auto ds = issue->find("datasets");
  if (ds == issue->end()) return malformed("no \"datasets\" field in the issue");
  if (!ds->is_array()) return malformed("\"datasets\" is a " + std::string(ds->type_name()) + ", not an array");
  if (ds->empty()) return malformed("\"datasets\" lists no dataset version");
  std::unordered_set<std::string> seen;
  out.datasets.reserve(ds->size());
  for (std::size_t i = 0; i < ds->size(); ++i) {
    const auto& entry = (*ds)[i];
    const std::string where = "datasets[" + std::to_string(i) + "]";
    if (!entry.is_string()) return malformed(where + " is a " + std::string(entry.type_name()) + ", not a string");
    const auto& text = entry.get_ref<const std::string&>();
    auto parsed = parse_errata_dataset(text);
    if (!parsed) {
      std::string shown = text.size() > 120 ? text.substr(0, 120) + "…" : text;
      return malformed(where + " \"" + shown + "\": " + parsed.error().message);
    }
    if (!seen.insert(parsed->instance_id()).second) {
      ++out.duplicates;
      continue;
    }
    out.datasets.push_back(std::move(*parsed));
  }
  return out;
}

Result<ErrataIssue> ErrataIssue::load(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    return make_error(Errc::not_found, "errata_file_missing", file.string() + ": no such file");
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(Errc::io, "errata_file_read", file.string() + ": cannot open the file for reading");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return make_error(Errc::io, "errata_file_read", file.string() + ": cannot read the file");
  auto issue = parse(text.str());
  if (!issue) return issue.error().with_context(file.string());
  return issue;
}

}  // namespace fedswarm
