// ManifestFactory: valid, realistic CMIP6 records for tests and benches — dataset ids
// built from the real controlled vocabularies (source_id with an institution its CV
// entry lists, experiment_id with one of its activities and sub-experiments), vYYYYMMDD
// versions, files named by the CMIP6 file-name template, and the bencoded BitTorrent v2
// info dict of exactly those files. Plus the keys and roster of a test federation.
//
// Contract
// - Setup code: loading a missing or malformed CV file throws std::runtime_error.
// - Deterministic: everything random comes from the std::mt19937_64 the caller passes.
// - Const methods are thread-safe (the bench generates on several threads).
// - Does not depend on doctest, so bench/catalog_bench.cpp compiles it in directly.
#pragma once

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "fedswarm/protocol/Envelope.hpp"
#include "fedswarm/protocol/Manifest.hpp"
#include "fedswarm/protocol/Roster.hpp"
#include "fedswarm/protocol/SigningKey.hpp"

namespace fedswarm::test {

// The parts of the CMIP6 CVs the generators need.
struct Cmip6Vocabulary {
  struct Source {
    std::string id;
    std::vector<std::string> institutions;
  };
  struct Experiment {
    std::string id;
    std::vector<std::string> activities;
    std::vector<std::string> sub_experiments;  // "none" = no sub-experiment prefix
  };
  std::vector<Source> sources;
  std::vector<Experiment> experiments;
  std::vector<std::string> tables;
  std::vector<std::string> grid_labels;

  static Cmip6Vocabulary load(const std::filesystem::path& cv_dir);
  const Source* source(std::string_view id) const;
  const Experiment* experiment(std::string_view id) const;
};

// One CMIP6 dataset (the facets of its DRS id).
struct DatasetSpec {
  std::string activity;
  std::string institution;
  std::string source;
  std::string experiment;
  std::string sub_experiment = "none";
  std::string variant = "r1i1p1f1";
  std::string table = "Amon";
  std::string variable = "tas";
  std::string grid = "gn";

  std::string member_id() const;
  std::string dataset_id() const;
  // Every DRS facet (incl. member_id's parts) as manifest facets, one value each.
  std::vector<Facet> drs_facets() const;
};

class ManifestFactory {
 public:
  explicit ManifestFactory(const std::filesystem::path& cv_dir);
  const Cmip6Vocabulary& vocabulary() const { return cv_; }

  // A random dataset whose id passes the CMIP6 template's constraints.
  DatasetSpec random_dataset(std::mt19937_64& rng) const;
  // A manifest of `spec` at `version` with `files` files (1 for fixed-field tables,
  // whose file names have no time range), the DRS facets plus `extra`, and its info
  // dict. `supersedes` may be empty.
  Manifest make(const DatasetSpec& spec, const std::string& version, std::size_t files, std::mt19937_64& rng,
                std::vector<Facet> extra = {}, const std::string& supersedes = {}) const;

 private:
  Cmip6Vocabulary cv_;
};

// "vYYYYMMDD" of the day `day` days after 2015-01-01 (a real calendar date).
std::string version_string(int day);
// The bencoded BitTorrent v2 info dict of `m`'s files: name = m.version, piece length
// 16 KiB, private; "pieces root" from `roots` (one per file, ignored for empty files).
Bytes info_dict_for(const Manifest& m, const std::vector<Sha256>& roots);

// A test federation: the authority, publishers granted all of CMIP6 (or the listed
// institutions), and member nodes with sites.
struct FederationKeys {
  SigningKey authority = SigningKey::generate();
  // Envelope of roster `r` as record `seq` of the authority's log.
  Envelope roster(std::uint64_t seq, const Roster& r) const;
};
RosterMember member(const SigningKey& key, std::string site, Tier tier = Tier::tier2);
PublisherGrant grant(const SigningKey& key, std::vector<std::string> institutions = {});
Roster make_roster(std::uint64_t serial, std::vector<RosterMember> members, std::vector<PublisherGrant> grants,
                   std::int64_t issued_at = 1'700'000'000, std::int64_t expires_at = 4'000'000'000);

}  // namespace fedswarm::test
