// Functional: the README's main job, `fedswarm demo`, runs to the end and cleans up.
#include <doctest/doctest.h>

#include "FunctionalFixture.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

TEST_CASE("fedswarm demo runs a five-node federation to the end and removes it") {
  TempDir tmp("fedswarm-demo-test");
  auto dir = tmp.path() / "demo";
  auto r = run_fedswarm({"demo", "--dir", dir.string()}, tmp.path() / "logs", {}, std::chrono::seconds(180));
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("every catalog holds all") != std::string::npos);
  CHECK(r.out.find("demo finished") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir));
}
