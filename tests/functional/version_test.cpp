// Functional: `fedswarm --version` through the binary, without any node home.
#include <doctest/doctest.h>

#include <sstream>

#include "FunctionalFixture.hpp"
#include "fedswarm/engine/ComponentVersions.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

TEST_CASE("--version prints the version, the source commit and every library version") {
  TempDir dir("fedswarm-version");
  auto r = run_fedswarm({"--home", (dir / "no-home").string(), "--version"}, dir / "logs");
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> lines;
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  REQUIRE(lines.size() == 2 + component_versions().size());
  // help2man (the man page) reads "<program> <version>" from the first line.
  CHECK(lines[0] == "fedswarm " + std::string(fedswarm_version()));
  REQUIRE(lines[1].rfind("source commit", 0) == 0);
  auto commit = lines[1].substr(lines[1].find_first_not_of(' ', std::string("source commit").size()));
  CHECK(!commit.empty());  // `git describe` output, or "unknown" outside a checkout
  std::size_t i = 2;
  for (const auto& c : component_versions()) {
    CAPTURE(c.name);
    CHECK(lines[i].rfind(c.name + " ", 0) == 0);
    CHECK(lines[i].find(c.version) != std::string::npos);
    CHECK((lines[i].find("(built with)") != std::string::npos) == !c.runtime);
    ++i;
  }
  CHECK_FALSE(std::filesystem::exists(dir / "no-home"));
}
