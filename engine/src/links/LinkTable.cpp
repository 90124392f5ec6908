#include "links/LinkTable.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace fedswarm {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::optional<std::pair<std::string, std::string>> split_host_port(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return std::nullopt;
  std::string host = s.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return std::make_pair(host, s.substr(colon + 1));
}

LinkTable::LinkTable(asio::io_context& io, const SigningKey& identity, PeerLink::Settings settings, Callbacks callbacks)
    : io_(io), identity_(identity), settings_(settings), cb_(std::move(callbacks)), acceptor_(io), resolver_(io) {}

LinkTable::~LinkTable() { close_all(make_error(Errc::unavailable, "shutdown", "node stopping")); }

Status LinkTable::listen(const std::string& host_port, const std::string& what_to_fix) {
  auto hp = split_host_port(host_port);
  if (!hp) return make_error(Errc::invalid, "bad_listen", "[network] listen = \"" + host_port + "\" is not host:port");
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(hp->first, ec);
  if (ec) return make_error(Errc::invalid, "bad_listen", "[network] listen needs an IP address, not '" + hp->first + "'");
  unsigned long port = 0;
  try {
    port = std::stoul(hp->second);
  } catch (...) {
    port = 70000;
  }
  if (port == 0 || port > 65535)
    return make_error(Errc::invalid, "bad_listen", "[network] listen port '" + hp->second + "' is not 1..65535");
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(128, ec);
  if (ec) return make_error(Errc::io, "listen_failed", "cannot listen on " + host_port + ": " + ec.message() + "; " + what_to_fix);
  local_address_ = addr;
  accept();
  return {};
}

PeerLink::Callbacks LinkTable::link_callbacks() {
  PeerLink::Callbacks cb;
  cb.established = [this](PeerLink& l) { on_established(l); };
  cb.message = [this](PeerLink& l, GossipMessage&& m, std::size_t bytes) {
    const PeerId peer = *l.peer_key();
    auto it = links_.find(peer);
    if (it == links_.end() || it->second.get() != &l) return;  // a losing duplicate
    if (cb_.message) cb_.message(peer, std::move(m), bytes);
  };
  cb.closed = [this](PeerLink& l, const Error& e, bool fault) { on_closed(l, e, fault); };
  return cb;
}

void LinkTable::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (closing_) return;
    if (!ec) {
      if (pending_.size() >= kMaxPendingLinks) {
        ++refusals_["too_many_pending"];
        boost::system::error_code ignore;
        socket.close(ignore);
      } else {
        auto link = PeerLink::create(std::move(socket), PeerLink::Role::responder, identity_, std::nullopt,
                                     [this](const PublicKey& k) { return cb_.admit && cb_.admit(k); }, settings_,
                                     link_callbacks());
        pending_.insert(link);
        link->start();
      }
    } else if (cb_.warn) {
      cb_.warn("accept failed: " + ec.message());
    }
    accept();
  });
}

void LinkTable::dial(const PeerId& peer, const RosterMember& member) {
  auto failed = [this, peer](const std::string& why) {
    asio::post(io_, [this, peer, why] {
      if (!closing_ && cb_.dial_failed) cb_.dial_failed(peer, why);
    });
  };
  if (member.endpoints.empty()) return failed("no endpoint in the roster");
  auto hp = split_host_port(member.endpoints.front());
  if (!hp) return failed("bad endpoint " + member.endpoints.front());
  resolver_.async_resolve(hp->first, hp->second, [this, peer](const boost::system::error_code& ec,
                                                              tcp::resolver::results_type results) {
    if (closing_) return;
    if (ec) {
      if (cb_.dial_failed) cb_.dial_failed(peer, "resolve: " + ec.message());
      return;
    }
    auto socket = std::make_shared<tcp::socket>(io_);
    boost::system::error_code bec;
    // Dial from the listen address, so peers (and libtorrent later) see one IP per node.
    socket->open(results.begin()->endpoint().protocol(), bec);
    if (!bec && !local_address_.is_unspecified()) socket->bind(tcp::endpoint(local_address_, 0), bec);
    if (bec) {
      if (cb_.dial_failed) cb_.dial_failed(peer, "bind: " + bec.message());
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(settings_.handshake_timeout_ms));
    timer->async_wait([socket](const boost::system::error_code& e) {
      // The connect may have completed (and the socket moved into a PeerLink) after
      // this wait was already queued: cancelling a closed socket must not throw.
      boost::system::error_code ignored;
      if (!e && socket->is_open()) socket->cancel(ignored);
    });
    // The single-endpoint connect: the range form reopens the socket per attempt,
    // which would drop the bind above.
    socket->async_connect(results.begin()->endpoint(), [this, peer, socket, timer](const boost::system::error_code& e) {
      timer->cancel();
      if (closing_) return;
      if (e) {
        if (cb_.dial_failed) cb_.dial_failed(peer, "connect: " + e.message());
        return;
      }
      if (links_.count(peer)) return;  // the peer dialled us meanwhile
      auto link = PeerLink::create(std::move(*socket), PeerLink::Role::initiator, identity_, peer,
                                   [this](const PublicKey& k) { return cb_.admit && cb_.admit(k); }, settings_,
                                   link_callbacks());
      pending_.insert(link);
      link->start();
    });
  });
}

