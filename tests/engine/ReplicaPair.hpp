// ReplicaPair: two node homes of one test federation — a publisher and a replica
// holder — with real catalogs, a published sample tree, and the publisher's records
// copied into the holder's catalog (what gossip would do). `place_replica` copies a
// version directory into the holder's DRS tree and records it complete, as the swarm
// engine would after a verified download.
//
// Test setup only (REQUIREs on failure); not thread-safe.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ManifestFactory.hpp"
#include "TestFederation.hpp"
#include "TestSupport.hpp"
#include "fedswarm/engine/NodeHome.hpp"
#include "fedswarm/engine/Publisher.hpp"
#include "fedswarm/engine/SampleTree.hpp"

namespace fedswarm::test {

// The local replica row of `id` (REQUIREs that there is one).
inline LocalReplica local_of(Catalog& c, const std::string& id) {
  auto l = c.local(id);
  REQUIRE(l.ok());
  REQUIRE(l->has_value());
  return **l;
}

class ReplicaPair {
 public:
  struct Node {
    std::optional<NodeHome> home;
    std::unique_ptr<Catalog> catalog;
    Catalog& cat() { return *catalog; }
  };

  explicit ReplicaPair(RetractionAction publisher_action = RetractionAction::keep,
                       RetractionAction holder_action = RetractionAction::keep, SampleSpec spec = small_spec(),
                       std::uint64_t seed = 11) {
    make_node(publisher_, "IPSL", publisher_action);
    make_node(holder_, "DKRZ", holder_action);
    Roster r = make_roster(1, {member(publisher_.home->key(), "IPSL"), member(holder_.home->key(), "DKRZ", Tier::tier1)},
                           {grant(publisher_.home->key())}, kTestNow - 100, kTestNow + 10 * 365 * 86400);
    Envelope env = keys_.roster(1, r);
    for (Node* n : {&publisher_, &holder_}) {
      REQUIRE(n->cat().pin_authority(keys_.authority.public_key()).ok());
      auto st = n->cat().import_roster(env, kTestNow);
      REQUIRE_MESSAGE(st.ok(), st.error().message);
    }
    auto written = write_sample_tree(archive(), seed, spec);
    REQUIRE_MESSAGE(written.ok(), written.error().message);
    sample_ = std::move(*written);
    PublishOptions o;
    o.paths = {archive()};
    o.now = kTestNow + 1000;
    auto report = Publisher(*publisher_.home, publisher_.cat()).run(o);
    REQUIRE_MESSAGE(report.ok(), report.error().message);
    REQUIRE(report->errors.empty());
    sync();
  }

  static SampleSpec small_spec() {
    SampleSpec s;
    s.datasets = 2;
    s.versions_per_dataset = 2;
    s.files_per_version = 2;
    s.file_size = 48 * 1024;  // > 16 KiB pieces: every file has a piece layer
    return s;
  }

  Node& publisher() { return publisher_; }
  Node& holder() { return holder_; }
  const std::vector<SampleVersion>& sample() const { return sample_; }
  std::filesystem::path archive() const { return tmp_ / "archive"; }
  const std::filesystem::path& tmp() const { return tmp_.path(); }

  // Copies every record of the publisher's log the holder lacks into the holder's catalog.
  void sync() { copy_records(publisher_, holder_); }

  // Copies every record of `from`'s own log that `to` lacks into `to`'s catalog.
  static void copy_records(Node& from, Node& to) {
    auto vv = to.cat().version_vector();
    REQUIRE(vv.ok());
    const PublicKey& author = from.home->key().public_key();
    std::uint64_t after = vv->count(author) ? vv->at(author) : 0;
    auto records = from.cat().records_after(author, after, 100000, 1u << 30);
    REQUIRE(records.ok());
    if (records->empty()) return;
    auto results = to.cat().ingest_batch(*records, kTestNow + 2000);
    REQUIRE(results.ok());
    for (const auto& r : *results) REQUIRE_MESSAGE(r.outcome == IngestOutcome::stored, (r.error ? r.error->message : ""));
  }

  // A second Tier-1 member at `site` (its own home and catalog, the publisher's records
  // in it): a new roster with the three of them is imported everywhere.
  Node& add_tier1(const std::string& site) {
    make_node(extra_, site, RetractionAction::keep);
    Roster r = make_roster(2,
                           {member(publisher_.home->key(), "IPSL"), member(holder_.home->key(), "DKRZ", Tier::tier1),
                            member(extra_.home->key(), site, Tier::tier1)},
                           {grant(publisher_.home->key())}, kTestNow - 100, kTestNow + 10 * 365 * 86400);
    Envelope env = keys_.roster(2, r);
    REQUIRE(extra_.cat().pin_authority(keys_.authority.public_key()).ok());
    for (Node* n : {&publisher_, &holder_, &extra_}) {
      auto st = n->cat().import_roster(env, kTestNow);
      REQUIRE_MESSAGE(st.ok(), st.error().message);
    }
    copy_records(publisher_, extra_);
    return extra_;
  }

  // Signs a retraction of `v` by its publisher and brings it to the holder.
  void retract(const SampleVersion& v, const std::string& reason = "wrong calendar") {
    Retraction r{v.dataset_id, v.version, reason, "2f6a7c4e-1d2b-4c3a-9e8f-0a1b2c3d4e5f", kTestNow + 3000};
    auto env = publisher_.cat().append_local(publisher_.home->key(), RecordKind::retraction, r.encode(), kTestNow + 3000);
    REQUIRE_MESSAGE(env.ok(), env.error().message);
    sync();
  }

  // The holder's DRS path of `v` (inside its data root).
  std::filesystem::path holder_dir(const SampleVersion& v) const {
    return holder_.home->config().data_root / std::filesystem::relative(v.directory, archive());
  }

  // Copies `v` into the holder's DRS tree and records a complete local replica.
  std::filesystem::path place_replica(const SampleVersion& v) {
    std::filesystem::path dir = holder_dir(v);
    std::filesystem::create_directories(dir.parent_path());
    std::filesystem::copy(v.directory, dir, std::filesystem::copy_options::recursive);
    LocalReplica l;
    l.instance_id = v.instance_id();
    l.state = LocalState::complete;
    l.path = dir.string();
    l.updated_at = kTestNow + 2500;
    REQUIRE(holder_.cat().put_local(l).ok());
    return dir;
  }

 private:
  void make_node(Node& n, const std::string& site, RetractionAction action) {
    Config c = Config::defaults(site, site == "IPSL" ? Tier::tier2 : Tier::tier1);
    c.on_retraction = action;
    auto h = NodeHome::init(tmp_ / site, c);
    REQUIRE_MESSAGE(h.ok(), h.error().message);
    n.home.emplace(std::move(*h));
    auto cat = n.home->open_catalog();
    REQUIRE_MESSAGE(cat.ok(), cat.error().message);
    n.catalog = std::move(*cat);
  }

  TempDir tmp_{"fedswarm-replica-pair"};
  FederationKeys keys_;
  Node publisher_, holder_, extra_;
  std::vector<SampleVersion> sample_;
};

}  // namespace fedswarm::test
