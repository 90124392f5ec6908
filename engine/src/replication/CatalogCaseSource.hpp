// CatalogCaseSource: the one-Tier-1-copy rule's inputs (TierOneCaseSource) read from a
// Catalog — cases by doc or doc range (Catalog::version_case(s)), and the docs a member
// holds or claims (the catalog's node index).
//
// Contract: reads only; as thread-safe as the catalog (the tracker that uses it is
// single-threaded). Errors: the catalog's (`io`, `corrupt`).
#pragma once

#include "fedswarm/policy/TierOneTracker.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

class CatalogCaseSource final : public TierOneCaseSource {
 public:
  explicit CatalogCaseSource(const Catalog& catalog) : catalog_(catalog) {}

  Result<std::uint32_t> doc_count() override;
  Result<std::vector<TierOneCaseData>> load(std::span<const std::uint32_t> docs) override;
  Result<std::vector<TierOneCaseData>> load_range(std::uint32_t first, std::size_t max) override;
  Result<std::vector<std::uint32_t>> docs_of(const PublicKey& member) override;

  static TierOneCaseData convert(VersionCase c);

 private:
  const Catalog& catalog_;
};

}  // namespace fedswarm
