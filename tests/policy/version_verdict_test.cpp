#include <doctest/doctest.h>

#include "fedswarm/policy/VersionVerdict.hpp"

using namespace fedswarm;

namespace {
VersionInfo v(const std::string& version, VersionStatus status, bool latest) {
  VersionInfo i;
  i.dataset_id = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr";
  i.version = version;
  i.status = status;
  i.latest = latest;
  return i;
}
}  // namespace

TEST_CASE("the latest published version is current") {
  std::vector<VersionInfo> all{v("v20180101", VersionStatus::superseded, false), v("v20190101", VersionStatus::published, true)};
  auto verdict = decide_verdict(all[1].instance_id(), all[1], all);
  CHECK(verdict.verdict == Verdict::current);
  CHECK(verdict.latest_version == "v20190101");
}

TEST_CASE("an older version is superseded by the next one") {
  std::vector<VersionInfo> all{v("v20180101", VersionStatus::superseded, false), v("v20190101", VersionStatus::superseded, false),
                               v("v20200101", VersionStatus::published, true)};
  auto verdict = decide_verdict(all[0].instance_id(), all[0], all);
  CHECK(verdict.verdict == Verdict::superseded);
  CHECK(verdict.superseded_by == "v20190101");
  CHECK(verdict.latest_version == "v20200101");
  CHECK(verdict.summary.find("newest usable version is v20200101") != std::string::npos);
}

TEST_CASE("a retracted version says why, when, the errata id and what to use instead") {
  std::vector<VersionInfo> all{v("v20180101", VersionStatus::retracted, false), v("v20190101", VersionStatus::published, true)};
  all[0].retraction = RetractionInfo{{}, "wrong calendar", "2f6a7c4e", 1700000000};
  auto verdict = decide_verdict(all[0].instance_id(), all[0], all);
  CHECK(verdict.verdict == Verdict::retracted);
  CHECK(verdict.summary.find("2023-11-14") != std::string::npos);
  CHECK(verdict.summary.find("wrong calendar") != std::string::npos);
  CHECK(verdict.summary.find("errata 2f6a7c4e") != std::string::npos);
  CHECK(verdict.summary.find("v20190101") != std::string::npos);
}

TEST_CASE("superseded by a version that is itself retracted") {
  std::vector<VersionInfo> all{v("v20180101", VersionStatus::superseded, false), v("v20190101", VersionStatus::retracted, false)};
  all[1].retraction = RetractionInfo{{}, "bad", "", 1700000000};
  auto verdict = decide_verdict(all[0].instance_id(), all[0], all);
  CHECK(verdict.verdict == Verdict::superseded);
  CHECK(verdict.latest_version == "v20180101");
  CHECK(verdict.summary.find("still the newest usable version") != std::string::npos);
}

TEST_CASE("an unknown version") {
  auto verdict = decide_verdict("X.v20180101", std::nullopt, {});
  CHECK(verdict.verdict == Verdict::unknown);
}
