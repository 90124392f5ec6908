// DrsPath: where a file of a dataset version lives below a DRS root, as a relative
// '/'-separated path: <the project's version directory>/<the file's manifest path>.
// The one mapping shared by everything that names a file by DRS path: the swarm's
// placement (SwarmEngine::Impl::drs_dir), esg-search's `url` fields
// (`<http_url>/thredds/fileServer/<drs_file_path>`) and the file server resolving them.
//
// Contract: pure, no I/O, thread-safe. Errors: `invalid` with drs_unknown_project (no
// template named `project`) or the template's own reasons for a malformed dataset id.
// `file_path` is taken as given (manifests already passed PathRules).
#pragma once

#include <string>
#include <string_view>

#include "fedswarm/protocol/ProjectTemplate.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

// CMIP6: CMIP6/CMIP/IPSL/IPSL-CM6A-LR/historical/r1i1p1f1/Amon/tas/gr/v20180803
Result<std::string> drs_version_directory(const ProjectRegistry& projects, std::string_view project,
                                          std::string_view dataset_id, std::string_view version);
// drs_version_directory(...) + "/" + file_path
Result<std::string> drs_file_path(const ProjectRegistry& projects, std::string_view project,
                                  std::string_view dataset_id, std::string_view version, std::string_view file_path);

}  // namespace fedswarm