std::shared_ptr<PeerLink> LinkTable::take_pending(PeerLink& l) {
  for (auto it = pending_.begin(); it != pending_.end(); ++it)
    if (it->get() == &l) {
      auto sp = *it;
      pending_.erase(it);
      return sp;
    }
  return nullptr;
}

namespace {
// Both sides keep the link dialled by the smaller key.
PublicKey initiator_of(const PeerLink& l, const PublicKey& self) {
  return l.role() == PeerLink::Role::initiator ? self : *l.peer_key();
}
}  // namespace

void LinkTable::on_established(PeerLink& l) {
  auto link = take_pending(l);
  if (!link) return;
  const PeerId peer = *l.peer_key();
  const PublicKey self = identity_.public_key();
  if (auto it = links_.find(peer); it != links_.end()) {
    const bool keep_new = initiator_of(l, self) < initiator_of(*it->second, self);
    auto loser = keep_new ? it->second : link;
    if (keep_new) {
      account(peer, *it->second);
      it->second = link;
    } else {
      pending_.insert(link);  // closed below; on_closed looks for it there
    }
    loser->close(make_error(Errc::conflict, "duplicate_link", "a second link to the same peer"), false);
    if (!keep_new) return;
  } else {
    links_.emplace(peer, link);
  }
  if (paused_) link->set_paused(true);
  if (cb_.established) cb_.established(peer);
}

void LinkTable::account(const PeerId& peer, const PeerLink& l) {
  auto& t = traffic_[peer];
  t.bytes_in += l.counters().bytes_in;
  t.bytes_out += l.counters().bytes_out;
}

void LinkTable::on_closed(PeerLink& l, const Error& e, bool fault) {
  auto key = l.peer_key();
  if (auto sp = take_pending(l)) {
    // Ended before or during the handshake.
    if (fault) ++refusals_[e.reason];
    if (l.role() == PeerLink::Role::initiator && l.expected_key() && !closing_ && e.reason != "duplicate_link" &&
        cb_.dial_failed)
      cb_.dial_failed(*l.expected_key(), e.message);
    if (fault && cb_.warn)
      cb_.warn("refused " + (key ? short_key(*key) : std::string("unknown peer")) + " (" + l.remote() + "): " + e.message);
    return;
  }
  if (!key) return;
  auto it = links_.find(*key);
  if (it == links_.end() || it->second.get() != &l) return;
  account(*key, l);
  links_.erase(it);
  if (fault) ++refusals_[e.reason];
  if (!closing_ && cb_.closed) cb_.closed(*key, e.message + (fault ? " [" + e.reason + "]" : std::string()), fault);
}

std::size_t LinkTable::send(const PeerId& to, const GossipMessage& message) {
  auto it = links_.find(to);
  return it != links_.end() ? it->second->send(message) : 0;
}

void LinkTable::close(const PeerId& peer, const Error& why, bool fault) {
  auto it = links_.find(peer);
  if (it == links_.end()) return;
  auto link = it->second;
  account(peer, *link);
  links_.erase(it);  // the caller knows: no `closed` callback for it
  if (fault) ++refusals_[why.reason];
  link->close(why, fault);
}

void LinkTable::pause_reading(bool paused) {
  paused_ = paused;
  for (auto& [key, link] : links_) link->set_paused(paused);
}

void LinkTable::close_all(const Error& why) {
  if (closing_) return;
  closing_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  resolver_.cancel();
  auto all = links_;
  for (auto& [k, l] : all) l->close(why, false);
  links_.clear();
  auto p = pending_;
  for (auto& l : p) l->close(why, false);
  pending_.clear();
}

std::string LinkTable::address_of(const PeerId& peer) const {
  auto it = links_.find(peer);
  return it == links_.end() ? std::string() : it->second->remote();
}

PeerTraffic LinkTable::traffic(const PeerId& peer) const {
  PeerTraffic t;
  if (auto it = traffic_.find(peer); it != traffic_.end()) t = it->second;
  if (auto it = links_.find(peer); it != links_.end()) {
    t.bytes_in += it->second->counters().bytes_in;
    t.bytes_out += it->second->counters().bytes_out;
  }
  return t;
}

std::optional<std::string> swarm_endpoint_of(const RosterMember& m) {
  if (m.endpoints.empty() || m.swarm_port == 0) return std::nullopt;
  auto hp = split_host_port(m.endpoints.front());
  if (!hp) return std::nullopt;
  const std::string host = hp->first.find(':') != std::string::npos ? "[" + hp->first + "]" : hp->first;
  return host + ":" + std::to_string(m.swarm_port);
}

}  // namespace fedswarm
