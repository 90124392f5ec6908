// Byte containers and fixed-size digests/keys shared by every layer.
//
// Contract: plain value types, thread-compatible. Hex parsing of untrusted text returns
// a Result; it never throws on bad input.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// A fixed-size byte string (key, signature, digest) with value semantics and ordering.
template <std::size_t N>
struct FixedBytes {
  std::array<std::uint8_t, N> bytes{};

  static constexpr std::size_t size() { return N; }
  const std::uint8_t* data() const { return bytes.data(); }
  std::uint8_t* data() { return bytes.data(); }
  ByteView view() const { return {bytes.data(), N}; }
  bool is_zero() const {
    for (auto b : bytes)
      if (b != 0) return false;
    return true;
  }
  auto operator<=>(const FixedBytes&) const = default;
  bool operator==(const FixedBytes&) const = default;

  // Copies exactly N bytes; returns invalid if `b` has another length.
  static Result<FixedBytes> from(ByteView b) {
    if (b.size() != N)
      return make_error(Errc::invalid, "bad_length",
                        "expected " + std::to_string(N) + " bytes, got " + std::to_string(b.size()));
    FixedBytes out;
    for (std::size_t i = 0; i < N; ++i) out.bytes[i] = b[i];
    return out;
  }
};

using PublicKey = FixedBytes<32>;   // Ed25519 public key
using Signature = FixedBytes<64>;   // Ed25519 signature
using Sha256 = FixedBytes<32>;      // SHA-256 digest
using Xxh128 = FixedBytes<16>;      // xxh3-128 digest, big-endian canonical form

std::string to_hex(ByteView b);
Result<Bytes> from_hex(std::string_view hex);

template <std::size_t N>
std::string to_hex(const FixedBytes<N>& b) {
  return to_hex(b.view());
}

template <std::size_t N>
Result<FixedBytes<N>> fixed_from_hex(std::string_view hex) {
  auto raw = from_hex(hex);
  if (!raw) return std::move(raw).error();
  return FixedBytes<N>::from(*raw);
}

// Short human form of a key: the first 8 hex digits (like a git short hash).
std::string short_key(const PublicKey& key);

// Big-endian fixed-width integer helpers used for sortable database keys and for the
// signed message layout.
inline void put_u64_be(std::uint8_t* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) { out[i] = static_cast<std::uint8_t>(v); v >>= 8; }
}
inline std::uint64_t get_u64_be(const std::uint8_t* in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | in[i];
  return v;
}
inline void put_u32_be(std::uint8_t* out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) { out[i] = static_cast<std::uint8_t>(v); v >>= 8; }
}
inline std::uint32_t get_u32_be(const std::uint8_t* in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | in[i];
  return v;
}

}  // namespace fedswarm
