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

TEST_CASE("[http] defaults, round trip and refusals") {
  TempDir dir;
  Config c = Config::defaults("IPSL", Tier::tier2);
  CHECK(c.http.enabled);
  CHECK(c.http.tls);
  CHECK(c.http.listen == "127.0.0.1:8443");
  CHECK(c.http.url() == "https://127.0.0.1:8443");
  c.http.listen = "10.0.0.5:9443";
  c.http.threads = 4;
  c.http.max_target_bytes = 100000;
  c.http.serve_retracted = true;
  test::write_file(dir / "config.toml", c.render_toml());
  auto loaded = Config::load(dir / "config.toml", dir.path());
  REQUIRE_MESSAGE(loaded.ok(), loaded.error().message);
  CHECK(loaded->http.listen == "10.0.0.5:9443");
  CHECK(loaded->http.threads == 4);
  CHECK(loaded->http.max_target_bytes == 100000);
  CHECK(loaded->http.serve_retracted);
  CHECK(loaded->http.certificate == dir.path() / "tls/cert.pem");
  CHECK(loaded->http.private_key == dir.path() / "tls/key.pem");
  CHECK(loaded->http.url() == "https://10.0.0.5:9443");

  auto load = [&](const std::string& http) {
    test::write_file(dir / "config.toml", "[node]\nsite = \"X\"\n[http]\n" + http);
    return Config::load(dir / "config.toml", dir.path());
  };
  auto plain = load("tls = false\npublic_url = \"https://esgf.example.org/\"\ncertificate = \"/etc/ssl/site.pem\"\n");
  REQUIRE_MESSAGE(plain.ok(), plain.error().message);
  CHECK_FALSE(plain->http.tls);
  CHECK(plain->http.url() == "https://esgf.example.org");
  CHECK(plain->http.certificate == "/etc/ssl/site.pem");
  CHECK(load("tls = false\n")->http.url() == "http://127.0.0.1:8443");

  for (const char* bad : {"threads = 0\n", "listen = \"nohost\"\n", "public_url = \"ftp://x\"\n", "tls = \"yes\"\n",
                          "header_timeout_ms = 1\n", "max_target_bytes = 99999999999\n", "certificate = \"\"\n"}) {
    auto r = load(bad);
    REQUIRE_FALSE(r.ok());
    CHECK_MESSAGE(r.error().reason == "config_bad_value", bad);
    CHECK_MESSAGE(r.error().message.find("http.") != std::string::npos, r.error().message);
  }
  auto typo = load("serve_retraced = true\n");
  REQUIRE_FALSE(typo.ok());
  CHECK(typo.error().reason == "config_unknown_key");
}

TEST_CASE("[metrics] listen: empty by default, round trip and refusals") {
  TempDir dir;
  Config c = Config::defaults("IPSL", Tier::tier2);
  CHECK(c.metrics.listen.empty());
  CHECK(c.render_toml().find("[metrics]\n") != std::string::npos);
  test::write_file(dir / "config.toml", c.render_toml());
  auto same = Config::load(dir / "config.toml", dir.path());
  REQUIRE_MESSAGE(same.ok(), same.error().message);
  CHECK(same->metrics.listen.empty());
  c.metrics.listen = "10.1.0.5:9100";
  test::write_file(dir / "config.toml", c.render_toml());
  auto loaded = Config::load(dir / "config.toml", dir.path());
  REQUIRE_MESSAGE(loaded.ok(), loaded.error().message);
  CHECK(loaded->metrics.listen == "10.1.0.5:9100");

  auto load = [&](const std::string& metrics) {
    test::write_file(dir / "config.toml", "[node]\nsite = \"X\"\n[metrics]\n" + metrics);
    return Config::load(dir / "config.toml", dir.path());
  };
  for (const char* bad : {"listen = \"nohost\"\n", "listen = \"host:\"\n", "listen = 9100\n"}) {
    auto r = load(bad);
    REQUIRE_FALSE(r.ok());
    CHECK_MESSAGE(r.error().reason == "config_bad_value", bad);
    CHECK_MESSAGE(r.error().message.find("metrics.") != std::string::npos, r.error().message);
  }
  auto typo = load("listn = \"127.0.0.1:9100\"\n");
  REQUIRE_FALSE(typo.ok());
  CHECK(typo.error().reason == "config_unknown_key");
}
