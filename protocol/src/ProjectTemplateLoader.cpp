// Project template JSON -> drs::Spec (see DrsModel.hpp and protocol/projects/README.md).
#include <algorithm>
#include <array>
#include <map>

#include <nlohmann/json.hpp>

#include "DrsModel.hpp"

namespace fedswarm::drs {

namespace {

using json = nlohmann::json;

Error bad_template(std::string message) { return make_error(Errc::invalid, "template_invalid", std::move(message)); }

bool match_identifier(std::string_view s) {  // [A-Za-z][A-Za-z0-9]*
  if (s.empty() || is_digit(s[0]) || !is_alnum(s[0])) return false;
  return std::all_of(s.begin(), s.end(), is_alnum);
}

bool match_term(std::string_view s) {  // [A-Za-z0-9][A-Za-z0-9-]*
  return !s.empty() && is_alnum(s[0]) && std::all_of(s.begin(), s.end(), is_facet_char);
}

bool match_variant_label(std::string_view s) {  // r[1-9][0-9]*i[1-9][0-9]*p[1-9][0-9]*f[1-9][0-9]*
  std::size_t i = 0;
  for (char letter : {'r', 'i', 'p', 'f'}) {
    if (i >= s.size() || s[i] != letter) return false;
    if (++i >= s.size() || s[i] < '1' || s[i] > '9') return false;
    while (++i < s.size() && is_digit(s[i])) {
    }
  }
  return i == s.size();
}

}  // namespace

Result<Pattern> Pattern::compile(const std::string& source) {
  static const std::array<std::pair<std::string_view, bool (*)(std::string_view)>, 3> known = {{
      {"[A-Za-z][A-Za-z0-9]*", match_identifier},
      {"[A-Za-z0-9][A-Za-z0-9-]*", match_term},
      {"r[1-9][0-9]*i[1-9][0-9]*p[1-9][0-9]*f[1-9][0-9]*", match_variant_label},
  }};
  Pattern p;
  p.source_ = source;
  for (const auto& [text, fn] : known)
    if (text == source) p.fast_ = fn;
  if (!p.fast_) {
    try {
      p.re_ = std::make_shared<const std::regex>(source, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      return bad_template("pattern " + dq(source) + " is not a valid regular expression: " + e.what());
    }
  }
  return p;
}

namespace {

class Builder {
 public:
  explicit Builder(const ProjectTemplate::VocabularyLoader& load) : load_(load) {}

  Result<Spec> build(std::string_view text) {
    const json doc = json::parse(text.begin(), text.end(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return bad_template("project template is not a JSON object");
    FEDSWARM_TRY(keys(doc, "template",
                      {"name", "institution_facet", "facets", "constraints", "directory_template", "filename_template",
                       "filename_fields", "time_range"}));
    s_.name = doc.at("name").get<std::string>();
    if (!match_term(s_.name) || s_.name.size() > limits::max_facet_text_bytes)
      return bad_template("template name " + dq(s_.name) + " must be letters, digits and '-'");
    const json& facets = doc.at("facets");
    if (!facets.is_array() || facets.empty() || facets.size() > limits::max_facets)
      return bad_template(s_.name + ": \"facets\" must be a non-empty array of at most " +
                          std::to_string(limits::max_facets) + " facets");
    for (const json& f : facets) {
      FEDSWARM_ASSIGN_OR_RETURN(Facet facet, parse_facet(f));
      s_.id_facets.push_back(facet.rule.name);
      s_.facets.push_back(std::move(facet));
    }
    s_.all_facets = s_.id_facets;
    for (Facet& f : s_.facets)
      for (Part& p : f.parts) {
        p.index = s_.all_facets.size();
        s_.all_facets.push_back(p.rule.name);
      }
    for (std::size_t i = 0; i < s_.all_facets.size(); ++i)
      if (std::find(s_.all_facets.begin(), s_.all_facets.begin() + i, s_.all_facets[i]) != s_.all_facets.begin() + i)
        return bad_template(s_.name + ": facet " + dq(s_.all_facets[i]) + " is declared twice");
    s_.institution_facet = doc.at("institution_facet").get<std::string>();
    if (index_of(s_.institution_facet) == npos)
      return bad_template(s_.name + ": institution_facet " + dq(s_.institution_facet) + " is not a facet");
    if (doc.contains("constraints"))
      for (const json& c : doc.at("constraints")) FEDSWARM_TRY(parse_constraint(c));
    FEDSWARM_TRY(parse_directory(doc.at("directory_template").get<std::string>()));
    FEDSWARM_TRY(parse_filename(doc));
    return std::move(s_);
  }

 private:
  // Unknown members are refused so an operator's typo does not silently drop a rule;
  // "description" and members starting with '_' are free for comments.
  Status keys(const json& obj, const std::string& where, std::initializer_list<std::string_view> allowed) {
    if (!obj.is_object()) return bad_template(s_.name + ": " + where + " must be a JSON object");
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      const std::string& k = it.key();
      if (k == "description" || k.starts_with("_")) continue;
      if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
        return bad_template(s_.name + ": unknown member " + dq(k) + " in " + where);
    }
    return {};
  }

  std::size_t index_of(std::string_view facet) const {
    const auto it = std::find(s_.all_facets.begin(), s_.all_facets.end(), facet);
    return it == s_.all_facets.end() ? npos : static_cast<std::size_t>(it - s_.all_facets.begin());
  }

  const Rule* rule_of(std::string_view facet) const {
    for (const Facet& f : s_.facets) {
      if (!f.composite && f.rule.name == facet) return &f.rule;
      for (const Part& p : f.parts)
        if (p.rule.name == facet) return &p.rule;
    }
    return nullptr;
  }

  Result<const json*> vocabulary_file(const std::string& file) {
    auto it = files_.find(file);
    if (it == files_.end()) {
      auto text = load_(file);
      if (!text) return std::move(text).error().with_context(s_.name + ": vocabulary " + file);
      json doc = json::parse(*text, nullptr, false);
      if (doc.is_discarded() || !doc.is_object())
        return bad_template(s_.name + ": vocabulary " + file + " is not a JSON object");
      it = files_.emplace(file, std::move(doc)).first;
    }
    return &it->second;
  }

  // Facet names appear in directory and file-name templates and in messages.
  Status check_name(const std::string& name) {
    const bool ok = !name.empty() && name.size() <= 64 && !is_digit(name[0]) &&
                    std::all_of(name.begin(), name.end(), [](char c) { return is_alnum(c) || c == '_'; });
    if (!ok || name == "version" || name == "time_range")
      return bad_template(s_.name + ": facet name " + dq(name) +
                          " must be letters, digits and '_' (and not \"version\" or \"time_range\")");
    return {};
  }

  Status parse_rule(const json& j, Rule& r, bool composite_allowed) {
    FEDSWARM_TRY(check_name(r.name));
    FEDSWARM_TRY(keys(j, "facet " + dq(r.name),
                      {"name", "value", "vocabulary", "terms", "pattern", "max_length", "exclude", "composite",
                       "optional", "absent_value"}));
    if (j.contains("max_length"))
      r.max_length = std::min(j.at("max_length").get<std::size_t>(), limits::max_facet_text_bytes);
    if (r.max_length == 0) return bad_template(s_.name + ": facet " + dq(r.name) + " has max_length 0");
    const int kinds = j.contains("value") + j.contains("vocabulary") + j.contains("terms") + j.contains("pattern") +
                      (composite_allowed && j.contains("composite"));
    if (kinds != 1)
      return bad_template(s_.name + ": facet " + dq(r.name) +
                          " needs exactly one of value, vocabulary, terms, pattern" +
                          (composite_allowed ? ", composite" : ""));
    if (j.contains("value")) {
      r.kind = Rule::Kind::value;
      r.value = j.at("value").get<std::string>();
    } else if (j.contains("pattern")) {
      r.kind = Rule::Kind::pattern;
      FEDSWARM_ASSIGN_OR_RETURN(Pattern p, Pattern::compile(j.at("pattern").get<std::string>()));
      r.pattern = std::move(p);
    } else if (j.contains("terms") || j.contains("vocabulary")) {
      r.kind = Rule::Kind::vocabulary;
      auto v = std::make_shared<Vocabulary>();
      const json* list = nullptr;
      if (j.contains("terms")) {
        v->source = "the " + s_.name + " template";
        list = &j.at("terms");
      } else {
        const json& spec = j.at("vocabulary");
        FEDSWARM_TRY(keys(spec, "vocabulary of " + dq(r.name), {"file", "member"}));
        r.vocab_file = spec.at("file").get<std::string>();
        r.vocab_member = spec.value("member", r.name);
        v->source = r.vocab_file;
        FEDSWARM_ASSIGN_OR_RETURN(const json* doc, vocabulary_file(r.vocab_file));
        if (!doc->contains(r.vocab_member))
          return bad_template(s_.name + ": vocabulary " + r.vocab_file + " has no member " + dq(r.vocab_member));
        list = &doc->at(r.vocab_member);
      }
      if (list->is_object())
        for (auto it = list->begin(); it != list->end(); ++it) v->sorted.push_back(it.key());
      else if (list->is_array())
        for (const json& t : *list) v->sorted.push_back(t.get<std::string>());
      else
        return bad_template(s_.name + ": the terms of " + dq(r.name) + " are neither an array nor an object");
      if (v->sorted.empty()) return bad_template(s_.name + ": facet " + dq(r.name) + " has no terms");
      std::sort(v->sorted.begin(), v->sorted.end());
      v->terms.insert(v->sorted.begin(), v->sorted.end());
      r.vocab = std::move(v);
    }
    if (j.contains("exclude")) r.exclude = j.at("exclude").get<std::vector<std::string>>();
    return {};
  }

  Result<Facet> parse_facet(const json& j) {
    Facet f;
    if (!j.is_object() || !j.contains("name")) return bad_template(s_.name + ": every facet needs a \"name\"");
    f.rule.name = j.at("name").get<std::string>();
    FEDSWARM_TRY(parse_rule(j, f.rule, true));
    if (!j.contains("composite")) return f;
    const json& c = j.at("composite");
    FEDSWARM_TRY(keys(c, "composite " + dq(f.rule.name), {"separator", "parts"}));
    const std::string sep = c.value("separator", "-");
    if (sep.size() != 1 || !is_facet_char(sep[0]) || is_alnum(sep[0]))
      return bad_template(s_.name + ": composite " + dq(f.rule.name) +
                          " needs a one-character separator such as \"-\"");
    f.composite = true;
    f.separator = sep[0];
    for (const json& pj : c.at("parts")) {
      Part p;
      if (!pj.is_object() || !pj.contains("name")) return bad_template(s_.name + ": every part needs a \"name\"");
      p.rule.name = pj.at("name").get<std::string>();
      FEDSWARM_TRY(parse_rule(pj, p.rule, false));
      p.optional = pj.value("optional", false);
      p.absent_value = pj.value("absent_value", "");
      // Optional parts must lead, so the number of pieces alone tells which are present.
      if (p.optional && f.optional_parts != f.parts.size())
        return bad_template(s_.name + ": optional parts of " + dq(f.rule.name) + " must come first");
      f.optional_parts += p.optional;
      f.form +=
          p.optional ? "[" + p.rule.name + sep + "]" : (f.parts.size() > f.optional_parts ? sep : "") + p.rule.name;
      f.parts.push_back(std::move(p));
    }
    if (f.parts.size() == f.optional_parts)
      return bad_template(s_.name + ": composite " + dq(f.rule.name) + " needs a required part");
    return f;
  }

  Status parse_constraint(const json& j) {
    FEDSWARM_TRY(keys(j, "constraint", {"facet", "listed_in", "member"}));
    Constraint c;
    const std::string facet = j.at("facet").get<std::string>(), key = j.at("listed_in").get<std::string>();
    c.member = j.at("member").get<std::string>();
    c.facet = index_of(facet);
    c.key = index_of(key);
    const Rule* kr = rule_of(key);
    if (c.facet == npos || c.key == npos || !kr || kr->vocab_file.empty())
      return bad_template(s_.name + ": constraint on " + dq(facet) +
                          " must name a facet listed in the CV file of "
                          "a vocabulary facet (" +
                          dq(key) + ")");
    c.source = kr->vocab_file;
    FEDSWARM_ASSIGN_OR_RETURN(const json* doc, vocabulary_file(kr->vocab_file));
    const json& entries = doc->at(kr->vocab_member);
    if (!entries.is_object())
      return bad_template(s_.name + ": " + c.source + " has no per-term entries for constraints");
    for (auto it = entries.begin(); it != entries.end(); ++it) {
      const json& entry = it.value();
      if (!entry.is_object() || !entry.contains(c.member)) continue;
      std::vector<std::string> values;
      const json& m = entry.at(c.member);
      // A CV member is either a list or a space-separated string of terms.
      const std::vector<std::string> raw =
          m.is_array() ? m.get<std::vector<std::string>>() : std::vector<std::string>{m.get<std::string>()};
      for (const std::string& r : raw)
        for (std::size_t p = 0; p < r.size();) {
          const std::size_t e = std::min(r.find(' ', p), r.size());
          if (e > p) values.push_back(r.substr(p, e - p));
          p = e + 1;
        }
      c.allowed.emplace(it.key(), std::move(values));
    }
    // A misspelt member would otherwise silently constrain nothing.
    if (c.allowed.empty()) return bad_template(s_.name + ": no entry of " + c.source + " has a member " + dq(c.member));
    s_.constraints.push_back(std::move(c));
    return {};
  }

  Status parse_directory(const std::string& t) {
    std::vector<std::string> want;
    for (const auto& f : s_.id_facets) want.push_back("<" + f + ">");
    want.push_back("<version>");
    if (t != join(want, "/"))
      return bad_template(s_.name +
                          ": directory_template must be the id facets in order, then the version: " + join(want, "/"));
    return {};
  }

  Status parse_filename(const json& doc) {
    FilenameSpec& fs = s_.filename;
    fs.text = doc.at("filename_template").get<std::string>();
    const auto bad = [&] {
      return bad_template(s_.name + ": filename_template " + dq(fs.text) +
                          " must look like <facet>_<facet>...[_<time_range>].ext");
    };
    const std::size_t last = fs.text.find_last_of(">]");
    if (last == npos || fs.text.size() - last < 3 || fs.text[last + 1] != '.') return bad();
    fs.extension = fs.text.substr(last + 1);
    std::string_view core(fs.text.data(), last + 1);
    const std::size_t opt = core.find('[');
    if (opt != npos) {
      if (core.size() - opt < 3 || core.substr(opt + 2) != "<time_range>]" || is_facet_char(core[opt + 1]))
        return bad();
      fs.separator = core[opt + 1];
      fs.time_range = true;
      core = core.substr(0, opt);
    }
    const json fields = doc.value("filename_fields", json::object());
    if (!fields.is_object()) return bad_template(s_.name + ": filename_fields must be a JSON object");
    for (std::size_t pos = 0; pos < core.size();) {
      const std::size_t close = core.find('>', pos);
      if (core[pos] != '<' || close == npos) return bad();
      FileField ff;
      ff.name = std::string(core.substr(pos + 1, close - pos - 1));
      ff.facet = index_of(ff.name);
      if (ff.facet == npos) {
        if (!fields.contains(ff.name))
          return bad_template(s_.name + ": filename field <" + ff.name + "> is neither a facet nor in filename_fields");
        Rule r;
        r.name = ff.name;
        FEDSWARM_TRY(parse_rule(fields.at(ff.name), r, false));
        if (r.kind != Rule::Kind::pattern)
          return bad_template(s_.name + ": filename field <" + ff.name + "> needs a pattern");
        ff.pattern = std::move(r.pattern);
        ff.max_length = r.max_length;
      }
      fs.fields.push_back(std::move(ff));
      pos = close + 1;
      if (pos < core.size()) {
        if (fs.fields.size() == 1 && !fs.time_range) fs.separator = core[pos];
        // Facet values may contain '-', so only a character outside them can separate.
        if (core[pos] != fs.separator || is_facet_char(fs.separator)) return bad();
        ++pos;
      }
    }
    if (fs.fields.empty()) return bad();
    if (doc.contains("time_range")) {
      const json& tr = doc.at("time_range");
      FEDSWARM_TRY(keys(tr, "time_range", {"climatology_suffix", "absent_when", "required_otherwise"}));
      if (!fs.time_range)
        return bad_template(s_.name + ": time_range given but filename_template has no [_<time_range>]");
      fs.clim_suffix = tr.value("climatology_suffix", "");
      fs.required_otherwise = tr.value("required_otherwise", false);
      if (tr.contains("absent_when")) {
        const json& aw = tr.at("absent_when");
        FEDSWARM_TRY(keys(aw, "absent_when", {"facet", "values"}));
        fs.absent_facet = index_of(aw.at("facet").get<std::string>());
        if (fs.absent_facet == npos) return bad_template(s_.name + ": time_range.absent_when names an unknown facet");
        fs.absent_values = aw.at("values").get<std::vector<std::string>>();
      }
    }
    return {};
  }

  const ProjectTemplate::VocabularyLoader& load_;
  std::map<std::string, json> files_;  // each CV file parsed once per template
  Spec s_;
};

}  // namespace

Result<Spec> load_spec(std::string_view template_json, const ProjectTemplate::VocabularyLoader& load) {
  try {
    return Builder(load).build(template_json);
  } catch (const json::exception& e) {
    // Missing members and wrong JSON types surface as nlohmann exceptions; a bad
    // template is an expected failure for configured projects, so it becomes a value.
    return bad_template(std::string("project template: ") + e.what());
  } catch (const std::regex_error& e) {
    return bad_template(std::string("project template: ") + e.what());
  }
}

}  // namespace fedswarm::drs
