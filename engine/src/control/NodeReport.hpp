// NodeReport: the JSON answers of the control socket's `status` and `peers` requests,
// built from a snapshot of the daemon's state (private to engine/). The CLI renders
// these objects as tables; `--json` prints them as they are.
//
// status: node_key, site, tier, listen, running, started_at (unix s), uptime_s,
//   records, authors, roster_serial, peers {up, suspect, down}, lag [{site, key,
//   behind, ahead}] (records the peer lacks / we lack, from its last digest),
//   refused {reason: count} (links and records), gossip {rounds, digests_*, records_*,
//   bytes_*}.
// peers: {"peers": [{key, site, tier, address, state, connected, last_seen_ms_ago,
//   records_sent, records_received, bytes_sent, bytes_received, backoff_ms, failures,
//   next_dial_in_ms, last_error, behind, ahead, heartbeat {...}}]}
//
// Contract: pure functions of the snapshot; called on the io thread.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "gossip/Gossip.hpp"
#include "gossip/Membership.hpp"

namespace fedswarm {

struct PeerTraffic {
  std::uint64_t bytes_in = 0, bytes_out = 0;
};

struct PeerSnapshot {
  PeerInfo info;
  PeerTraffic traffic;
  std::string address;
  std::optional<VersionVector> vector;  // from its last digest
};

struct NodeSnapshot {
  PublicKey node_key;
  std::string site;
  Tier tier = Tier::tier2;
  std::string listen;
  std::int64_t started_unix = 0;
  std::int64_t uptime_ms = 0;
  std::int64_t now_ms = 0;
  std::uint64_t roster_serial = 0;
  std::uint64_t records = 0;
  VersionVector vector;
  GossipStats gossip;
  std::map<std::string, std::uint64_t> link_refusals;
  std::vector<PeerSnapshot> peers;
};

nlohmann::json node_status_json(const NodeSnapshot& s);
nlohmann::json node_peers_json(const NodeSnapshot& s);

}  // namespace fedswarm
