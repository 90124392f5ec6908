// NodeMetrics: the figures `/metrics` serves and their rendering in the Prometheus text
// format (MetricsText). The daemon gathers them from what it already keeps in memory —
// a snapshot of the io thread's gossip, membership and link counters (taken on the io
// thread, like the control server's `status`), the replication loop's published view,
// the catalog's O(1) statistics (LMDB meta and table stats, never a scan), the HTTP
// servers' atomic counters and /proc/self — so a scrape costs the same at 1 M versions
// as at ten.
//
// Label sets are bounded: site names from the roster, refusal reasons, states,
// directions; never a dataset or version id.
//
// Contract: value types and pure functions, except `read_process_metrics` (reads
// /proc/self, any thread; fields it cannot read stay nullopt).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fedswarm/engine/ControlApi.hpp"
#include "fedswarm/storage/Catalog.hpp"
#include "http/HttpServer.hpp"
#include "replication/ReplicationLoop.hpp"

namespace fedswarm {

struct PeerMetrics {
  std::string site;
  std::string state;  // up, suspect, down
  bool connected = false;
  std::optional<std::uint64_t> behind, ahead;  // records the peer lacks / this node lacks
  std::uint64_t link_bytes_sent = 0, link_bytes_received = 0;
};

struct ProcessMetrics {
  std::optional<std::uint64_t> resident_bytes, virtual_bytes;
  std::optional<double> cpu_seconds;
  std::optional<std::uint64_t> open_fds, max_fds;
  std::optional<std::uint64_t> threads;
};

// Reads /proc/self/stat, /proc/self/fd and /proc/self/limits.
ProcessMetrics read_process_metrics();

struct NodeMetricsInputs {
  std::string version, commit;
  std::string site;
  Tier tier = Tier::tier2;
  std::int64_t started_at = 0;  // unix seconds
  // The io thread's snapshot.
  std::uint64_t roster_serial = 0, authors = 0, records_known = 0;
  GossipTotals gossip;
  std::uint64_t punishments = 0;
  std::map<std::string, std::uint64_t> records_refused, links_refused;  // by reason
  std::uint64_t queued_records = 0, written_records = 0, write_groups = 0;
  bool saturated = false;
  std::vector<PeerMetrics> peers;
  // The replication loop's latest view (null: none yet).
  std::shared_ptr<const ReplicationView> replication;
  std::optional<Catalog::Stats> catalog;
  std::optional<std::uint64_t> data_root_size;  // the data root's file system
  std::optional<HttpStats> http;                // the [http] server
  std::optional<HttpStats> metrics_http;        // the [metrics] listener, if separate
  ProcessMetrics process;
};

// The whole exposition, HELP and TYPE for each family.
std::string render_node_metrics(const NodeMetricsInputs& in);

}  // namespace fedswarm
