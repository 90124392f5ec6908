// CatalogGossipStore: the GossipStore of a node — gossip over its LMDB `Catalog`.
//
// - `ingest` verifies the batch's signatures in parallel on a small internal thread pool
//   (the calling thread takes part), then applies the records that verified with one
//   `Catalog::ingest_batch(..., signatures_checked=true)` (one write transaction). A
//   record whose signature fails is refused with reason "bad_signature" and never
//   reaches the catalog. A record the version vector already covers is compared with the
//   stored one: the same signature is a duplicate (no signature check: relays of known
//   records are the common case); a different one is refused, "bad_signature" if it does
//   not verify, else "seq_conflict" (the author signed two records under one seq).
// - `authority` is the catalog's pinned authority key (zero until pinned).
// - Roster changes: a roster record that arrives by gossip and is newer becomes the
//   catalog's current roster (CatalogIngest); `roster_serial` is the current serial and
//   `roster_changed` says, once, that it grew since the last call, so the daemon can
//   refresh its Membership (`Membership::set_roster(*catalog.roster())`).
//
// Contract
// - Not thread-safe: one owner thread (the daemon's gossip thread, or the simulation)
//   calls every method; the pool's threads only verify signatures inside `ingest`.
// - The catalog must outlive the store.
// - Errors: GossipStore has no error channel, so a catalog failure (`io`) reads as "no
//   records" (`version_vector`, `records_after`) or refuses the whole batch with the
//   catalog's error (`ingest`; Gossip does not punish a peer for `io`). The last one is
//   kept in `last_error` and counted in `io_errors`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "gossip/Gossip.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

struct CatalogGossipStoreOptions {
  // Threads verifying signatures, the calling thread included: 0 = the hardware's
  // concurrency, 1 = on the calling thread only (no pool).
  unsigned verify_threads = 0;
  // Unix seconds given to the catalog's receipt rules (roster expiry); empty = the
  // system clock.
  std::function<std::int64_t()> now;
};

class CatalogGossipStore final : public GossipStore {
 public:
  explicit CatalogGossipStore(Catalog& catalog, CatalogGossipStoreOptions options = {});
  ~CatalogGossipStore() override;
  CatalogGossipStore(const CatalogGossipStore&) = delete;
  CatalogGossipStore& operator=(const CatalogGossipStore&) = delete;

  VersionVector version_vector() override;
  std::vector<Envelope> records_after(const PublicKey& author, std::uint64_t after, std::size_t max_records,
                                      std::size_t max_bytes) override;
  std::vector<IngestResult> ingest(const std::vector<Envelope>& records) override;
  PublicKey authority() override;

  // The current roster's serial (0 = none).
  std::uint64_t roster_serial() const { return roster_serial_; }
  // True once after `ingest` made a newer roster current (and not again until the next).
  bool roster_changed();
  // Threads verifying signatures, the caller included.
  unsigned verify_threads() const;

  std::uint64_t io_errors() const { return io_errors_; }
  const std::optional<Error>& last_error() const { return last_error_; }

 private:
  class Pool;

  void failed(const Error& e);
  void refresh_roster_serial();
  std::int64_t now() const;

  Catalog& catalog_;
  CatalogGossipStoreOptions options_;
  std::unique_ptr<Pool> pool_;
  PublicKey authority_;
  std::uint64_t roster_serial_ = 0;
  std::uint64_t reported_serial_ = 0;
  std::uint64_t io_errors_ = 0;
  std::optional<Error> last_error_;
};

}  // namespace fedswarm
