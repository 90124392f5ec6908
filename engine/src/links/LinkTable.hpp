// LinkTable: the node's TCP links to its peers (DESIGN §4) — the gossip listener, dials,
// handshakes in progress, one established link per peer, traffic counts — as the
// GossipLinks of the node's GossipNode.
//
// - Accepts on the listen address; more than kMaxPendingLinks handshakes at once are
//   refused on accept (a flood of sockets cannot exhaust descriptors or memory).
// - Dials from the listen address, so peers (and libtorrent later) see one IP per node;
//   a dial resolves the member's first endpoint, connects within the handshake timeout
//   and then runs the handshake.
// - Crossed dials give two links to one peer; both sides keep the one dialled by the
//   smaller key, so they agree without talking; the other is closed as a duplicate.
// - Events go to `callbacks`: established (handshake done, the link is the peer's),
//   message, closed (a link the peer or the network ended: not for `close` calls),
//   dial_failed. Refusals during handshakes are counted by reason (`refusals`).
// - Traffic: bytes in and out per peer, over every link it had.
//
// Contract: created and used only on the io thread (the io_context's); every callback
// runs there. `close_all` at shutdown. Errors of `listen` are `invalid` (bad_listen) or
// `io` (listen_failed), with what to change in config.toml.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "gossip/GossipLinks.hpp"
#include "links/PeerLink.hpp"

namespace fedswarm {

struct PeerTraffic {
  std::uint64_t bytes_in = 0, bytes_out = 0;
};

class LinkTable final : public GossipLinks {
 public:
  // Handshakes in progress at once; more connections are closed on accept.
  static constexpr std::size_t kMaxPendingLinks = 64;

  struct Callbacks {
    std::function<bool(const PeerId&)> admit;  // may this key connect?
    std::function<void(const PeerId&)> established;
    std::function<void(const PeerId&, GossipMessage&&, std::size_t frame_bytes)> message;
    std::function<void(const PeerId&, const std::string& why, bool fault)> closed;
    std::function<void(const PeerId&, const std::string& why)> dial_failed;
    std::function<void(const std::string& what)> warn;  // for the log
  };

  LinkTable(boost::asio::io_context& io, const SigningKey& identity, PeerLink::Settings settings, Callbacks callbacks);
  ~LinkTable() override;

  // Binds and listens on "ip:port" and starts accepting. `what_to_fix` ends the error.
  Status listen(const std::string& host_port, const std::string& what_to_fix);
  const boost::asio::ip::address& local_address() const { return local_address_; }

  // GossipLinks
  std::size_t send(const PeerId& to, const GossipMessage& message) override;
  void dial(const PeerId& peer, const RosterMember& member) override;
  void close(const PeerId& peer, const Error& why, bool fault) override;
  void pause_reading(bool paused) override;

  void close_all(const Error& why);

  bool connected(const PeerId& peer) const { return links_.count(peer) != 0; }
  std::string address_of(const PeerId& peer) const;  // the connected link's remote, or ""
  PeerTraffic traffic(const PeerId& peer) const;      // over every link so far
  const std::map<std::string, std::uint64_t>& refusals() const { return refusals_; }
  std::size_t pending() const { return pending_.size(); }

 private:
  PeerLink::Callbacks link_callbacks();
  void accept();
  void on_established(PeerLink& l);
  void on_closed(PeerLink& l, const Error& e, bool fault);
  std::shared_ptr<PeerLink> take_pending(PeerLink& l);
  void account(const PeerId& peer, const PeerLink& l);

  boost::asio::io_context& io_;
  const SigningKey& identity_;
  PeerLink::Settings settings_;
  Callbacks cb_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::ip::address local_address_;
  bool closing_ = false;
  bool paused_ = false;
  std::map<PeerId, std::shared_ptr<PeerLink>> links_;
  std::set<std::shared_ptr<PeerLink>> pending_;
  std::map<PeerId, PeerTraffic> traffic_;  // of links that ended
  std::map<std::string, std::uint64_t> refusals_;
};

// "host:port" -> (host, port); IPv6 literals may be bracketed.
std::optional<std::pair<std::string, std::string>> split_host_port(const std::string& s);
// A member's swarm endpoint: the host of its first gossip endpoint and its swarm_port
// ("[v6]:port" for an IPv6 literal); nullopt without either.
std::optional<std::string> swarm_endpoint_of(const RosterMember& m);

}  // namespace fedswarm
