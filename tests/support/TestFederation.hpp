// TestFederation: a federation authority for tests, able to admit a node to a catalog —
// pin the authority key, then import a signed roster in which the node is a member and
// a granted publisher.
//
// Contract
// - Test setup only; each roster it makes has the next serial (and the same seq in the
//   authority's log), so a test can re-admit a node with different grants.
// - `admit` is a template so this support library needs no storage/ dependency: it is
//   instantiated with fedswarm::Catalog in the tests that link the catalog.
// - Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ManifestFactory.hpp"
#include "fedswarm/protocol/Envelope.hpp"
#include "fedswarm/protocol/Result.hpp"
#include "fedswarm/protocol/SigningKey.hpp"

namespace fedswarm::test {

// A "now" inside the validity of the rosters TestFederation makes.
inline constexpr std::int64_t kTestNow = 1'700'000'100;

class TestFederation {
 public:
  const SigningKey& authority() const { return keys_.authority; }
  std::uint64_t serial() const { return serial_; }

  // The next roster: `node` is a Tier-2 member of `site`, granted `projects`
  // (`institutions` empty = all institutions of them).
  Envelope next_roster(const SigningKey& node, const std::string& site,
                       std::vector<std::string> institutions = {},
                       std::vector<std::string> projects = {"CMIP6"});

  // Pins the authority in `catalog` and imports the next roster for `node`.
  template <class CatalogT>
  Status admit(CatalogT& catalog, const SigningKey& node, const std::string& site,
               std::vector<std::string> institutions = {}, std::vector<std::string> projects = {"CMIP6"},
               std::int64_t now = kTestNow) {
    FEDSWARM_TRY(catalog.pin_authority(authority().public_key()));
    return catalog.import_roster(next_roster(node, site, std::move(institutions), std::move(projects)), now);
  }

 private:
  FederationKeys keys_;
  std::uint64_t serial_ = 0;
};

}  // namespace fedswarm::test
