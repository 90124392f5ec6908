// CatalogWorld: a catalog in a temporary directory with a small federation around it —
// the authority (pinned, roster 1 ingested), three publishers with sites, a Tier-1 and a
// Tier-2 node — and helpers that sign the next record of any key. Shared by the
// storage tests.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <memory>

#include "ManifestFactory.hpp"
#include "TestSupport.hpp"
#include "fedswarm/protocol/Claim.hpp"
#include "fedswarm/protocol/ReplicaRecord.hpp"
#include "fedswarm/protocol/Retraction.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm::test {

inline const ManifestFactory& factory() {
  static const ManifestFactory f(cv_dir());
  return f;
}

inline DatasetSpec ipsl_tas() {
  DatasetSpec s;
  s.activity = "CMIP";
  s.institution = "IPSL";
  s.source = "IPSL-CM6A-LR";
  s.experiment = "historical";
  s.table = "Amon";
  s.variable = "tas";
  s.grid = "gr";
  return s;
}

inline DatasetSpec ncar_pr() {
  DatasetSpec s;
  s.activity = "CMIP";
  s.institution = "NCAR";
  s.source = "CESM2";
  s.experiment = "historical";
  s.table = "Amon";
  s.variable = "pr";
  s.grid = "gn";
  return s;
}

// The version vector entry of `key` (0 if absent).
inline std::uint64_t seq_of(Catalog& cat, const PublicKey& key) {
  auto vv = cat.version_vector();
  REQUIRE(vv.ok());
  auto it = vv->find(key);
  return it == vv->end() ? 0 : it->second;
}

struct CatalogWorld {
  static constexpr std::int64_t kNow = 1'750'000'000;

  TempDir dir{"fedswarm-catalog"};
  FederationKeys fed;
  SigningKey ipsl = SigningKey::generate();   // publisher granted IPSL only, site "ipsl"
  SigningKey ncar = SigningKey::generate();   // publisher granted all of CMIP6, site "ncar"
  SigningKey dkrz = SigningKey::generate();   // Tier-1 node, site "dkrz", granted all of CMIP6
  SigningKey stranger = SigningKey::generate();  // in no roster
  std::unique_ptr<Catalog> cat;
  std::map<PublicKey, std::uint64_t> last_seq;
  std::mt19937_64 rng{42};

  explicit CatalogWorld(std::uint64_t initial_map_bytes = 64u << 20, bool with_roster = true) {
    REQUIRE(crypto_init());
    CatalogOptions o;
    o.dir = dir.path() / "catalog";
    o.initial_map_bytes = initial_map_bytes;
    auto c = Catalog::open(o, ProjectRegistry::builtin());
    REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
    cat = std::move(*c);
    REQUIRE(cat->pin_authority(fed.authority.public_key()).ok());
    if (with_roster) {
      auto r = ingest(roster_record(roster(1)));
      REQUIRE(r.outcome == IngestOutcome::stored);
    }
  }

  Roster roster(std::uint64_t serial, std::int64_t expires_at = 4'000'000'000) const {
    return make_roster(serial,
                       {member(ipsl, "ipsl"), member(ncar, "ncar"), member(dkrz, "dkrz", Tier::tier1)},
                       {grant(ipsl, {"IPSL"}), grant(ncar), grant(dkrz)}, 1'700'000'000, expires_at);
  }

  Envelope sign(const SigningKey& key, RecordKind kind, Bytes body) {
    std::uint64_t seq = ++last_seq[key.public_key()];
    return Envelope::sign(key, seq, kind, std::move(body));
  }
  Envelope roster_record(const Roster& r) { return sign(fed.authority, RecordKind::roster, r.encode()); }
  Envelope manifest_record(const SigningKey& key, const Manifest& m) { return sign(key, RecordKind::manifest, m.encode()); }
  Envelope retraction_record(const SigningKey& key, const std::string& dataset_id, const std::string& version) {
    Retraction r;
    r.dataset_id = dataset_id;
    r.version = version;
    r.reason = "wrong units";
    r.errata_id = "5b2d4b5a-1f80-4a1e-9d0b-7bd3e4b5f0a1";
    r.retracted_at = kNow;
    return sign(key, RecordKind::retraction, r.encode());
  }

  Manifest manifest(const DatasetSpec& spec, const std::string& version, std::size_t files = 4) {
    return factory().make(spec, version, files, rng);
  }

  IngestResult ingest(const Envelope& env) {
    auto r = cat->ingest(env, kNow);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return *r;
  }
  IngestResult publish(const SigningKey& key, const Manifest& m) { return ingest(manifest_record(key, m)); }

  VersionInfo version(const std::string& instance_id) {
    auto v = cat->version(instance_id);
    REQUIRE(v.ok());
    REQUIRE_MESSAGE(v->has_value(), "no version " << instance_id);
    return **v;
  }
};

}  // namespace fedswarm::test
