#include "fedswarm/protocol/Bytes.hpp"

namespace fedswarm {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::invalid: return "invalid";
    case Errc::unauthorized: return "unauthorized";
    case Errc::conflict: return "conflict";
    case Errc::not_found: return "not_found";
    case Errc::io: return "io";
    case Errc::corrupt: return "corrupt";
    case Errc::unavailable: return "unavailable";
  }
  return "unknown";
}

Error Error::with_context(std::string_view context) const {
  Error e = *this;
  e.message = std::string(context) + ": " + message;
  return e;
}

std::string to_hex(ByteView b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.resize(b.size() * 2);
  for (std::size_t i = 0; i < b.size(); ++i) {
    out[2 * i] = digits[b[i] >> 4];
    out[2 * i + 1] = digits[b[i] & 0xf];
  }
  return out;
}

namespace {
int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Result<Bytes> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0)
    return make_error(Errc::invalid, "bad_hex", "hex string has an odd number of digits");
  Bytes out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return make_error(Errc::invalid, "bad_hex", "not a hex digit in '" + std::string(hex.substr(0, 80)) + "'");
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string short_key(const PublicKey& key) { return to_hex(key.view()).substr(0, 8); }

}  // namespace fedswarm
