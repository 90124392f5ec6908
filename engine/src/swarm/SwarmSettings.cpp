#include "swarm/SwarmSettings.hpp"

#include <libtorrent/alert.hpp>
#include <libtorrent/session_handle.hpp>

#include <algorithm>
#include <charconv>
#include <limits>
#include <thread>

namespace fedswarm {

Result<lt::address> parse_swarm_ip(std::string_view ip) {
  lt::error_code ec;
  lt::address a = lt::make_address(std::string(ip), ec);
  if (ec || ip.empty())
    return make_error(Errc::invalid, "swarm_bad_ip",
                      "'" + std::string(ip) + "' is not an IP address; the swarm listens on the IP of [network] listen");
  return a;
}

Result<lt::tcp::endpoint> parse_swarm_endpoint(std::string_view endpoint) {
  auto bad = [&] {
    return make_error(Errc::invalid, "swarm_bad_endpoint",
                      "'" + std::string(endpoint) + "' is not a swarm endpoint; expected ip:port or [ipv6]:port");
  };
  auto colon = endpoint.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == endpoint.size()) return bad();
  std::string_view host = endpoint.substr(0, colon);
  std::string_view port_text = endpoint.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  auto [end, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (err != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) return bad();
  lt::error_code ec;
  lt::address a = lt::make_address(std::string(host), ec);
  if (ec) return bad();
  return lt::tcp::endpoint(a, static_cast<std::uint16_t>(port));
}

std::string endpoint_string(const lt::address& ip, std::uint16_t port) {
  return ip.is_v6() ? "[" + ip.to_string() + "]:" + std::to_string(port) : ip.to_string() + ":" + std::to_string(port);
}

std::string endpoint_string(const lt::tcp::endpoint& ep) { return endpoint_string(ep.address(), ep.port()); }

lt::settings_pack swarm_settings(const SwarmSettingsInput& in) {
  using sp = lt::settings_pack;
  lt::settings_pack p;
  p.set_str(sp::listen_interfaces, endpoint_string(in.ip, in.port));
  // Peers are told apart by address: connections must leave from our own address, not
  // whatever the routing table picks (on loopback that would be 127.0.0.1 for every node).
  p.set_str(sp::outgoing_interfaces, in.ip.is_unspecified() ? std::string() : in.ip.to_string());
  // The configured port or nothing: a node listening elsewhere would be unreachable.
  p.set_int(sp::max_retry_port_bind, 0);
  p.set_bool(sp::listen_system_port_fallback, false);
  p.set_bool(sp::enable_dht, false);
  p.set_str(sp::dht_bootstrap_nodes, "");
  p.set_bool(sp::enable_lsd, false);
  p.set_bool(sp::enable_upnp, false);
  p.set_bool(sp::enable_natpmp, false);
  // Measured on loopback: uTP is ~20x slower than TCP.
  p.set_bool(sp::enable_outgoing_utp, false);
  p.set_bool(sp::enable_incoming_utp, false);
  p.set_bool(sp::enable_outgoing_tcp, true);
  p.set_bool(sp::enable_incoming_tcp, true);
  p.set_str(sp::user_agent, "fedswarm/0.1");
  // Outgoing connections use the plain BitTorrent handshake. An obfuscated (encrypted)
  // one names the torrent by a hash that only a loaded torrent can be matched against,
  // so a node that holds the version but has not loaded it cannot tell what is asked
  // and closes the connection; libtorrent 2.0.8 dials encrypted first (connect_peer's
  // default flags) and plain only a second tick later: the first byte of a cold
  // version came a second late. The obfuscation hides nothing that matters here (every
  // piece is checked against the signed merkle roots; who may connect is the IP
  // filter); incoming connections may still use it (foreign clients, peers = anyone).
  p.set_int(sp::out_enc_policy, sp::pe_disabled);
  // Full checks (a seed without stored merkle trees, after an unclean stop) hash on
  // these threads; the default of one suits spinning disks, not a data node's arrays.
  p.set_int(sp::hashing_threads, static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u)));
  // Every disk job wakes the pool's idle threads: with libtorrent's default of 10 per
  // session, a quarter of the perf samples of nine nodes on two cores were thread
  // switches and wake-ups (swarm_bench, K = 8). Reads and writes go to the page cache; a
  // few threads keep a disk array busy without that churn.
  p.set_int(sp::aio_threads, static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u)));
  p.set_int(sp::upload_rate_limit, static_cast<int>(std::min<std::int64_t>(in.upload_rate_limit, std::numeric_limits<int>::max())));
  p.set_int(sp::download_rate_limit, static_cast<int>(std::min<std::int64_t>(in.download_rate_limit, std::numeric_limits<int>::max())));
  // libtorrent's defaults give up on a peer after 3 failed connections and wait
  // (failures + 1) x 60 s before each retry: a seeder that was down when a fetch began
  // was dialled again only minutes later, or never, although the engine names it again
  // every reconnect interval (connect_peer only adds it to the peer list). Retry every
  // peer for ever instead (the failure count stops at 31, below the limit), after
  // (failures + 1) x the reconnect interval.
  const auto base = std::chrono::ceil<std::chrono::seconds>(in.reconnect_interval).count();
  p.set_int(sp::min_reconnect_time, static_cast<int>(std::clamp<std::int64_t>(base, 1, 3600)));
  p.set_int(sp::max_failcount, 32);
  // A federation is a few dozen trusted sites that all want every piece: no
  // tit-for-tat rationing of upload slots.
  p.set_int(sp::unchoke_slots_limit, -1);
  // A peer keeps this many seconds of its download rate requested from each peer
  // (libtorrent's default 3). Requests the origin has queued but not served are
  // invisible to the other sites, which then pick the same pieces from it: the
  // origin's uplink, the bottleneck of a first replication, carried 1.33 copies of
  // the version with 3 s and 1.25 with 1 s (swarm_bench, K = 8, 1 GiB, two runs
  // each). One second still covers the round trip of a full 100 ms uplink queue.
  p.set_int(sp::request_queue_time, 1);
  // libtorrent's default (20 s) makes a peer that could fetch a piece from another within
  // 20 s ask for a whole run of up to 8 MiB of adjacent pieces at once: at the origin of
  // a first replication (3 MB/s to each of eight sites) that is 16 pieces, seconds of
  // requests the other sites cannot see, and the origin's suggestions (PieceSpreader)
  // were bent into runs that crossed pieces handed to other sites.
  p.set_int(sp::whole_pieces_threshold, 0);
  // A fetcher remembers this many suggested pieces per peer (libtorrent's default 16);
  // a seed hands up to 48 at a time (SpreadLedger::kMaxSupply).
  p.set_int(sp::max_suggest_pieces, 64);
  // The engine manages its torrents itself (no queueing of "inactive" torrents).
  p.set_int(sp::active_downloads, -1);
  p.set_int(sp::active_seeds, -1);
  p.set_int(sp::active_limit, -1);
  p.set_int(sp::active_checking, 2);
  // Seeding on demand: a paused sentinel torrent stands in for "some torrent is active"
  // (see SwarmEngine.cpp), so handshakes for torrents not loaded reach the plugin.
  p.set_bool(sp::incoming_starts_queued_torrents, true);
  p.set_int(sp::alert_queue_size, 10000);
  p.set_int(sp::alert_mask, static_cast<int>(static_cast<std::uint32_t>(
                                lt::alert_category::error | lt::alert_category::status |
                                lt::alert_category::storage | lt::alert_category::peer |
                                lt::alert_category::ip_block | lt::alert_category::connect |
                                // piece_finished_alert: which pieces a fetch downloaded and
                                // verified itself (one hash pass, SwarmEngineImpl.hpp)
                                lt::alert_category::piece_progress)));
  return p;
}

lt::ip_filter global_peer_class_filter() {
  lt::ip_filter f;
  const std::uint32_t global = 1u << static_cast<std::uint32_t>(lt::session_handle::global_peer_class_id);
  f.add_rule(lt::make_address("0.0.0.0"), lt::make_address("255.255.255.255"), global);
  f.add_rule(lt::make_address("::"), lt::make_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), global);
  return f;
}

}  // namespace fedswarm
