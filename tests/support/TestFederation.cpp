#include "TestFederation.hpp"

namespace fedswarm::test {

Envelope TestFederation::next_roster(const SigningKey& node, const std::string& site,
                                     std::vector<std::string> institutions, std::vector<std::string> projects) {
  PublisherGrant g = grant(node, std::move(institutions));
  g.projects = std::move(projects);
  ++serial_;
  // Issued just before kTestNow so the roster is already valid at the tests' "now".
  Roster r = make_roster(serial_, {member(node, site)}, {std::move(g)}, kTestNow - 100, kTestNow + 10 * 365 * 86400);
  return keys_.roster(serial_, r);
}

}  // namespace fedswarm::test
