// Functional: the [swarm] settings of config.toml through the real binary — `init`
// writes them with their defaults and a comment; a bad value or an unknown key is
// refused with the setting's name and what is expected. (That the limits take effect
// on loopback peers is shown by swarm_kill_resume_test.)
#include <doctest/doctest.h>

#include "FunctionalFixture.hpp"
#include "GossipCluster.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

TEST_CASE("swarm - init writes the swarm rate limits to config.toml and a bad value is refused by name") {
  CliWorld w;
  const std::string home = (w.dir() / "node").string();
  w.must({"--home", home, "init", "--site", "IPSL", "--tier", "1"});
  const std::string text = read_file(std::filesystem::path(home) / "config.toml");
  const auto section = text.find("[swarm]\n");
  REQUIRE(section != std::string::npos);
  const auto up = text.find("\nupload_rate_limit = 0\n", section);
  const auto down = text.find("\ndownload_rate_limit = 0\n", section);
  CHECK(up != std::string::npos);
  CHECK(down != std::string::npos);
  CHECK(text.find("# Payload rate limits", section) < up);  // commented
  w.must({"--home", home, "status"});

  set_config(home, {{"download_rate_limit", "1048576"}, {"upload_rate_limit", "524288"}});
  w.must({"--home", home, "status"});

  set_config(home, {{"download_rate_limit", "-1"}});
  auto negative = w.run({"--home", home, "status"});
  CHECK(negative.exit_code != 0);
  CHECK(negative.err.find("swarm.download_rate_limit") != std::string::npos);
  CHECK(negative.err.find("bytes per second") != std::string::npos);

  set_config(home, {{"download_rate_limit", "4294967296"}});
  auto huge = w.run({"--home", home, "status"});
  CHECK(huge.exit_code != 0);
  CHECK(huge.err.find("swarm.download_rate_limit") != std::string::npos);

  w.must({"--home", (w.dir() / "other").string(), "init", "--site", "NCAR", "--tier", "2"});
  const auto other = w.dir() / "other" / "config.toml";
  std::string typo = read_file(other);
  typo.replace(typo.find("download_rate_limit"), std::string("download_rate_limit").size(), "download_ratelimit");
  write_file(other, typo);
  auto unknown = w.run({"--home", (w.dir() / "other").string(), "status"});
  CHECK(unknown.exit_code != 0);
  CHECK(unknown.err.find("swarm.download_ratelimit") != std::string::npos);
}
