#include "replication/CatalogCaseSource.hpp"

namespace fedswarm {

TierOneCaseData CatalogCaseSource::convert(VersionCase c) {
  TierOneCaseData d;
  d.doc = c.version.doc;
  d.version = TierOneVersion::from(c.version);
  d.replicas = std::move(c.replicas);
  d.claims = std::move(c.claims);
  d.previous_holders = std::move(c.previous_holders);
  return d;
}

Result<std::uint32_t> CatalogCaseSource::doc_count() { return catalog_.doc_count(); }

Result<std::vector<TierOneCaseData>> CatalogCaseSource::load(std::span<const std::uint32_t> docs) {
  std::vector<TierOneCaseData> out;
  out.reserve(docs.size());
  for (std::uint32_t doc : docs) {
    FEDSWARM_ASSIGN_OR_RETURN(auto c, catalog_.version_case(doc));
    if (c) out.push_back(convert(std::move(*c)));
  }
  return out;
}

Result<std::vector<TierOneCaseData>> CatalogCaseSource::load_range(std::uint32_t first, std::size_t max) {
  FEDSWARM_ASSIGN_OR_RETURN(auto cases, catalog_.version_cases(first, max));
  std::vector<TierOneCaseData> out;
  out.reserve(cases.size());
  for (auto& c : cases) out.push_back(convert(std::move(c)));
  return out;
}

Result<std::vector<std::uint32_t>> CatalogCaseSource::docs_of(const PublicKey& member) {
  FEDSWARM_ASSIGN_OR_RETURN(auto ids, catalog_.versions_of_node(member));
  std::vector<std::uint32_t> out;
  out.reserve(ids.size());
  for (const auto& id : ids) {
    FEDSWARM_ASSIGN_OR_RETURN(auto doc, catalog_.doc_of(id));
    if (doc) out.push_back(*doc);
  }
  return out;
}

}  // namespace fedswarm
