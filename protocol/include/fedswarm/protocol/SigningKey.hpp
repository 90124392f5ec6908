// SigningKey: an Ed25519 key pair (libsodium) used for node, publisher and federation
// authority identities.
//
// Contract
// - Owns the 64-byte secret key; the memory is wiped on destruction. Move-only.
// - `sign` is deterministic and thread-safe (no shared state); `verify` is a free
//   function that never throws and returns false for any malformed input.
// - Serialisation of the secret (the 32-byte seed) is the caller's job (NodeHome
//   writes it with mode 0600); this type does no I/O.
#pragma once

#include <array>
#include <cstdint>

#include "fedswarm/protocol/Bytes.hpp"

namespace fedswarm {

// Must be called once before any crypto (idempotent, thread-safe). Returns false if
// libsodium cannot initialise, which only happens without a usable random source.
bool crypto_init();

class SigningKey {
 public:
  using Seed = FixedBytes<32>;

  static SigningKey generate();
  static SigningKey from_seed(const Seed& seed);

  SigningKey(SigningKey&& other) noexcept;
  SigningKey& operator=(SigningKey&& other) noexcept;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  ~SigningKey();

  const PublicKey& public_key() const { return pk_; }
  Seed seed() const;
  Signature sign(ByteView message) const;

 private:
  SigningKey() = default;
  PublicKey pk_;
  std::array<std::uint8_t, 64> sk_{};
};

bool verify_signature(const PublicKey& key, ByteView message, const Signature& sig);

// SHA-256 of `data` (libsodium).
Sha256 sha256(ByteView data);

}  // namespace fedswarm
