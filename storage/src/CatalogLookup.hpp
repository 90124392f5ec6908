// CatalogLookup: lookups shared by the ingest path and the read API (private to
// storage/): documents of a dataset, the document of an instance id, rows, the current
// roster. All functions work in any transaction (read or write) and return `corrupt`
// for damaged rows, `io` for LMDB failures.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "CatalogRows.hpp"
#include "CatalogTables.hpp"
#include "fedswarm/protocol/Roster.hpp"

namespace fedswarm {

struct DocVersion {
  std::uint32_t doc = 0;
  std::string version;
};

// Every document of `dataset_id`, in doc id (arrival) order.
Result<std::vector<DocVersion>> docs_of_dataset(LmdbTxn& txn, const CatalogTables& t, std::string_view dataset_id);
// The document of `instance_id` (dataset id + "." + version), if stored.
Result<std::optional<std::uint32_t>> doc_of_instance(LmdbTxn& txn, const CatalogTables& t, std::string_view instance_id);
// The row of `doc`; views point into the map (valid until the next write).
Result<DocRow> doc_row(LmdbTxn& txn, const CatalogTables& t, std::uint32_t doc);
Result<std::optional<RetractionInfo>> retraction_of(LmdbTxn& txn, const CatalogTables& t, std::string_view instance_id);
Result<PublicKey> pinned_authority(LmdbTxn& txn, const CatalogTables& t);
// A u64/u32 counter in `meta` (0 if absent).
Result<std::uint64_t> meta_u64(LmdbTxn& txn, const CatalogTables& t, std::string_view key);

// The current roster, decoded once per serial and shared by every transaction that
// sees the same serial. Thread-safe.
class RosterCache {
 public:
  struct Entry {
    std::uint64_t serial = 0;  // 0: no roster yet
    std::shared_ptr<const Roster> roster;
  };
  Result<Entry> get(LmdbTxn& txn, const CatalogTables& t);

 private:
  std::mutex mutex_;
  Entry entry_;
};

}  // namespace fedswarm
