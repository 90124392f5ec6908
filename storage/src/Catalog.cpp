#include "fedswarm/storage/Catalog.hpp"

#include "CatalogImpl.hpp"

namespace fedswarm {

std::string_view to_string(IngestOutcome o) {
  switch (o) {
    case IngestOutcome::stored: return "stored";
    case IngestOutcome::duplicate: return "duplicate";
    case IngestOutcome::parked: return "parked";
    case IngestOutcome::refused: return "refused";
  }
  return "unknown";
}

std::string_view to_string(VersionStatus s) {
  switch (s) {
    case VersionStatus::published: return "published";
    case VersionStatus::superseded: return "superseded";
    case VersionStatus::retracted: return "retracted";
  }
  return "unknown";
}

std::string_view to_string(LocalState s) {
  switch (s) {
    case LocalState::wanted: return "wanted";
    case LocalState::transferring: return "transferring";
    case LocalState::verifying: return "verifying";
    case LocalState::complete: return "complete";
    case LocalState::quarantined: return "quarantined";
    case LocalState::dropped: return "dropped";
    case LocalState::paused: return "paused";
  }
  return "unknown";
}

Result<std::unique_ptr<Catalog>> Catalog::open(const CatalogOptions& options, const ProjectRegistry& projects) {
  return CatalogImpl::open(options, projects);
}

}  // namespace fedswarm
