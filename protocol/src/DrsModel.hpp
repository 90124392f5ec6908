// Private to protocol/: the in-memory form of a project template (ProjectTemplate.hpp),
// shared by its loader (ProjectTemplateLoader.cpp, JSON -> Spec) and its checks
// (ProjectTemplate.cpp, ids and file names against a Spec).
//
// Contract
// - A Spec is built once by load_spec() and then only read; every member is immutable
//   after loading, so any number of threads may check ids against it.
// - Indices (Part::index, Constraint::facet/key, FileField::facet,
//   FilenameSpec::absent_facet) are positions in Spec::all_facets, which is also the
//   order of DatasetId::facets.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "fedswarm/protocol/Limits.hpp"
#include "fedswarm/protocol/ProjectTemplate.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm::drs {

inline constexpr std::size_t npos = std::string::npos;

// Transparent hashing lets the hot path look up string_views without allocating.
struct SvHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using TermSet = std::unordered_set<std::string, SvHash, std::equal_to<>>;
using EntryLists = std::unordered_map<std::string, std::vector<std::string>, SvHash, std::equal_to<>>;

inline bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_facet_char(char c) { return is_alnum(c) || c == '-'; }
inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// `s` bounded and with unprintable bytes replaced, in double quotes: untrusted text
// quoted in messages ends up in logs and terminals.
std::string dq(std::string_view s);
std::string join(const std::vector<std::string>& v, std::string_view sep);

// A full-match regular expression from a template. The spellings the built-in templates
// use are matched by hand-written code (std::regex is far too slow for ingest); any
// other spelling falls back to std::regex, which is safe because callers bound the
// input length (facet max_length) before matching.
class Pattern {
 public:
  // Errors: template_invalid (not a valid ECMAScript regular expression).
  static Result<Pattern> compile(const std::string& source);
  bool match(std::string_view s) const {
    if (fast_) return fast_(s);
    return std::regex_match(s.begin(), s.end(), *re_);
  }
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  bool (*fast_)(std::string_view) = nullptr;
  std::shared_ptr<const std::regex> re_;  // shared: std::regex copies are expensive
};

struct Vocabulary {
  std::string source;  // CV file name, or "the <project> template" for inline lists
  TermSet terms;
  std::vector<std::string> sorted;
};

// How one facet value (or one part of a composite) is checked.
struct Rule {
  enum class Kind { value, vocabulary, pattern };
  std::string name;
  Kind kind = Kind::value;
  std::string value;                        // Kind::value
  std::shared_ptr<const Vocabulary> vocab;  // Kind::vocabulary
  std::optional<Pattern> pattern;           // Kind::pattern
  std::vector<std::string> exclude;         // known terms not allowed to be written
  std::size_t max_length = limits::max_facet_text_bytes;
  std::string vocab_file, vocab_member;  // set only for vocabularies from a CV file
};

struct Part {
  Rule rule;
  bool optional = false;
  std::string absent_value;  // the derived facet's value when the part is left out
  std::size_t index = 0;
};

struct Facet {
  Rule rule;  // for a composite only name and max_length apply
  bool composite = false;
  char separator = '-';
  std::vector<Part> parts;
  std::size_t optional_parts = 0;  // leading parts, present or absent together
  std::string form;                // e.g. [sub_experiment_id-]variant_label
};

// The value of facet `facet` must be listed in member `member` of the CV entry of the
// value of facet `key` (e.g. source_id's entry lists its institution_id).
struct Constraint {
  std::size_t facet = 0, key = 0;
  std::string member, source;
  EntryLists allowed;  // key term -> allowed values; a term without the member is unconstrained
};

struct FileField {
  std::string name;
  std::size_t facet = npos;  // npos: a pattern field that is not a facet (CMIP5 variable)
  std::optional<Pattern> pattern;
  std::size_t max_length = limits::max_facet_text_bytes;
};

struct FilenameSpec {
  std::string text;  // the template as written, for messages
  std::vector<FileField> fields;
  char separator = '_';
  bool time_range = false;  // the template ends in [<sep><time_range>]
  std::string extension;
  std::string clim_suffix;
  std::size_t absent_facet = npos;  // no time range when this facet has one of absent_values
  std::vector<std::string> absent_values;
  bool required_otherwise = false;
};

struct Spec {
  std::string name, institution_facet;
  std::vector<std::string> id_facets, all_facets;
  std::vector<Facet> facets;  // one per id facet
  std::vector<Constraint> constraints;
  FilenameSpec filename;
};

// Builds a Spec from template JSON, reading CV files through `load`. Never throws for
// bad input: template_invalid for a malformed template, or the loader's own error.
Result<Spec> load_spec(std::string_view template_json, const ProjectTemplate::VocabularyLoader& load);

}  // namespace fedswarm::drs
