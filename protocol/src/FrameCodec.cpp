#include "fedswarm/protocol/FrameCodec.hpp"

#include <string>

namespace fedswarm {

Bytes encode_frame(ByteView payload) {
  Bytes out(4 + payload.size());
  put_u32_be(out.data(), static_cast<std::uint32_t>(payload.size()));
  std::copy(payload.begin(), payload.end(), out.begin() + 4);
  return out;
}

Status FrameDecoder::feed(ByteView bytes) {
  if (error_) return *error_;
  // Compact before growing so a long-lived connection does not accumulate consumed bytes.
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    scan_ -= pos_;
    pos_ = 0;
  } else if (pos_ > (64u << 10)) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    scan_ -= pos_;
    pos_ = 0;
  }
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
  // Every length header is checked as soon as its 4 bytes are in, before the body
  // arrives: nothing is ever allocated from an announced length, only for bytes
  // actually received. `scan_` is the first header not yet checked, so frames left
  // buffered are not re-walked on every feed.
  while (buf_.size() - scan_ >= 4) {
    std::uint32_t len = get_u32_be(buf_.data() + scan_);
    if (len == 0) {
      error_ = make_error(Errc::invalid, "frame_empty", "peer sent an empty frame; disconnect it");
      return *error_;
    }
    if (len > max_) {
      error_ = make_error(Errc::invalid, "frame_too_large",
                          "peer announced a frame of " + std::to_string(len) + " bytes; the limit is " +
                              std::to_string(max_) + "; disconnect it");
      return *error_;
    }
    if (buf_.size() - scan_ - 4 < len) break;
    scan_ += 4 + len;
  }
  return {};
}

std::optional<Bytes> FrameDecoder::next() {
  // Only frames whose header feed() has checked (those before scan_) are handed out.
  if (error_ || scan_ == pos_) return std::nullopt;
  std::uint32_t len = get_u32_be(buf_.data() + pos_);
  Bytes out(buf_.begin() + static_cast<std::ptrdiff_t>(pos_ + 4), buf_.begin() + static_cast<std::ptrdiff_t>(pos_ + 4 + len));
  pos_ += 4 + len;
  return out;
}

}  // namespace fedswarm
