// CatalogGossipStore: the GossipStore of a node — gossip over its LMDB `Catalog`, with
// every catalog access off the owner's thread (DESIGN §2: the io thread never waits on
// disk, LMDB writes or signature checks).
//
// - version_vector: held in memory — the catalog's as of the last commit the store
//   heard of, advanced over records queued for writing: a record queued right after
//   the held seq counts as held, so a peer's next digest does not ask for it again
//   while it waits to be written (one that is then refused drops out at the next
//   update, and anti-entropy asks for it again).
// - read: records_after per range within the budget, on the store's reader thread.
// - ingest: a CatalogWriter (signature checks on a pool, pipelined with group commits
//   on its write thread).
// - After each commit the writer's thread reads the new version vector (and the roster,
//   if a newer one became current) and posts them to the owner with the ids the commit
//   touched (`on_stored`). `refresh` re-reads the version vector after records were
//   appended by someone else (the CLI, the Tier-1 duty, placement).
// - Backpressure: `saturated()` / `on_saturation`: the writer's queue is over its cap
//   (stop reading from peers) or back under half of it.
//
// Inline mode (`post` empty): no threads — every call completes on the caller's thread
// before it returns (the gossip simulation, tests).
//
// Contract: every method and every completion on the owner's thread (the daemon's io
// thread); `post` must hand a function to that thread. Completions arriving after
// `stop` or destruction are dropped. Catalog failures: GossipStore has no error
// channel, so a failed read reads as "no records" and a failed write refuses the
// batch's records with the catalog's error (Gossip does not punish a peer for `io`);
// both are counted in `io_errors` and kept in `last_error`.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "gossip/CatalogWriter.hpp"
#include "gossip/Gossip.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

struct CatalogGossipStoreOptions {
  // Threads verifying signatures, the verify stage's own included: 0 = one per core.
  unsigned verify_threads = 0;
  // Records queued for writing above which the store is saturated.
  std::size_t max_queued_records = 40'000;
  // Unix seconds given to the catalog's receipt rules (roster expiry); empty = the
  // system clock.
  std::function<std::int64_t()> now;
  // Hands a function to the owner's thread; empty = inline mode (see above).
  std::function<void(std::function<void()>)> post;
};

class CatalogGossipStore final : public GossipStore {
 public:
  CatalogGossipStore(Catalog& catalog, CatalogGossipStoreOptions options = {});
  ~CatalogGossipStore() override;
  CatalogGossipStore(const CatalogGossipStore&) = delete;
  CatalogGossipStore& operator=(const CatalogGossipStore&) = delete;

  VersionVector version_vector() override;
  PublicKey authority() override;
  void read(std::vector<Range> ranges, std::size_t max_records, std::size_t max_bytes, ReadDone done) override;
  void ingest(std::vector<Envelope> records, IngestDone done) override;

  // Called on the owner's thread after each commit: the ids it touched, whether a newer
  // roster became current.
  void set_on_stored(std::function<void(const std::vector<std::string>& touched, bool roster_changed)> f);
  void set_on_saturation(std::function<void(bool saturated)> f);
  bool saturated() const { return saturated_; }
  std::size_t queued_records() const;

  // Re-reads the version vector (records appended outside the store); `done` (may be
  // empty) runs on the owner's thread once it is in.
  void refresh(std::function<void()> done = {});
  // The current roster's serial (0 = none), as of the last commit or refresh.
  std::uint64_t roster_serial() const { return roster_serial_; }
  // The roster that became current since the last call, once.
  std::optional<Roster> take_roster();
  // The committed version vector (without queued records).
  const VersionVector& committed() const { return committed_; }
  unsigned verify_threads() const;

  std::uint64_t io_errors() const { return io_errors_; }
  const std::optional<Error>& last_error() const { return last_error_; }
  CatalogWriter::Stats writer_stats() const;

  // Stops the threads; what is queued is refused. Idempotent.
  void stop();

 private:
  class Reader;
  struct Snapshot {
    std::optional<VersionVector> vv;
    std::optional<Roster> roster;
    std::optional<Error> error;
  };

  std::vector<Envelope> read_now(const std::vector<Range>& ranges, std::size_t max_records, std::size_t max_bytes,
                                 std::optional<Error>& error) const;
  Snapshot snapshot(bool with_roster) const;
  void apply(Snapshot s);
  void failed(const Error& e);
  void post(std::function<void()> f);
  std::int64_t now() const;

  Catalog& catalog_;
  CatalogGossipStoreOptions options_;
  std::unique_ptr<CatalogWriter> writer_;
  std::unique_ptr<Reader> reader_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);

  // Owner-thread state.
  VersionVector committed_;
  std::map<PublicKey, std::multiset<std::uint64_t>> queued_;
  PublicKey authority_;
  std::uint64_t roster_serial_ = 0;
  std::optional<Roster> new_roster_;
  bool saturated_ = false;
  std::uint64_t io_errors_ = 0;
  std::optional<Error> last_error_;
  std::function<void(const std::vector<std::string>&, bool)> on_stored_;
  std::function<void(bool)> on_saturation_;
};

}  // namespace fedswarm
