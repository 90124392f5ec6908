// RawPeer: a hand-driven peer for hostile-input tests — a plain TCP client that can send
// arbitrary bytes, or run the real handshake with any key and then send any message
// over the encrypted link, the way a broken or malicious node would.
//
// Contract: test thread only; blocking socket calls with deadlines.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "fedswarm/protocol/FrameCodec.hpp"
#include "fedswarm/protocol/GossipMessage.hpp"
#include "fedswarm/protocol/Handshake.hpp"

namespace fedswarm::test {

class RawPeer {
 public:
  // Connects from `from_ip` (its own loopback address) to `ip:port`.
  RawPeer(const std::string& from_ip, const std::string& ip, int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, from_ip.c_str(), &local.sin_addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~RawPeer() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }

  bool send_raw(ByteView bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }
  bool send_frame(ByteView payload) { return send_raw(encode_frame(payload)); }

  // The next frame from the node, or nullopt on close/timeout.
  std::optional<Bytes> read_frame(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto f = decoder_.next()) return f;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      std::uint8_t buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return std::nullopt;
      if (!decoder_.feed(ByteView(buf, static_cast<std::size_t>(n)))) return std::nullopt;
    }
  }

  // True once the node has closed the connection (reads drain anything it sent first).
  bool closed_by_node(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      std::uint8_t buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return true;
    }
  }

  // Runs the handshake as initiator with `key`, expecting the node's key `node`.
  Status handshake(const SigningKey& key, const PublicKey& node) {
    Handshake hs(Handshake::Role::initiator, key, node, [](const PublicKey&) { return true; });
    for (const auto& f : hs.start()) send_frame(f);
    while (!hs.done()) {
      auto f = read_frame();
      if (!f) return make_error(Errc::unavailable, "closed", "node closed the connection during the handshake");
      FEDSWARM_ASSIGN_OR_RETURN(auto replies, hs.on_frame(*f));
      for (const auto& r : replies) send_frame(r);
    }
    channel_ = hs.take_channel();
    return {};
  }

  bool send_message(const GossipMessage& m) { return send_frame(channel_->seal(m.encode())); }

  // The next message from the node over the encrypted link.
  std::optional<GossipMessage> read_message(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto f = read_frame(timeout);
    if (!f) return std::nullopt;
    auto plain = channel_->open(*f);
    if (!plain) return std::nullopt;
    auto m = GossipMessage::decode(*plain);
    if (!m) return std::nullopt;
    return std::move(*m);
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  FrameDecoder decoder_;
  std::unique_ptr<SecureChannel> channel_;
};

}  // namespace fedswarm::test
