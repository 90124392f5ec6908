#include "control/NodeReport.hpp"

namespace fedswarm {

namespace {

// Records one side holds beyond the other, summed over authors.
std::uint64_t missing(const VersionVector& have, const VersionVector& other) {
  std::uint64_t n = 0;
  for (const auto& [author, seq] : have) {
    auto it = other.find(author);
    std::uint64_t theirs = it == other.end() ? 0 : it->second;
    if (seq > theirs) n += seq - theirs;
  }
  return n;
}

nlohmann::json lag_json(const NodeSnapshot& s, const PeerSnapshot& p) {
  if (!p.vector) return {{"behind", nullptr}, {"ahead", nullptr}};
  return {{"behind", missing(s.vector, *p.vector)}, {"ahead", missing(*p.vector, s.vector)}};
}

}  // namespace

nlohmann::json node_status_json(const NodeSnapshot& s) {
  nlohmann::json refused = nlohmann::json::object();
  for (const auto& [reason, n] : s.link_refusals) refused[reason] = refused.value(reason, std::uint64_t{0}) + n;
  for (const auto& [reason, n] : s.gossip.refused) refused[reason] = refused.value(reason, std::uint64_t{0}) + n;
  std::uint64_t up = 0, suspect = 0, down = 0;
  nlohmann::json lag = nlohmann::json::array();
  for (const auto& p : s.peers) {
    switch (p.info.state) {
      case PeerState::up: ++up; break;
      case PeerState::suspect: ++suspect; break;
      case PeerState::down: ++down; break;
    }
    nlohmann::json l = lag_json(s, p);
    l["site"] = p.info.member.site;
    l["key"] = to_hex(p.info.member.key);
    lag.push_back(std::move(l));
  }
  const auto& g = s.gossip;
  return {{"running", true},
          {"node_key", to_hex(s.node_key)},
          {"site", s.site},
          {"tier", std::string(to_string(s.tier))},
          {"listen", s.listen},
          {"started_at", s.started_unix},
          {"uptime_s", s.uptime_ms / 1000},
          {"records", s.records},
          {"authors", s.vector.size()},
          {"roster_serial", s.roster_serial},
          {"peers", {{"up", up}, {"suspect", suspect}, {"down", down}}},
          {"lag", std::move(lag)},
          {"refused", std::move(refused)},
          {"gossip",
           {{"rounds", g.rounds},
            {"digests_sent", g.digests_sent},
            {"digests_received", g.digests_received},
            {"records_sent", g.records_sent},
            {"records_received", g.records_received},
            {"records_stored", g.records_stored},
            {"records_duplicate", g.records_duplicate},
            {"records_parked", g.records_parked},
            {"bytes_sent", g.bytes_sent},
            {"bytes_received", g.bytes_received}}}};
}

nlohmann::json node_peers_json(const NodeSnapshot& s) {
  nlohmann::json peers = nlohmann::json::array();
  for (const auto& p : s.peers) {
    const PeerInfo& i = p.info;
    auto sent = s.gossip.sent_to.find(i.member.key);
    auto received = s.gossip.received_from.find(i.member.key);
    nlohmann::json j = {
        {"key", to_hex(i.member.key)},
        {"site", i.member.site},
        {"tier", std::string(to_string(i.member.tier))},
        {"address", p.address},
        {"state", std::string(to_string(i.state))},
        {"connected", i.connected},
        {"last_seen_ms_ago", i.last_seen_ms ? nlohmann::json(s.now_ms - i.last_seen_ms) : nlohmann::json(nullptr)},
        {"records_sent", sent == s.gossip.sent_to.end() ? 0 : sent->second},
        {"records_received", received == s.gossip.received_from.end() ? 0 : received->second},
        {"bytes_sent", p.traffic.bytes_out},
        {"bytes_received", p.traffic.bytes_in},
        {"backoff_ms", i.backoff_ms},
        {"failures", i.failures},
        {"next_dial_in_ms", !i.connected && i.next_dial_ms > s.now_ms ? i.next_dial_ms - s.now_ms : 0},
        {"last_error", i.last_error}};
    j.update(lag_json(s, p));
    if (i.heartbeat)
      j["heartbeat"] = {{"free_capacity", i.heartbeat->free_capacity},
                        {"transfer_load", i.heartbeat->transfer_load},
                        {"software_version", i.heartbeat->software_version},
                        {"uptime_s", i.heartbeat->uptime_s},
                        {"roster_serial", i.heartbeat->roster_serial},
                        {"records_known", i.heartbeat->records_known}};
    peers.push_back(std::move(j));
  }
  return {{"peers", std::move(peers)}};
}

}  // namespace fedswarm
