// RecentRetractions: the retractions this node saw most recently (received by gossip or
// written by its own CLI), for the dashboard. The node keeps only the instance ids of the
// last kCapacity retraction records it met; a listing reads those few versions from the
// catalog, so it costs the same at 1 M versions as at ten and never scans the catalog.
// Retractions from before the node started are not listed (the page says "since start").
//
// Contract
// - `note` may be called from any thread (the io thread notes records as they pass);
//   non-retraction records and undecodable bodies are ignored. `list` may be called from
//   any thread (HTTP workers); it reads the catalog, which must outlive the object.
// - `list` returns only versions whose retraction the catalog holds (a noted record the
//   catalog refused is not shown), newest retraction first, at most `limit` of them.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "fedswarm/protocol/Envelope.hpp"
#include "fedswarm/protocol/Result.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

class RecentRetractions {
 public:
  // Retraction records remembered: bounds a listing to this many point reads.
  static constexpr std::size_t kCapacity = 256;

  explicit RecentRetractions(const Catalog& catalog) : catalog_(catalog) {}

  void note(const Envelope& record);
  void note_instance(const std::string& instance_id);

  // {"retractions": [{instance_id, dataset_id, version, reason, errata_id, retracted_at,
  //   author, data_node}], "limit", "kept"}.
  Result<nlohmann::json> list(std::size_t limit) const;

 private:
  const Catalog& catalog_;
  mutable std::mutex mutex_;
  std::deque<std::string> ids_;  // newest first, distinct
};

}  // namespace fedswarm
