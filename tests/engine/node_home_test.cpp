#include <doctest/doctest.h>
#include <sys/stat.h>

#include "TestSupport.hpp"
#include "fedswarm/engine/FederationAuthority.hpp"
#include "fedswarm/engine/NodeHome.hpp"

using namespace fedswarm;
using fedswarm::test::TempDir;

TEST_CASE("init creates a home whose key is private and which opens again") {
  TempDir dir;
  auto home = NodeHome::init(dir / "node", Config::defaults("IPSL", Tier::tier2));
  REQUIRE(home.ok());
  struct stat st {};
  REQUIRE(::stat((dir / "node" / "node.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto again = NodeHome::open(dir / "node");
  REQUIRE(again.ok());
  CHECK(again->key().public_key() == home->key().public_key());
  CHECK(again->config().site == "IPSL");
  CHECK(std::filesystem::is_directory(again->config().data_root));
  CHECK(again->open_catalog().ok());
}

TEST_CASE("init refuses to overwrite a home and open refuses a readable key") {
  TempDir dir;
  REQUIRE(NodeHome::init(dir / "node", Config::defaults("IPSL", Tier::tier2)).ok());
  auto twice = NodeHome::init(dir / "node", Config::defaults("IPSL", Tier::tier2));
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().reason == "home_exists");

  ::chmod((dir / "node" / "node.key").c_str(), 0644);
  auto open = NodeHome::open(dir / "node");
  REQUIRE_FALSE(open.ok());
  CHECK(open.error().reason == "key_permissions");
  CHECK(open.error().message.find("chmod 600") != std::string::npos);

  auto none = NodeHome::open(dir / "missing");
  CHECK(none.error().reason == "no_home");
}

TEST_CASE("a failed init leaves nothing behind") {
  TempDir dir;
  auto bad = NodeHome::init(dir / "node", Config::defaults("", Tier::tier2));
  REQUIRE_FALSE(bad.ok());
  CHECK_FALSE(std::filesystem::exists(dir / "node" / "node.key"));
}

TEST_CASE("the federation authority signs consecutive records and keeps its state") {
  TempDir dir;
  auto a = FederationAuthority::init(dir / "auth", "fed");
  REQUIRE(a.ok());
  auto node = SigningKey::generate();
  RosterMember m;
  m.key = node.public_key();
  m.site = "IPSL";
  m.tier = Tier::tier1;
  m.endpoints = {"127.0.0.2:7400"};
  REQUIRE(a->add_member(m).ok());
  REQUIRE(a->grant(node.public_key(), {"CMIP6"}, {"IPSL"}).ok());
  REQUIRE(a->grant(node.public_key(), {"CMIP6"}, {"CNRM-CERFACS"}).ok());
  auto r1 = a->issue_roster(1000, 3600);
  REQUIRE(r1.ok());
  CHECK(r1->seq == 1);
  CHECK(r1->verify());
  auto roster = Roster::decode(r1->body);
  REQUIRE(roster.ok());
  CHECK(roster->serial == 1);
  CHECK(roster->expires_at == 4600);
  REQUIRE(roster->grants.size() == 1);
  CHECK(roster->grants[0].institutions == std::vector<std::string>{"CNRM-CERFACS", "IPSL"});
  CHECK(roster->may_publish(node.public_key(), "CMIP6", "IPSL"));
  CHECK_FALSE(roster->may_publish(node.public_key(), "CMIP6", "MOHC"));

  // Reopen: counters and draft survive, the next record continues the log.
  auto b = FederationAuthority::open(dir / "auth");
  REQUIRE(b.ok());
  CHECK(b->public_key() == a->public_key());
  CHECK(b->members().size() == 1);
  Retraction r;
  r.dataset_id = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr";
  r.version = "v20180803";
  r.reason = "test";
  auto ret = b->sign_retraction(r);
  REQUIRE(ret.ok());
  CHECK(ret->seq == 2);
  auto r2 = b->issue_roster(2000, 3600);
  CHECK(r2->seq == 3);
  CHECK(Roster::decode(r2->body)->serial == 2);

  // A key cannot belong to two sites.
  RosterMember other = m;
  other.site = "CNRM";
  CHECK(b->add_member(other).error().reason == "key_in_use");
}
