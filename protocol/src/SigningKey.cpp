#include "fedswarm/protocol/SigningKey.hpp"

#include <sodium.h>

#include <stdexcept>

namespace fedswarm {

bool crypto_init() { return sodium_init() >= 0; }

SigningKey SigningKey::generate() {
  if (!crypto_init()) throw std::runtime_error("libsodium failed to initialise");
  SigningKey k;
  crypto_sign_keypair(k.pk_.data(), k.sk_.data());
  return k;
}

SigningKey SigningKey::from_seed(const Seed& seed) {
  if (!crypto_init()) throw std::runtime_error("libsodium failed to initialise");
  SigningKey k;
  crypto_sign_seed_keypair(k.pk_.data(), k.sk_.data(), seed.data());
  return k;
}

SigningKey::SigningKey(SigningKey&& other) noexcept : pk_(other.pk_), sk_(other.sk_) {
  sodium_memzero(other.sk_.data(), other.sk_.size());
}

SigningKey& SigningKey::operator=(SigningKey&& other) noexcept {
  if (this != &other) {
    pk_ = other.pk_;
    sk_ = other.sk_;
    sodium_memzero(other.sk_.data(), other.sk_.size());
  }
  return *this;
}

SigningKey::~SigningKey() { sodium_memzero(sk_.data(), sk_.size()); }

SigningKey::Seed SigningKey::seed() const {
  Seed s;
  crypto_sign_ed25519_sk_to_seed(s.data(), sk_.data());
  return s;
}

Signature SigningKey::sign(ByteView message) const {
  Signature sig;
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), sk_.data());
  return sig;
}

bool verify_signature(const PublicKey& key, ByteView message, const Signature& sig) {
  return crypto_sign_verify_detached(sig.data(), message.data(), message.size(), key.data()) == 0;
}

Sha256 sha256(ByteView data) {
  Sha256 out;
  crypto_hash_sha256(out.data(), data.data(), data.size());
  return out;
}

}  // namespace fedswarm
