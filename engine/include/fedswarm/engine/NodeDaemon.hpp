// NodeDaemon: `fedswarm node run` — one node of the federation (DESIGN §4).
//
// What runs where
// - One Boost.Asio io_context, run by the thread that calls `run()` (the "io thread"),
//   owns everything that changes: the gossip listener and peer links (PeerLink), the
//   control socket (ControlServer), timers, Membership and Gossip. No other thread
//   touches them.
// - Signature verification of received records runs on a worker pool inside the
//   catalog adapter (CatalogGossipStore), called from the io thread, which waits for it;
//   catalog writes happen on the io thread in one LMDB transaction per received batch.
// - The swarm engine (SwarmEngine) is driven from the io thread too; on a Tier-1 node so
//   is the one-Tier-1-copy duty (TierOneDuty): it evaluates the rule with the links'
//   liveness every `[policy] evaluate_interval_ms` and soon after records arrive, signs
//   claims and releases (pushed to gossip at once) and fetches what this node claimed.
//   It does not act until liveness has settled after start (every member heard from,
//   or `[gossip] down_after_ms` passed), lest it take peers whose links are not up yet
//   for dead.
// - Control requests (ControlClient.hpp): status (with `capacity`: [node] capacity,
//   roster capacity, the data root's free space, and on a Tier-1 node committed bytes
//   and quota), peers, transfers, notify, resume, compliance (ComplianceReport JSON with
//   this node's liveness and transfer progress) and health (HealthReport JSON with the
//   live part). Every node serves compliance and health, whatever its tier.
// - CLI commands in other processes write the same catalog (LMDB is multi-process) and
//   poke the node through the control socket so it pushes their records at once; the
//   next gossip round finds them anyway.
//
// Lifecycle
// - `create` takes the home's lock (`<home>/node.lock`; a second node in the same home
//   is refused with `conflict`), opens the catalog, binds the gossip listener from
//   `[network] listen` (no fallback port: `io` error naming the setting) and the control
//   socket `<home>/control.sock` (0600).
// - `run` blocks until SIGINT/SIGTERM (or `stop()` from any thread); it then closes
//   links and sockets and returns 0. Every catalog change is a committed LMDB
//   transaction when it is applied, so stopping loses nothing.
// - Logs go to stderr and `<home>/logs/node.log`.
#pragma once

#include <memory>
#include <string>

#include "fedswarm/engine/NodeHome.hpp"

namespace fedswarm {

struct NodeRunOptions {
  std::string log_level = "info";  // trace, debug, info, warn, error
  bool log_to_stderr = true;
  std::string source_commit;  // for fedswarm_build_info on /metrics ("" = unknown)
};

class NodeDaemon {
 public:
  // `home` must outlive the daemon.
  static Result<std::unique_ptr<NodeDaemon>> create(const NodeHome& home, NodeRunOptions options);
  ~NodeDaemon();

  // Runs on the calling thread until stopped; returns the process exit status.
  int run();
  // Thread-safe and async-signal-unsafe: asks `run` to return.
  void stop();

 private:
  NodeDaemon();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fedswarm
