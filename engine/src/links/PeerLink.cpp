#include "links/PeerLink.hpp"

#include <boost/asio/write.hpp>

namespace fedswarm {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

std::shared_ptr<PeerLink> PeerLink::create(tcp::socket socket, Role role, const SigningKey& identity,
                                           std::optional<PublicKey> expected, Handshake::Admit admit, Settings settings,
                                           Callbacks callbacks) {
  return std::shared_ptr<PeerLink>(
      new PeerLink(std::move(socket), role, identity, expected, std::move(admit), settings, std::move(callbacks)));
}

PeerLink::PeerLink(tcp::socket socket, Role role, const SigningKey& identity, std::optional<PublicKey> expected,
                   Handshake::Admit admit, Settings settings, Callbacks callbacks)
    : socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      role_(role),
      expected_(expected),
      settings_(settings),
      cb_(std::move(callbacks)),
      handshake_(std::make_unique<Handshake>(role, identity, expected, std::move(admit))),
      decoder_(settings.max_frame_bytes),
      bucket_time_(Clock::now()),
      message_tokens_(settings.message_burst),
      byte_tokens_(settings.byte_burst) {
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  remote_ = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
  socket_.set_option(tcp::no_delay(true), ec);
}

void PeerLink::start() {
  touch(std::chrono::milliseconds(settings_.handshake_timeout_ms));
  arm_timer();
  for (const auto& f : handshake_->start()) queue_frame(f);
  read();
}

void PeerLink::touch(std::chrono::milliseconds timeout) { deadline_ = Clock::now() + timeout; }

// One timer per link, re-armed to the current deadline when it fires early: moving the
// deadline on every frame costs an assignment, not a timer cancellation.
void PeerLink::arm_timer() {
  timer_.expires_at(deadline_);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || !self->open_) return;
    if (self->paused_) self->touch(std::chrono::milliseconds(self->settings_.idle_timeout_ms));
    if (Clock::now() < self->deadline_) return self->arm_timer();
    if (self->is_established())
      self->close(make_error(Errc::unavailable, "idle_timeout", "peer sent nothing for " +
                                                                   std::to_string(self->settings_.idle_timeout_ms) + " ms"),
                  false);
    else
      self->close(make_error(Errc::invalid, "handshake_timeout",
                             "peer did not complete the handshake within " +
                                 std::to_string(self->settings_.handshake_timeout_ms) + " ms"),
                  true);
  });
}

void PeerLink::set_paused(bool paused) {
  if (paused == paused_) return;
  paused_ = paused;
  if (!paused_ && open_ && !reading_) {
    touch(std::chrono::milliseconds(is_established() ? settings_.idle_timeout_ms : settings_.handshake_timeout_ms));
    read();
  }
}

void PeerLink::read() {
  reading_ = true;
  socket_.async_read_some(asio::buffer(read_buf_), [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
    self->reading_ = false;
    if (!self->open_) return;
    if (ec) {
      const bool eof = ec == asio::error::eof || ec == asio::error::connection_reset;
      return self->close(make_error(Errc::unavailable, eof ? "peer_closed" : "socket_error",
                                    eof ? "peer closed the connection" : "connection failed: " + ec.message()),
                         false);
    }
    self->on_read(n);
  });
}

bool PeerLink::take_tokens(std::size_t bytes) {
  auto now = Clock::now();
  double dt = std::chrono::duration<double>(now - bucket_time_).count();
  bucket_time_ = now;
  message_tokens_ = std::min(settings_.message_burst, message_tokens_ + dt * settings_.message_rate);
  byte_tokens_ = std::min(settings_.byte_burst, byte_tokens_ + dt * settings_.byte_rate);
  message_tokens_ -= 1;
  byte_tokens_ -= static_cast<double>(bytes);
  return message_tokens_ >= 0 && byte_tokens_ >= 0;
}

void PeerLink::on_read(std::size_t n) {
  counters_.bytes_in += n;
  if (auto st = decoder_.feed(ByteView(read_buf_.data(), n)); !st) return close(st.error(), true);
  while (open_) {
    auto frame = decoder_.next();
    if (!frame) break;
    if (!take_tokens(frame->size() + 4))
      return close(make_error(Errc::invalid, "flood",
                              "peer sent more than " + std::to_string(static_cast<int>(settings_.message_rate)) +
                                  " messages/s or " + std::to_string(static_cast<long long>(settings_.byte_rate)) +
                                  " bytes/s for too long"),
                   true);
    if (auto st = on_frame(std::move(*frame)); !st) return close(st.error(), true);
  }
  if (open_ && !paused_) read();
}

Status PeerLink::on_frame(Bytes frame) {
  if (!channel_) {
    FEDSWARM_ASSIGN_OR_RETURN(auto replies, handshake_->on_frame(frame));
    for (const auto& r : replies) queue_frame(r);
    if (handshake_->done()) {
      peer_ = handshake_->peer_key();
      channel_ = handshake_->take_channel();
      handshake_.reset();
      touch(std::chrono::milliseconds(settings_.idle_timeout_ms));
      if (cb_.established) cb_.established(*this);
    }
    return {};
  }
  touch(std::chrono::milliseconds(settings_.idle_timeout_ms));
  FEDSWARM_ASSIGN_OR_RETURN(Bytes plain, channel_->open(frame));
  FEDSWARM_ASSIGN_OR_RETURN(GossipMessage m, GossipMessage::decode(plain));
  ++counters_.messages_in;
  if (cb_.message) cb_.message(*this, std::move(m), frame.size() + 4);
  return {};
}

std::size_t PeerLink::send(const GossipMessage& message) {
  if (!is_established() || !open_) return 0;
  Bytes sealed = channel_->seal(message.encode());
  ++counters_.messages_out;
  queue_frame(sealed);
  return sealed.size() + 4;
}

void PeerLink::queue_frame(ByteView payload) {
  if (!open_) return;
  Bytes frame = encode_frame(payload);
  send_queue_bytes_ += frame.size();
  send_queue_.push_back(std::move(frame));
  if (send_queue_bytes_ > settings_.max_send_queue_bytes)
    return close(make_error(Errc::unavailable, "peer_too_slow",
                            "peer did not read " + std::to_string(send_queue_bytes_) + " queued bytes"),
                 true);
  if (!writing_) write();
}

void PeerLink::write() {
  if (send_queue_.empty() || !open_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  asio::async_write(socket_, asio::buffer(send_queue_.front()),
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                      if (!self->open_) return;
                      if (ec)
                        return self->close(make_error(Errc::unavailable, "socket_error", "send failed: " + ec.message()),
                                           false);
                      self->counters_.bytes_out += n;
                      self->send_queue_bytes_ -= self->send_queue_.front().size();
                      self->send_queue_.pop_front();
                      self->write();
                    });
}

void PeerLink::close(const Error& why, bool fault) {
  if (!open_) return;
  open_ = false;
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  timer_.cancel();
  send_queue_.clear();
  // Callbacks stay set (one may be running now, e.g. a message handler that punished
  // the peer); `open_` keeps any further one from being called.
  if (cb_.closed) cb_.closed(*this, why, fault);
}

}  // namespace fedswarm
