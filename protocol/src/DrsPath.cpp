#include "fedswarm/protocol/DrsPath.hpp"

namespace fedswarm {

Result<std::string> drs_version_directory(const ProjectRegistry& projects, std::string_view project,
                                          std::string_view dataset_id, std::string_view version) {
  const ProjectTemplate* t = projects.find(project);
  if (!t)
    return make_error(Errc::invalid, "drs_unknown_project",
                      std::string(dataset_id) + ": project " + std::string(project) + " has no template on this node; add it to [projects]");
  FEDSWARM_ASSIGN_OR_RETURN(DatasetId id, t->parse_dataset_id(dataset_id));
  return t->version_directory(id, version);
}

Result<std::string> drs_file_path(const ProjectRegistry& projects, std::string_view project,
                                  std::string_view dataset_id, std::string_view version, std::string_view file_path) {
  FEDSWARM_ASSIGN_OR_RETURN(std::string dir, drs_version_directory(projects, project, dataset_id, version));
  dir.push_back('/');
  dir.append(file_path);
  return dir;
}

}  // namespace fedswarm
