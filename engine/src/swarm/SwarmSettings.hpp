// SwarmSettings (engine-private): the libtorrent settings of a fedswarm session
// (DESIGN §5) and the parsing of swarm endpoints.
//
// Contract: pure functions, thread-safe. Parsing untrusted text never throws; errors
// are `invalid` with reasons swarm_bad_ip / swarm_bad_endpoint.
#pragma once

#include <libtorrent/address.hpp>
#include <libtorrent/ip_filter.hpp>
#include <libtorrent/settings_pack.hpp>
#include <libtorrent/socket.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

// An IP literal (IPv4 or IPv6, without brackets).
Result<lt::address> parse_swarm_ip(std::string_view ip);
// "ip:port" or "[ipv6]:port" with a non-zero port.
Result<lt::tcp::endpoint> parse_swarm_endpoint(std::string_view endpoint);
// The inverse of parse_swarm_endpoint.
std::string endpoint_string(const lt::tcp::endpoint& ep);
std::string endpoint_string(const lt::address& ip, std::uint16_t port);

struct SwarmSettingsInput {
  lt::address ip;
  std::uint16_t port = 0;
  std::int64_t upload_rate_limit = 0;
  std::int64_t download_rate_limit = 0;
  // Base delay before libtorrent dials a peer again after a failed connection; the k-th
  // retry waits (k+1) times this, at most 32 times (rounded up to whole seconds, >= 1).
  std::chrono::milliseconds reconnect_interval{5'000};
};

// Private-federation settings: TCP only, fixed listen address without fallback,
// outgoing connections bound to the listen address, no DHT/LSD/UPnP/NAT-PMP, unlimited
// unchoke slots, peers that failed to connect retried for ever with a linear backoff
// (a site down for maintenance comes back), and the alert categories the engine
// handles.
lt::settings_pack swarm_settings(const SwarmSettingsInput& in);

// A peer-class filter putting every address (loopback and private ranges included) in
// the global peer class only, so rate limits and unchoke rules treat all peers alike.
lt::ip_filter global_peer_class_filter();

}  // namespace fedswarm
