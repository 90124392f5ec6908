// Handshake: the peer-link handshake state machine (DESIGN §4). Pure: frames in, frames
// out, no socket inside, so it is unit-tested and fuzzed on its own.
//
//   initiator → responder  HELLO  magic "FSWM/1\0\0" | ephemeral X25519 pk | static Ed25519 pk
//   responder → initiator  HELLO  (same layout)
//   both                   AUTH   secretstream header (24) | sealed( Ed25519 signature over
//                                 "fedswarm/handshake/v1" | role byte | SHA-256(hello_i | hello_r) )
//
// Session keys come from libsodium crypto_kx (initiator = client); each direction is a
// crypto_secretstream_xchacha20poly1305 stream keyed with its key. The signatures bind
// both ephemeral keys to both static keys, so a man in the middle cannot complete it.
//
// Contract
// - One Handshake per connection, driven from the connection's thread.
// - `start()` returns the frames to send first (initiator: HELLO; responder: none); it
//   must be called before `on_frame`, by a responder too (a frame before it is
//   hs_unexpected_frame). `on_frame` consumes one frame and returns the frames to send
//   in reply: the responder answers HELLO with HELLO and its AUTH together.
// - Checks on the peer's HELLO, in order: length (hs_malformed), magic (hs_bad_magic),
//   own key (hs_self_connection), the key dialled (hs_wrong_key), admit()
//   (hs_unknown_key; a null admit admits nobody), a usable ephemeral key (hs_malformed).
//   AUTH: length (hs_malformed), then decryption and signature (hs_bad_signature).
// - The ephemeral secret is wiped as soon as the session keys are derived.
// - Refusals are `unauthorized` or `invalid` with reasons: hs_bad_magic, hs_malformed,
//   hs_unknown_key (admit() said no), hs_wrong_key (not the key dialled),
//   hs_self_connection, hs_bad_signature, hs_unexpected_frame, hs_failed (after any error
//   every call fails).
// - After `done()`, `take_channel()` yields the SecureChannel exactly once.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Result.hpp"
#include "fedswarm/protocol/SecureChannel.hpp"
#include "fedswarm/protocol/SigningKey.hpp"

namespace fedswarm {

class Handshake {
 public:
  enum class Role : std::uint8_t { initiator, responder };
  // Decides whether a peer's static key may connect (roster member or admitted subscriber).
  using Admit = std::function<bool(const PublicKey&)>;

  // `identity` must outlive the handshake. `expected` is the key of the roster entry
  // dialled (initiator), or nullopt (responder).
  Handshake(Role role, const SigningKey& identity, std::optional<PublicKey> expected, Admit admit);
  ~Handshake();
  Handshake(const Handshake&) = delete;
  Handshake& operator=(const Handshake&) = delete;

  std::vector<Bytes> start();
  Result<std::vector<Bytes>> on_frame(ByteView frame);

  bool done() const;
  // The peer's static key, known after its HELLO.
  std::optional<PublicKey> peer_key() const;
  std::unique_ptr<SecureChannel> take_channel();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace fedswarm
