#include "fedswarm/protocol/RecordBundle.hpp"

#include <cstring>
#include <string>

#include "fedswarm/protocol/Limits.hpp"

namespace fedswarm {

namespace {
constexpr char kMagic[4] = {'F', 'S', 'R', 'B'};

Error bad(std::string reason, const std::string& why) {
  return make_error(Errc::invalid, std::move(reason), "record bundle: " + why);
}
}  // namespace

Bytes encode_bundle(std::span<const Envelope> records) {
  Bytes out(kMagic, kMagic + 4);
  std::uint8_t buf[4];
  put_u32_be(buf, static_cast<std::uint32_t>(records.size()));
  out.insert(out.end(), buf, buf + 4);
  for (const auto& r : records) {
    Bytes e = r.encode();
    put_u32_be(buf, static_cast<std::uint32_t>(e.size()));
    out.insert(out.end(), buf, buf + 4);
    out.insert(out.end(), e.begin(), e.end());
  }
  return out;
}

Result<std::vector<Envelope>> decode_bundle(ByteView bytes) {
  if (bytes.size() > limits::max_bundle_bytes) return bad("bundle_too_large", "larger than the limit");
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kMagic, 4) != 0)
    return bad("bundle_bad_magic", "not a fedswarm record file (no FSRB header)");
  std::uint32_t count = get_u32_be(bytes.data() + 4);
  if (count > limits::max_bundle_records) return bad("bundle_too_large", "lists too many records");
  std::vector<Envelope> out;
  std::size_t pos = 8;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (bytes.size() - pos < 4) return bad("bundle_truncated", "ends inside record " + std::to_string(i + 1));
    std::uint32_t len = get_u32_be(bytes.data() + pos);
    pos += 4;
    if (len > limits::max_envelope_bytes) return bad("bundle_too_large", "record " + std::to_string(i + 1) + " exceeds the record size limit");
    if (bytes.size() - pos < len) return bad("bundle_truncated", "ends inside record " + std::to_string(i + 1));
    auto env = Envelope::decode(bytes.subspan(pos, len));
    if (!env) return env.error().with_context("record bundle, record " + std::to_string(i + 1));
    out.push_back(std::move(*env));
    pos += len;
  }
  if (pos != bytes.size()) return bad("bundle_trailing_bytes", "has bytes after its last record");
  return out;
}

}  // namespace fedswarm
