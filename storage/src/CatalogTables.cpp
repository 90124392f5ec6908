#include "CatalogTables.hpp"

#include <xxhash.h>

namespace fedswarm {

std::vector<LmdbEnv::TableSpec> CatalogTables::specs() {
  constexpr unsigned kDupInt = MDB_DUPSORT | MDB_DUPFIXED | MDB_INTEGERDUP;
  return {
      {"meta", 0, &meta},
      {"log", MDB_INTEGERKEY, &log},
      {"log_index", MDB_DUPSORT | MDB_DUPFIXED, &log_index},
      {"pending", 0, &pending},
      {"pending_count", 0, &pending_count},
      {"docs", MDB_INTEGERKEY, &docs},
      {"versions", MDB_INTEGERKEY | kDupInt, &versions},
      {"retractions", 0, &retractions},
      {"facets", 0, &facets},
      {"values", MDB_INTEGERKEY, &values},
      {"value_ids", 0, &value_ids},
      {"counts", 0, &counts},
      {"postings", MDB_INTEGERKEY | kDupInt, &postings},
      {"flags", 0, &flags},
      {"tracking", MDB_INTEGERKEY | kDupInt, &tracking},
      {"sha", MDB_INTEGERKEY | kDupInt, &sha},
      {"replicas", 0, &replicas},
      {"claims", 0, &claims},
      {"conflicts", 0, &conflicts},
      {"locals", 0, &locals},
      {"nodes", 0, &nodes},
      {"node_versions", 0, &node_versions},
      {"local_changes", MDB_INTEGERKEY, &local_changes, true},
      {"local_change_of", 0, &local_change_of, true},
  };
}

// Hashes only pick B-tree keys; every lookup compares the stored string, so a
// collision costs a row read, never a wrong answer.
std::uint64_t dataset_hash(std::string_view dataset_id) { return XXH3_64bits(dataset_id.data(), dataset_id.size()); }

std::uint64_t tracking_hash(std::string_view tracking_id) {
  return XXH3_64bits(tracking_id.data(), tracking_id.size());
}

std::uint64_t sha_prefix(const Sha256& digest) {
  std::uint64_t v;
  std::memcpy(&v, digest.data(), 8);
  return v;
}

bool split_instance_id(std::string_view instance_id, std::string_view& dataset_id, std::string_view& version) {
  auto dot = instance_id.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == instance_id.size()) return false;
  dataset_id = instance_id.substr(0, dot);
  version = instance_id.substr(dot + 1);
  return true;
}

}  // namespace fedswarm
