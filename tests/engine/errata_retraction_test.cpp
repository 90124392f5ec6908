// retract_errata: every listed version this key published is retracted with the errata's
// uid and title, in one transaction; the others are reported with the reason; a dry
// run and a second run change nothing. Plus the real issue's 2,747 versions at once.
#include <doctest/doctest.h>

#include <chrono>

#include "../storage/CatalogWorld.hpp"
#include "fedswarm/engine/ErrataRetraction.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

// The DRS facets of a CMIP6 dataset id (no sub-experiment: member_id is the variant).
DatasetSpec spec_of(const std::string& dataset_id) {
  std::vector<std::string> parts;
  std::size_t pos = 0;
  for (std::size_t dot; (dot = dataset_id.find('.', pos)) != std::string::npos; pos = dot + 1)
    parts.push_back(dataset_id.substr(pos, dot - pos));
  parts.push_back(dataset_id.substr(pos));
  REQUIRE(parts.size() == 9);
  DatasetSpec s;
  s.activity = parts[1];
  s.institution = parts[2];
  s.source = parts[3];
  s.experiment = parts[4];
  s.variant = parts[5];
  s.table = parts[6];
  s.variable = parts[7];
  s.grid = parts[8];
  REQUIRE(s.dataset_id() == dataset_id);
  return s;
}

ErrataIssue real_issue() {
  auto issue = ErrataIssue::load(fixtures_dir() / "errata" / "ipsl_versioning_errata.json");
  REQUIRE(issue.ok());
  return *issue;
}

std::uint64_t records(Catalog& c) {
  auto n = c.record_count();
  REQUIRE(n.ok());
  return *n;
}

}  // namespace

TEST_CASE("own versions are retracted with the errata id and title, the others are listed with the reason") {
  CatalogWorld w;
  ErrataIssue full = real_issue();
  // Six listed versions: three published by this key (one already retracted), one by
  // another publisher, two unknown here.
  ErrataIssue issue = full;
  issue.datasets.assign(full.datasets.begin(), full.datasets.begin() + 6);
  auto publish = [&](const SigningKey& key, const ErrataDataset& d) {
    auto r = w.publish(key, w.manifest(spec_of(d.dataset_id), d.version, 2));
    REQUIRE_MESSAGE(r.outcome == IngestOutcome::stored, (r.error ? r.error->message : ""));
  };
  for (int i : {0, 1, 2}) publish(w.ipsl, issue.datasets[i]);
  publish(w.ncar, issue.datasets[3]);
  w.ingest(w.retraction_record(w.ipsl, issue.datasets[2].dataset_id, issue.datasets[2].version));
  const std::uint64_t before = records(*w.cat);

  ErrataRetractionOptions o;
  o.now = CatalogWorld::kNow + 10;
  o.dry_run = true;
  std::size_t calls = 0;
  o.progress = [&](std::size_t done, std::size_t total) {
    ++calls;
    CHECK(done <= total);
    CHECK(total == 6);
  };
  auto dry = retract_errata(*w.cat, w.ipsl, issue, o);
  REQUIRE(dry.ok());
  CHECK_FALSE(dry->stored);
  CHECK(calls == 6);
  CHECK(records(*w.cat) == before);
  CHECK(w.version(issue.datasets[0].instance_id()).status != VersionStatus::retracted);
  REQUIRE(dry->items.size() == 6);
  CHECK(dry->count(ErrataOutcome::retract) == 2);
  CHECK(dry->items[2].outcome == ErrataOutcome::already_retracted);
  CHECK(dry->items[2].detail.find("wrong units") != std::string::npos);
  CHECK(dry->items[3].outcome == ErrataOutcome::not_publisher);
  CHECK(dry->items[3].detail == "published by ncar");
  CHECK(dry->items[4].outcome == ErrataOutcome::unknown);
  CHECK(dry->items[5].outcome == ErrataOutcome::unknown);

  o.dry_run = false;
  auto real = retract_errata(*w.cat, w.ipsl, issue, o);
  REQUIRE(real.ok());
  CHECK(real->stored);
  CHECK(records(*w.cat) == before + 2);
  for (int i : {0, 1}) {
    const auto& item = real->items[static_cast<std::size_t>(i)];
    CHECK(item.outcome == ErrataOutcome::retract);
    CHECK(item.seq > 0);
    auto v = w.version(issue.datasets[static_cast<std::size_t>(i)].instance_id());
    CHECK(v.status == VersionStatus::retracted);
    REQUIRE(v.retraction.has_value());
    CHECK(v.retraction->errata_id == issue.uid);
    CHECK(v.retraction->reason == issue.title);
    CHECK(v.retraction->retracted_at == o.now);
    CHECK(v.retraction->author == w.ipsl.public_key());
  }
  CHECK(real->items[0].seq + 1 == real->items[1].seq);
  CHECK(w.version(issue.datasets[3].instance_id()).status == VersionStatus::published);

  // Again: nothing left to retract, nothing stored, every own version reported as such.
  auto again = retract_errata(*w.cat, w.ipsl, issue, o);
  REQUIRE(again.ok());
  CHECK_FALSE(again->stored);
  CHECK(again->count(ErrataOutcome::already_retracted) == 3);
  CHECK(again->items[0].detail.find(issue.uid) != std::string::npos);
  CHECK(records(*w.cat) == before + 2);
}

TEST_CASE("the real issue at scale: 2,747 own versions retracted in one transaction") {
  CatalogWorld w;
  ErrataIssue issue = real_issue();
  std::vector<Envelope> manifests;
  manifests.reserve(issue.datasets.size());
  for (const auto& d : issue.datasets)
    manifests.push_back(w.manifest_record(w.ipsl, w.manifest(spec_of(d.dataset_id), d.version, 1)));
  auto stored = w.cat->ingest_batch(manifests, CatalogWorld::kNow);
  REQUIRE(stored.ok());
  for (const auto& r : *stored) REQUIRE_MESSAGE(r.outcome == IngestOutcome::stored, (r.error ? r.error->message : ""));

  ErrataRetractionOptions o;
  o.now = CatalogWorld::kNow + 10;
  auto start = std::chrono::steady_clock::now();
  auto report = retract_errata(*w.cat, w.ipsl, issue, o);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(report.ok());
  MESSAGE("retract_errata of " << issue.datasets.size() << " versions: " << ms << " ms");
  CHECK(report->count(ErrataOutcome::retract) == 2747);
  CHECK(seq_of(*w.cat, w.ipsl.public_key()) == 2 * 2747);
  SearchQuery latest;
  CHECK(w.cat->search(latest)->num_found == 0);
  SearchQuery retracted;
  retracted.all_versions = retracted.include_retracted = true;
  CHECK(w.cat->search(retracted)->num_found == 2747);
}
