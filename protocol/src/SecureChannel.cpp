#include "fedswarm/protocol/SecureChannel.hpp"

#include <sodium.h>

#include <cstring>

namespace fedswarm {

static_assert(crypto_secretstream_xchacha20poly1305_ABYTES == SecureChannel::overhead);
static_assert(crypto_secretstream_xchacha20poly1305_HEADERBYTES == SecureChannel::header_bytes);

struct SecureChannel::State {
  crypto_secretstream_xchacha20poly1305_state push{};
  crypto_secretstream_xchacha20poly1305_state pull{};
  std::array<std::uint8_t, header_bytes> header{};
  std::array<std::uint8_t, 32> rx_key{};
  bool pull_ready = false;
  bool failed = false;
};

SecureChannel::SecureChannel() : s_(std::make_unique<State>()) {}

SecureChannel::~SecureChannel() { sodium_memzero(s_.get(), sizeof(State)); }

std::unique_ptr<SecureChannel> SecureChannel::create(const std::array<std::uint8_t, 32>& tx_key,
                                                     const std::array<std::uint8_t, 32>& rx_key) {
  std::unique_ptr<SecureChannel> c(new SecureChannel());
  crypto_secretstream_xchacha20poly1305_init_push(&c->s_->push, c->s_->header.data(), tx_key.data());
  c->s_->rx_key = rx_key;
  return c;
}

const std::array<std::uint8_t, SecureChannel::header_bytes>& SecureChannel::push_header() const { return s_->header; }

Status SecureChannel::set_pull_header(ByteView header) {
  if (header.size() != header_bytes || s_->pull_ready)
    return make_error(Errc::invalid, "aead_bad_header", "peer sent a malformed stream header");
  if (crypto_secretstream_xchacha20poly1305_init_pull(&s_->pull, header.data(), s_->rx_key.data()) != 0)
    return make_error(Errc::invalid, "aead_bad_header", "peer sent a malformed stream header");
  sodium_memzero(s_->rx_key.data(), s_->rx_key.size());
  s_->pull_ready = true;
  return {};
}

Bytes SecureChannel::seal(ByteView plaintext) {
  Bytes out(plaintext.size() + overhead);
  unsigned long long len = 0;
  crypto_secretstream_xchacha20poly1305_push(&s_->push, out.data(), &len, plaintext.data(), plaintext.size(), nullptr, 0,
                                             crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
  out.resize(static_cast<std::size_t>(len));
  return out;
}

Result<Bytes> SecureChannel::open(ByteView payload) {
  // After one failure the stream state is unusable: refuse everything that follows.
  if (s_->failed || !s_->pull_ready || payload.size() < overhead) {
    s_->failed = true;
    return make_error(Errc::unauthorized, "aead_failed", "a frame from the peer failed authentication");
  }
  Bytes out(payload.size() - overhead);
  unsigned long long len = 0;
  unsigned char tag = 0;
  // We only ever push TAG_MESSAGE; an authenticated REKEY or FINAL tag can only come from
  // a peer that is not running this protocol, and FINAL would leave the stream usable
  // for nothing, so both are refused like a forgery.
  if (crypto_secretstream_xchacha20poly1305_pull(&s_->pull, out.data(), &len, &tag, payload.data(), payload.size(), nullptr,
                                                 0) != 0 ||
      tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) {
    s_->failed = true;
    return make_error(Errc::unauthorized, "aead_failed", "a frame from the peer failed authentication");
  }
  out.resize(static_cast<std::size_t>(len));
  return out;
}

}  // namespace fedswarm
