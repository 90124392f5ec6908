#include "metrics/NodeMetrics.hpp"

#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "metrics/MetricsText.hpp"

namespace fedswarm {

ProcessMetrics read_process_metrics() {
  ProcessMetrics p;
  if (std::ifstream f("/proc/self/stat"); f) {
    std::string line;
    std::getline(f, line);
    // The command name (field 2) may hold spaces and parentheses: fields are counted
    // from after its closing parenthesis, which starts at field 3 (state).
    if (auto close = line.rfind(')'); close != std::string::npos) {
      std::istringstream rest(line.substr(close + 2));
      std::vector<std::string> fields;
      for (std::string x; rest >> x;) fields.push_back(std::move(x));
      // fields[0] = field 3; utime 14, stime 15, num_threads 20, vsize 23, rss 24.
      auto field = [&](std::size_t n) -> std::optional<std::uint64_t> {
        if (n < 3 || n - 3 >= fields.size()) return std::nullopt;
        try {
          return std::stoull(fields[n - 3]);
        } catch (...) {
          return std::nullopt;
        }
      };
      const long ticks = ::sysconf(_SC_CLK_TCK);
      const long page = ::sysconf(_SC_PAGESIZE);
      if (auto u = field(14), s = field(15); u && s && ticks > 0)
        p.cpu_seconds = static_cast<double>(*u + *s) / static_cast<double>(ticks);
      p.threads = field(20);
      p.virtual_bytes = field(23);
      if (auto r = field(24); r && page > 0) p.resident_bytes = *r * static_cast<std::uint64_t>(page);
    }
  }
  std::error_code ec;
  std::uint64_t fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++fds;
  if (!ec) p.open_fds = fds;
  if (std::ifstream f("/proc/self/limits"); f) {
    for (std::string line; std::getline(f, line);) {
      if (line.rfind("Max open files", 0) != 0) continue;
      std::istringstream s(line.substr(14));
      std::string soft;
      s >> soft;
      try {
        p.max_fds = std::stoull(soft);
      } catch (...) {
      }
    }
  }
  return p;
}

namespace {

void http_families(MetricsText& m, const std::optional<HttpStats>& main, const std::optional<HttpStats>& metrics) {
  std::vector<std::pair<std::string_view, const HttpStats*>> servers;
  if (main) servers.emplace_back("http", &*main);
  if (metrics) servers.emplace_back("metrics", &*metrics);
  if (servers.empty()) return;
  auto each = [&](auto get) {
    for (const auto& [name, s] : servers) m.sample(get(*s), {{"server", name}});
  };
  m.counter("fedswarm_http_connections_total", "HTTP connections accepted.");
  each([](const HttpStats& s) { return s.connections_accepted; });
  m.counter("fedswarm_http_connections_refused_total", "HTTP connections closed at once: over max_connections.");
  each([](const HttpStats& s) { return s.connections_refused; });
  m.gauge("fedswarm_http_open_connections", "HTTP connections open now.");
  each([](const HttpStats& s) { return s.connections_open; });
  m.counter("fedswarm_http_timeouts_total", "HTTP handshake, header, idle or write deadlines missed.");
  each([](const HttpStats& s) { return s.timeouts; });
  m.counter("fedswarm_http_responses_total", "HTTP responses by status class.");
  for (const auto& [name, s] : servers) {
    m.sample(s->responses_2xx, {{"server", name}, {"code", "2xx"}});
    m.sample(s->responses_3xx, {{"server", name}, {"code", "3xx"}});
    m.sample(s->responses_4xx, {{"server", name}, {"code", "4xx"}});
    m.sample(s->responses_5xx, {{"server", name}, {"code", "5xx"}});
  }
  m.counter("fedswarm_http_traversals_rejected_total", "File server paths refused for leaving the DRS tree.");
  each([](const HttpStats& s) { return s.traversals_rejected; });
  m.counter("fedswarm_http_file_sent_bytes_total", "File bytes sent by the file server.");
  each([](const HttpStats& s) { return s.file_bytes_sent; });
}

}  // namespace

std::string render_node_metrics(const NodeMetricsInputs& in) {
  MetricsText m;
  const std::string tier(to_string(in.tier));
  m.gauge("fedswarm_build_info", "The running fedswarm's version and source commit (always 1).")
      .sample(std::uint64_t{1}, {{"version", in.version}, {"commit", in.commit}});
  m.gauge("fedswarm_node_info", "This node's site and tier (always 1).")
      .sample(std::uint64_t{1}, {{"site", in.site}, {"tier", tier}});
  m.gauge("fedswarm_start_time_seconds", "When the node started, in unix seconds.").sample(in.started_at);
  m.gauge("fedswarm_roster_serial", "Serial of the roster in force.").sample(in.roster_serial);

  // --- catalog and gossip --------------------------------------------------------------------
  m.gauge("fedswarm_catalog_records", "Records in the catalog (sum of the version vector).").sample(in.records_known);
  m.gauge("fedswarm_catalog_authors", "Authors whose records the catalog holds.").sample(in.authors);
  if (in.catalog) {
    m.gauge("fedswarm_catalog_versions", "Dataset versions in the catalog.").sample(in.catalog->versions);
    m.gauge("fedswarm_catalog_size_bytes", "Size of the catalog's data file.").sample(in.catalog->file_bytes);
    m.gauge("fedswarm_catalog_map_size_bytes", "Size of the catalog's memory map.").sample(in.catalog->map_bytes);
  }
  const GossipTotals& g = in.gossip;
  m.counter("fedswarm_records_stored_total", "Records received from peers and stored.").sample(g.records_stored);
  m.counter("fedswarm_records_duplicate_total", "Records received that the catalog already held.")
      .sample(g.records_duplicate);
  m.counter("fedswarm_records_parked_total", "Records received ahead of their author's gap, held back.")
      .sample(g.records_parked);
  m.counter("fedswarm_records_refused_total", "Records refused, by reason.");
  for (const auto& [reason, n] : in.records_refused) m.sample(n, {{"reason", reason}});
  m.counter("fedswarm_links_refused_total", "Peer links refused, by reason.");
  for (const auto& [reason, n] : in.links_refused) m.sample(n, {{"reason", reason}});
  m.counter("fedswarm_gossip_punishments_total", "Peers punished for protocol faults.").sample(in.punishments);
  m.counter("fedswarm_gossip_rounds_total", "Gossip rounds run.").sample(g.rounds);
  m.counter("fedswarm_gossip_digests_total", "Gossip digests, by direction.")
      .sample(g.digests_sent, {{"direction", "sent"}})
      .sample(g.digests_received, {{"direction", "received"}});
  m.counter("fedswarm_gossip_records_total", "Records carried by gossip, by direction.")
      .sample(g.records_sent, {{"direction", "sent"}})
      .sample(g.records_received, {{"direction", "received"}});
  m.counter("fedswarm_gossip_bytes_total", "Encoded gossip message bytes, by direction.")
      .sample(g.bytes_sent, {{"direction", "sent"}})
      .sample(g.bytes_received, {{"direction", "received"}});
  m.gauge("fedswarm_catalog_writer_queued_records", "Records received and not yet written.").sample(in.queued_records);
  m.gauge("fedswarm_catalog_writer_saturated", "1 while reading from peers is paused (writer backpressure).")
      .sample(std::uint64_t{in.saturated ? 1u : 0u});
  m.counter("fedswarm_catalog_writer_records_total", "Records written by the catalog writer.")
      .sample(in.written_records);
  m.counter("fedswarm_catalog_writer_groups_total", "Write transactions of the catalog writer.")
      .sample(in.write_groups);

  // --- peers -----------------------------------------------------------------------------------
  std::map<std::string, std::uint64_t> states{{"up", 0}, {"suspect", 0}, {"down", 0}};
  for (const auto& p : in.peers) ++states[p.state];
  m.gauge("fedswarm_peers", "Roster peers by state (up, suspect, down).");
  for (const auto& [state, n] : states) m.sample(n, {{"state", state}});
  m.gauge("fedswarm_peer_up", "1 if the peer site is up, 0 if suspect or down.");
  for (const auto& p : in.peers) m.sample(std::uint64_t{p.state == "up" ? 1u : 0u}, {{"site", p.site}});
  m.gauge("fedswarm_peer_connected", "1 if a link to the peer site is open.");
  for (const auto& p : in.peers) m.sample(std::uint64_t{p.connected ? 1u : 0u}, {{"site", p.site}});
  m.gauge("fedswarm_peer_lag_records",
          "Records the peer site holds that this node lacks (version-vector lag, from its last digest).");
  for (const auto& p : in.peers)
    if (p.ahead) m.sample(*p.ahead, {{"site", p.site}});
  m.gauge("fedswarm_peer_behind_records", "Records this node holds that the peer site lacks (from its last digest).");
  for (const auto& p : in.peers)
    if (p.behind) m.sample(*p.behind, {{"site", p.site}});
  m.counter("fedswarm_peer_link_bytes_total", "Bytes over the links to a peer site, by direction.");
  for (const auto& p : in.peers) {
    m.sample(p.link_bytes_sent, {{"site", p.site}, {"direction", "sent"}});
    m.sample(p.link_bytes_received, {{"site", p.site}, {"direction", "received"}});
  }

  // --- replication: swarm, compliance, capacity -------------------------------------------------
  if (const ReplicationView* v = in.replication.get()) {
    m.gauge("fedswarm_subscriptions", "Subscriptions of this node.").sample(static_cast<std::uint64_t>(v->subscriptions));
    if (v->has_swarm) {
      m.gauge("fedswarm_swarm_transfers", "Transfers by state: fetching and seeding (active), paused.")
          .sample(v->fetching, {{"state", "fetching"}})
          .sample(v->seeding, {{"state", "seeding"}})
          .sample(v->paused, {{"state", "paused"}});
      std::map<std::string, std::uint64_t> activity{{"checking", 0},  {"downloading", 0}, {"verifying", 0},
                                                    {"seeding", 0},   {"paused", 0},      {"preparing", 0}};
      std::uint64_t down = 0, up = 0;
      std::int64_t down_rate = 0, up_rate = 0;
      for (const auto& t : v->transfers) {
        if (auto it = activity.find(t.activity); it != activity.end()) ++it->second;
        down += t.bytes_downloaded;
        up += t.bytes_uploaded;
        down_rate += t.download_rate;
        up_rate += t.upload_rate;
      }
      m.gauge("fedswarm_swarm_transfer_activity", "Transfers by what they are doing now.");
      for (const auto& [a, n] : activity) m.sample(n, {{"activity", a}});
      m.gauge("fedswarm_swarm_payload_bytes",
              "Payload bytes of the current transfers since they were added, by direction.")
          .sample(down, {{"direction", "down"}})
          .sample(up, {{"direction", "up"}});
      m.gauge("fedswarm_swarm_rate_bytes_per_second", "Payload rate of the current transfers, by direction.")
          .sample(down_rate, {{"direction", "down"}})
          .sample(up_rate, {{"direction", "up"}});
      const SwarmTotals& t = v->totals;
      m.counter("fedswarm_swarm_placements_total", "Verified copies placed in the DRS tree.").sample(t.placed);
      m.counter("fedswarm_swarm_hash_failures_total", "Pieces that failed their hash check.").sample(t.hash_failures);
      m.counter("fedswarm_swarm_verify_failures_total", "Files that did not match the publisher's checksums.")
          .sample(t.verify_failures);
      m.counter("fedswarm_swarm_local_faults_total", "Mismatches after every piece had passed (local corruption).")
          .sample(t.local_faults);
      m.counter("fedswarm_swarm_disk_errors_total", "File errors of the swarm (disk full, I/O errors).")
          .sample(t.file_errors);
      m.counter("fedswarm_swarm_stall_restarts_total", "Stalled transfers restarted.").sample(t.stall_restarts);
      m.counter("fedswarm_swarm_incomplete_finishes_total",
                "Downloads libtorrent reported finished with pieces missing, which were fetched again.")
          .sample(t.incomplete_finishes);
      m.counter("fedswarm_swarm_pieces_suggested_total",
                "Pieces this node, seeding, handed to one member fetcher each so that its uplink sends each once.")
          .sample(t.pieces_suggested);
      m.counter("fedswarm_swarm_placement_bytes_total",
                "Bytes placed, by check: read again for their SHA-256, or trusted from libtorrent's merkle checks.")
          .sample(t.bytes_rehashed, {{"check", "rehashed"}})
          .sample(t.bytes_trusted, {{"check", "trusted"}});
      m.gauge("fedswarm_swarm_banned_peers", "Swarm peers banned for bad data.")
          .sample(static_cast<std::uint64_t>(t.banned_peers.size()));
      m.gauge("fedswarm_swarm_held_versions", "Complete local versions that can be served (seeding on demand).")
          .sample(t.held);
      m.gauge("fedswarm_swarm_loaded_torrents", "Torrents loaded in the libtorrent session (fetches and seeds).")
          .sample(t.loaded);
      m.counter("fedswarm_swarm_seed_loads_total",
                "Seeds loaded, by cause: a peer's request (on demand), or a full read of a version without stored trees.")
          .sample(t.on_demand_loads, {{"cause", "request"}})
          .sample(t.full_checks, {{"cause", "full_check"}});
      m.counter("fedswarm_swarm_seed_unloads_total", "Seeds unloaded, by cause: idle, or evicted for room.")
          .sample(t.idle_unloads, {{"cause", "idle"}})
          .sample(t.evictions, {{"cause", "evicted"}});
      m.counter("fedswarm_swarm_foreign_connections_total",
                "Connections of non-members at the swarm port: refused (peers = members), served (peers = anyone), "
                "and dials to them closed (they are never dialled).")
          .sample(t.foreign_refused, {{"outcome", "refused"}})
          .sample(t.foreign_served, {{"outcome", "served"}})
          .sample(t.foreign_dials_refused, {{"outcome", "dial_refused"}});
    }
    const ComplianceSummary& c = v->compliance;
    m.gauge("fedswarm_compliance_versions", "Versions by their Tier-1 rule status.")
        .sample(c.compliant, {{"status", "compliant"}})
        .sample(c.pending, {{"status", "pending"}})
        .sample(c.violating, {{"status", "violating"}})
        .sample(c.exempt, {{"status", "exempt"}});
    m.gauge("fedswarm_compliance_blocked_versions", "Violating versions no Tier-1 member can take.").sample(c.blocked);
    m.gauge("fedswarm_compliance_violating_bytes", "Bytes of the violating versions.").sample(c.violating_bytes);
    m.gauge("fedswarm_compliance_oldest_violation_seconds", "Age of the oldest violation of the Tier-1 rule (0: none).")
        .sample(c.longest_violation);
    m.gauge("fedswarm_compliance_tier1_members", "Tier-1 members in the roster.").sample(c.tier1_members);
    m.gauge("fedswarm_compliance_rebuilding", "1 while the rule is judging every version (start, new roster).")
        .sample(std::uint64_t{v->rule_rebuilding ? 1u : 0u});
    m.counter("fedswarm_compliance_rounds_total", "Tier-1 rule rounds that judged something.").sample(v->rule_rounds);
    m.gauge("fedswarm_compliance_round_last_seconds", "Wall time of the latest Tier-1 rule round.")
        .sample(v->rule_round_last_ms / 1000.0);

    const CapacityStatus& cap = v->capacity;
    m.gauge("fedswarm_capacity_bytes", "[node] capacity (0: the data root's free space).").sample(cap.configured);
    if (cap.data_root_free)
      m.gauge("fedswarm_data_root_free_bytes", "Free bytes on the data root's file system.").sample(*cap.data_root_free);
    if (in.data_root_size)
      m.gauge("fedswarm_data_root_size_bytes", "Size of the data root's file system.").sample(*in.data_root_size);
    if (cap.committed)
      m.gauge("fedswarm_tier1_committed_bytes", "Bytes the Tier-1 rule has committed to this node.").sample(*cap.committed);
    if (cap.quota) m.gauge("fedswarm_tier1_quota_bytes", "Bytes the Tier-1 rule may commit to this node.").sample(*cap.quota);
    if (cap.backlog)
      m.gauge("fedswarm_tier1_backlog_bytes", "Bytes the Tier-1 rule assigned here, not yet held.").sample(*cap.backlog);
    if (cap.rule_fetches)
      m.gauge("fedswarm_tier1_queued_fetches", "Fetches the Tier-1 rule has queued at this node.").sample(*cap.rule_fetches);
  }

  http_families(m, in.http, in.metrics_http);

  // --- process ----------------------------------------------------------------------------------
  const ProcessMetrics& p = in.process;
  if (p.cpu_seconds) m.counter("fedswarm_process_cpu_seconds_total", "User and system CPU time.").sample(*p.cpu_seconds);
  if (p.resident_bytes) m.gauge("fedswarm_process_resident_memory_bytes", "Resident memory.").sample(*p.resident_bytes);
  if (p.virtual_bytes) m.gauge("fedswarm_process_virtual_memory_bytes", "Virtual memory.").sample(*p.virtual_bytes);
  if (p.open_fds) m.gauge("fedswarm_process_open_fds", "Open file descriptors.").sample(*p.open_fds);
  if (p.max_fds) m.gauge("fedswarm_process_max_fds", "Limit of open file descriptors.").sample(*p.max_fds);
  if (p.threads) m.gauge("fedswarm_process_threads", "Threads of the process.").sample(*p.threads);
  return m.take();
}

}  // namespace fedswarm
