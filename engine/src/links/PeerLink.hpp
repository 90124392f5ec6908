// PeerLink: one TCP connection to a peer node (DESIGN §4) — handshake, then
// length-prefixed frames sealed with the link's AEAD streams, carrying GossipMessages.
// Private to engine/ (the node daemon owns every link).
//
// Contract
// - Created and used only on the daemon's io thread (the thread running the
//   io_context); every callback runs there. Owned by shared_ptr: pending asynchronous
//   operations keep it alive until they complete after `close`.
// - Every rule a peer can break ends the link at once with `closed(error, fault=true)`:
//   handshake refusals (hs_*), frame_too_large / frame_empty, aead_failed,
//   malformed_message, flood (message or byte rate over the limits), handshake_timeout
//   (no complete handshake in time, e.g. half a handshake then silence), peer_too_slow
//   (our send queue overflowed). Not faults: idle_timeout (no frame for
//   `idle_timeout_ms`: the peer is down, not hostile), the peer closing the connection,
//   a local `close`, socket errors.
// - `closed` is called exactly once; `established` at most once, before any `message`.
// - Frame sizes are checked before allocation (FrameDecoder); at most one read buffer
//   and one partial frame are held per link.
// - `set_paused(true)` stops reading (TCP flow control then slows the peer down); the
//   idle timeout is suspended meanwhile.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "fedswarm/protocol/FrameCodec.hpp"
#include "fedswarm/protocol/GossipMessage.hpp"
#include "fedswarm/protocol/Handshake.hpp"

namespace fedswarm {

class PeerLink : public std::enable_shared_from_this<PeerLink> {
 public:
  using Role = Handshake::Role;
  using tcp = boost::asio::ip::tcp;

  struct Settings {
    std::uint32_t handshake_timeout_ms = 5000;
    std::uint32_t idle_timeout_ms = 10000;
    std::size_t max_frame_bytes = limits::max_frame_bytes;
    // Token buckets on received messages and bytes: `*_rate` per second, `*_burst` deep.
    double message_rate = 500, message_burst = 2000;
    // Bytes: above what a catalog catch-up delivers (~50 MB/s of records on the writer's
    // side); the writer's backpressure, not this bucket, paces an honest peer.
    double byte_rate = 256.0 * (1 << 20), byte_burst = 512.0 * (1 << 20);
    std::size_t max_send_queue_bytes = 256u << 20;
  };

  struct Callbacks {
    std::function<void(PeerLink&)> established;
    std::function<void(PeerLink&, GossipMessage&&, std::size_t frame_bytes)> message;
    std::function<void(PeerLink&, const Error&, bool fault)> closed;
  };

  struct Counters {
    std::uint64_t bytes_in = 0, bytes_out = 0, messages_in = 0, messages_out = 0;
  };

  // `identity` must outlive the link. `expected`: the roster key dialled (initiator).
  static std::shared_ptr<PeerLink> create(tcp::socket socket, Role role, const SigningKey& identity,
                                          std::optional<PublicKey> expected, Handshake::Admit admit,
                                          Settings settings, Callbacks callbacks);

  void start();
  // Queues a message; returns the frame's size on the wire, 0 (ignored) before
  // `established` or after `close`.
  std::size_t send(const GossipMessage& message);
  // Ends the link (idempotent).
  void close(const Error& why, bool fault);
  // Stops reading from the socket (backpressure) or starts again. While paused the idle
  // timeout does not run: the silence is ours. Frames already read are delivered.
  void set_paused(bool paused);

  bool is_established() const { return channel_ != nullptr && open_; }
  bool is_open() const { return open_; }
  Role role() const { return role_; }
  // The peer's key: known after its HELLO (authenticated only once established).
  std::optional<PublicKey> peer_key() const { return handshake_ ? handshake_->peer_key() : peer_; }
  const std::optional<PublicKey>& expected_key() const { return expected_; }
  const std::string& remote() const { return remote_; }
  const Counters& counters() const { return counters_; }

 private:
  PeerLink(tcp::socket socket, Role role, const SigningKey& identity, std::optional<PublicKey> expected,
           Handshake::Admit admit, Settings settings, Callbacks callbacks);

  void read();
  void on_read(std::size_t n);
  Status on_frame(Bytes frame);
  void queue_frame(ByteView payload);
  void write();
  void arm_timer();
  void touch(std::chrono::milliseconds timeout);
  bool take_tokens(std::size_t bytes);

  tcp::socket socket_;
  boost::asio::steady_timer timer_;
  Role role_;
  std::optional<PublicKey> expected_;
  std::optional<PublicKey> peer_;
  Settings settings_;
  Callbacks cb_;
  std::unique_ptr<Handshake> handshake_;
  std::unique_ptr<SecureChannel> channel_;
  FrameDecoder decoder_;
  std::array<std::uint8_t, 64 * 1024> read_buf_{};
  std::deque<Bytes> send_queue_;
  std::size_t send_queue_bytes_ = 0;
  bool writing_ = false;
  bool open_ = true;
  bool paused_ = false;
  bool reading_ = false;  // a read is outstanding
  std::string remote_;
  Counters counters_;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::steady_clock::time_point bucket_time_;
  double message_tokens_, byte_tokens_;
};

}  // namespace fedswarm
