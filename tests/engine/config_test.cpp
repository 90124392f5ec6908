#include <doctest/doctest.h>

#include "TestSupport.hpp"
#include "fedswarm/engine/Config.hpp"

using namespace fedswarm;
using fedswarm::test::TempDir;

TEST_CASE("the rendered default config loads back unchanged") {
  TempDir dir;
  Config c = Config::defaults("IPSL", Tier::tier1);
  c.capacity = 123456789;
  c.on_retraction = RetractionAction::quarantine;
  c.project_templates = {"extra/CORDEX.json"};
  test::write_file(dir / "config.toml", c.render_toml());
  auto loaded = Config::load(dir / "config.toml", dir.path());
  REQUIRE(loaded.ok());
  CHECK(loaded->site == "IPSL");
  CHECK(loaded->tier == Tier::tier1);
  CHECK(loaded->capacity == 123456789);
  CHECK(loaded->data_root == dir.path() / "data");
  CHECK(loaded->on_retraction == RetractionAction::quarantine);
  CHECK(loaded->gossip_interval_ms == 500);
  CHECK(loaded->gossip_fanout == 3);
  REQUIRE(loaded->project_templates.size() == 1);
  CHECK(loaded->project_templates[0] == dir.path() / "extra/CORDEX.json");
}

TEST_CASE("bad config files are refused with the key and what is expected") {
  TempDir dir;
  auto load = [&](const std::string& text) {
    test::write_file(dir / "config.toml", text);
    return Config::load(dir / "config.toml", dir.path());
  };
  auto typo = load("[node]\nsite = \"X\"\ntier = \"2\"\n[gossip]\nintervall_ms = 5\n");
  REQUIRE_FALSE(typo.ok());
  CHECK(typo.error().reason == "config_unknown_key");
  CHECK(typo.error().message.find("gossip.intervall_ms") != std::string::npos);

  auto tier = load("[node]\nsite = \"X\"\ntier = \"3\"\n");
  CHECK(tier.error().reason == "config_bad_value");
  CHECK(tier.error().message.find("node.tier") != std::string::npos);

  auto syntax = load("[node\nsite = \n");
  CHECK(syntax.error().reason == "config_syntax");

  auto port = load("[node]\nsite = \"X\"\n[network]\nswarm_port = 70000\n");
  CHECK(port.error().reason == "config_bad_value");

  auto key = load("[node]\nsite = \"X\"\n[federation]\nauthority_key = \"abc\"\n");
  CHECK(key.error().reason == "config_bad_value");

  auto missing = Config::load(dir / "nope.toml", dir.path());
  CHECK(missing.error().code == Errc::io);
}
