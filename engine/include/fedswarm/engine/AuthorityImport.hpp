// AuthorityImport: bringing the federation authority's records (a roster file from
// `fedswarm federation roster`, or a retraction signed with --as-authority) into a
// node's catalog.
//
// Contract
// - The records must all be signed by one key. If the node has no authority pinned yet,
//   that key is pinned (trust on first use: the operator compares the printed key with
//   the one the authority published) in the catalog and in config.toml.
// - Records are ingested in order in one catalog transaction under the normal receipt
//   rules; records already present are ignored, so re-importing is harmless.
// - Errors: unauthorized (another authority is pinned, bad signature), invalid
//   (mixed authors, no roster in the file, the newest roster has expired), io.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "fedswarm/engine/NodeHome.hpp"

namespace fedswarm {

struct AuthorityImportResult {
  bool pinned_now = false;
  PublicKey authority;
  std::size_t stored = 0;      // records new to this catalog
  std::size_t duplicates = 0;  // records it already had
  std::optional<Roster> current;  // the roster in force after the import
};

Result<AuthorityImportResult> import_authority_records(NodeHome& home, Catalog& catalog,
                                                       std::span<const Envelope> records, std::int64_t now);

}  // namespace fedswarm
