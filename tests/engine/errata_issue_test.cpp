// ErrataIssue: the real ES-DOC issue parses into instance ids; every malformed shape is
// refused with a message naming what is wrong (and, from a file, the file).
#include <doctest/doctest.h>

#include "TestSupport.hpp"
#include "fedswarm/engine/ErrataIssue.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

std::filesystem::path real_issue() { return fixtures_dir() / "errata" / "ipsl_versioning_errata.json"; }

std::string refused(const std::string& json) {
  auto r = ErrataIssue::parse(json);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::invalid);
  CHECK(r.error().reason == "errata_malformed");
  return r.error().message;
}

}  // namespace

TEST_CASE("the real IPSL errata issue: uid, title, severity and 2,747 versions as instance ids") {
  auto issue = ErrataIssue::load(real_issue());
  REQUIRE_MESSAGE(issue.ok(), (issue.ok() ? "" : issue.error().message));
  CHECK(issue->uid == "6838a44b-48eb-89a3-8090-c9315a79f3de");
  CHECK(issue->title == "Versioning errors for 1pctCO2 and abrupt-4xCO2");
  CHECK(issue->severity == "critical");
  CHECK(issue->status == "resolved");
  CHECK(issue->datasets.size() == 2747);
  CHECK(issue->duplicates == 0);
  const auto& first = issue->datasets.front();
  CHECK(first.listed == "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.1pctCO2.r1i1p1f1.3hr.clt.gr#20180605");
  CHECK(first.dataset_id == "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.1pctCO2.r1i1p1f1.3hr.clt.gr");
  CHECK(first.version == "v20180605");
  CHECK(first.instance_id() == "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.1pctCO2.r1i1p1f1.3hr.clt.gr.v20180605");
  for (const auto& d : issue->datasets) {
    CHECK(d.version.size() == 9);
    CHECK(d.listed == d.dataset_id + "#" + d.version.substr(1));
  }
}

TEST_CASE("an entry: ID#YYYYMMDD or ID#vYYYYMMDD, nothing else") {
  CHECK(parse_errata_dataset("CMIP6.A.B#v20180605")->instance_id() == "CMIP6.A.B.v20180605");
  CHECK(parse_errata_dataset("CMIP6.A.B#20180605")->version == "v20180605");
  for (const char* bad : {"CMIP6.A.B", "#20180605", "CMIP6.A.B#2018060", "CMIP6.A.B#201806051", "CMIP6.A.B#2018O605",
                          "CMIP6.A.B#", "CMIP6.A B#20180605", "CMIP6.A.B.#20180605", "CMIP6/A.B#20180605",
                          "CMIP6.A.B#20180605#1"}) {
    INFO(bad);
    CHECK_FALSE(parse_errata_dataset(bad).ok());
  }
}

TEST_CASE("a bare issue object is accepted, a version listed twice counts once") {
  auto issue = ErrataIssue::parse(
      R"({"uid": "u-1", "title": "t", "datasets": ["CMIP6.A.B#20180605", "CMIP6.A.C#20180605", "CMIP6.A.B#v20180605"]})");
  REQUIRE(issue.ok());
  CHECK(issue->datasets.size() == 2);
  CHECK(issue->duplicates == 1);
  CHECK(issue->severity.empty());
}

TEST_CASE("a malformed issue is refused with what is wrong") {
  CHECK(refused("{").find("not valid JSON") != std::string::npos);
  CHECK(refused("[1]").find("not a JSON object") != std::string::npos);
  CHECK(refused(R"({"issue": []})").find("\"issue\" is a array") != std::string::npos);
  CHECK(refused(R"({"issue": {"title": "t", "datasets": ["A.B#20180605"]}})").find("\"uid\"") != std::string::npos);
  CHECK(refused(R"({"issue": {"uid": 7, "title": "t", "datasets": ["A.B#20180605"]}})").find("\"uid\" is a number") !=
        std::string::npos);
  CHECK(refused(R"({"issue": {"uid": "u", "title": "", "datasets": ["A.B#20180605"]}})").find("\"title\" is empty") !=
        std::string::npos);
  CHECK(refused(R"({"issue": {"uid": "u", "title": "t"}})").find("\"datasets\"") != std::string::npos);
  CHECK(refused(R"({"issue": {"uid": "u", "title": "t", "datasets": "A.B#20180605"}})").find("not an array") !=
        std::string::npos);
  CHECK(refused(R"({"issue": {"uid": "u", "title": "t", "datasets": []}})").find("lists no dataset") !=
        std::string::npos);
  auto entry = refused(R"({"issue": {"uid": "u", "title": "t", "datasets": ["A.B#20180605", "A.C-20180605"]}})");
  CHECK(entry.find("datasets[1]") != std::string::npos);
  CHECK(entry.find("A.C-20180605") != std::string::npos);
  CHECK(refused(R"({"issue": {"uid": "u", "title": "t", "datasets": ["A.B#20180605", 3]}})").find("datasets[1] is a number") !=
        std::string::npos);
  // Too long for a signed record's errata id: refused before anything is signed.
  CHECK(refused(R"({"uid": ")" + std::string(300, 'x') + R"(", "title": "t", "datasets": ["A.B#20180605"]})")
            .find("uid") != std::string::npos);
}

TEST_CASE("load names the file in every error") {
  TempDir dir{"fedswarm-errata"};
  auto bad = dir / "bad.json";
  write_file(bad, R"({"issue": {"uid": "u", "title": "t", "datasets": ["nope"]}})");
  auto r = ErrataIssue::load(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().reason == "errata_malformed");
  CHECK(r.error().message.find(bad.string()) == 0);
  CHECK(r.error().message.find("datasets[0]") != std::string::npos);
  auto missing = ErrataIssue::load(dir / "missing.json");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == Errc::not_found);
  CHECK(missing.error().message.find("missing.json") != std::string::npos);
}
