// ProjectTemplate: the DRS rules of one project (CMIP6 built in; CMIP5, CORDEX, … added
// by configuration), as data.
//
// A template is a JSON document (see protocol/projects/CMIP6.json and the README's
// "Projects" section) naming, in order, the facets of a dataset id, the rule for each
// facet (a controlled-vocabulary file and the JSON member holding its terms, a regular
// expression, a fixed value, or a composite such as CMIP6's
// member_id = [sub_experiment_id-]variant_label), cross-facet constraints (e.g. the
// source_id's CV entry lists the institution_id), the directory template
// (<facets…>/<version>/<file>) and the file-name template.
//
// Contract
// - Pure: no I/O. Vocabulary files are handed in through `VocabularyLoader`
//   (the built-in CMIP6 CVs are compiled into the binary; engine/ loads configured
//   folders).
// - Immutable after construction; all methods are const and thread-safe.
// - Parsing untrusted ids/paths never throws; errors are `invalid` with reasons:
//   drs_too_long, drs_bad_character, drs_facet_count, drs_unknown_term (message names
//   the facet and value), drs_bad_pattern, drs_constraint, drs_unknown_project,
//   version_format, version_date, filename_template, filename_facet_mismatch.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

struct DrsFacet {
  std::string name;
  std::string value;
  bool operator==(const DrsFacet&) const = default;
};

// A parsed, validated dataset id.
struct DatasetId {
  std::string project;  // template name, e.g. "CMIP6"
  std::string id;       // the DRS string, e.g. CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr
  // Facets in template order, then facets derived from composites (for CMIP6:
  // sub_experiment_id and variant_label from member_id).
  std::vector<DrsFacet> facets;

  // Value of facet `name`, or an empty view.
  std::string_view facet(std::string_view name) const;
};

// A dataset version directory recognised in a DRS tree.
struct VersionDirectory {
  DatasetId dataset;
  std::string version;  // vYYYYMMDD
};

class ProjectTemplate {
 public:
  // Resolves a vocabulary file name (as written in the template, e.g.
  // "CMIP6_source_id.json") to its JSON text.
  using VocabularyLoader = std::function<Result<std::string>(std::string_view file_name)>;

  // Errors: template_invalid (malformed template, see protocol/projects/README.md), or
  // the loader's own error for a vocabulary file it cannot supply.
  static Result<ProjectTemplate> from_json(std::string_view template_json,
                                           const VocabularyLoader& load);

  ProjectTemplate(ProjectTemplate&&) noexcept;
  ProjectTemplate& operator=(ProjectTemplate&&) noexcept;
  ~ProjectTemplate();

  const std::string& name() const;
  // The facet publisher grants are checked against (CMIP6: institution_id).
  const std::string& institution_facet() const;
  // Facet names of the dataset id, in order.
  const std::vector<std::string>& id_facets() const;
  // All facet names a parsed id carries (id facets then derived ones).
  const std::vector<std::string>& all_facets() const;

  Result<DatasetId> parse_dataset_id(std::string_view id) const;

  // `components` are the path components from the DRS root down to and including the
  // version directory (CMIP6: 9 facets + version = 10).
  Result<VersionDirectory> parse_version_directory(std::span<const std::string> components) const;
  // Number of path components of a version directory below the DRS root.
  std::size_t version_directory_depth() const;
  // Relative path of a version directory: facets joined by '/', then the version.
  std::string version_directory(const DatasetId& id, std::string_view version) const;

  // Checks a file name against the file-name template and the dataset's facets.
  Status validate_filename(const DatasetId& id, std::string_view file_name) const;

  // Known terms of a vocabulary-backed facet (for generators and `fedswarm demo`);
  // empty for pattern facets.
  std::vector<std::string> terms(std::string_view facet) const;

 private:
  struct Impl;
  explicit ProjectTemplate(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The projects a node knows, by name.
class ProjectRegistry {
 public:
  ProjectRegistry() = default;
  ProjectRegistry(const ProjectRegistry&) = default;  // shares the (immutable) templates
  ProjectRegistry& operator=(const ProjectRegistry&) = default;
  ProjectRegistry(ProjectRegistry&&) noexcept = default;
  ProjectRegistry& operator=(ProjectRegistry&&) noexcept = default;

  // CMIP6 from the template and CVs compiled into the binary.
  static const ProjectRegistry& builtin();
  // A registry holding only the built-in CMIP6 template (copy-constructible base for
  // adding configured projects).
  static Result<ProjectRegistry> with_builtin();

  // Adds or replaces (same name) a template.
  void add(std::shared_ptr<const ProjectTemplate> t);
  const ProjectTemplate* find(std::string_view project) const;
  std::vector<std::string> names() const;

  // Parses an id with the template named by its first component (case-insensitive
  // match against template names, e.g. "CMIP6", "cmip5").
  Result<DatasetId> parse_dataset_id(std::string_view id) const;

 private:
  std::vector<std::shared_ptr<const ProjectTemplate>> templates_;
};

}  // namespace fedswarm
