// SecureChannel: the two AEAD streams of an established peer link
// (libsodium crypto_secretstream_xchacha20poly1305, one per direction).
//
// Contract
// - Created by Handshake; used from the connection's thread only.
// - `seal` turns a plaintext message into a frame payload (17 bytes longer);
//   `open` authenticates and decrypts one received payload in stream order. Any
//   forged, reordered, replayed or truncated payload fails with `unauthorized` reason
//   "aead_failed" and the channel stays failed; so does a message tagged REKEY or FINAL
//   (this protocol only sends TAG_MESSAGE). A payload shorter than `overhead`, or one
//   before `set_pull_header`, fails the same way. A malformed or second pull header is
//   `invalid` "aead_bad_header".
// - Keys are wiped on destruction.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

class SecureChannel {
 public:
  static constexpr std::size_t overhead = 17;
  static constexpr std::size_t header_bytes = 24;

  // `tx_key`/`rx_key`: the 32-byte session keys of this side.
  // `push_header` is produced here; `pull_header` is the peer's.
  static std::unique_ptr<SecureChannel> create(const std::array<std::uint8_t, 32>& tx_key,
                                               const std::array<std::uint8_t, 32>& rx_key);
  ~SecureChannel();

  // The header the peer needs to open our stream (sent once, in AUTH).
  const std::array<std::uint8_t, header_bytes>& push_header() const;
  // Sets up the receive stream from the peer's header.
  Status set_pull_header(ByteView header);

  Bytes seal(ByteView plaintext);
  Result<Bytes> open(ByteView payload);

 private:
  SecureChannel();
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace fedswarm
