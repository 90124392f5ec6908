// FrameCodec: length-prefixed frames on a byte stream (peer links, DESIGN §4).
//
//   frame = u32 BE payload length | payload
//
// Contract
// - Pure, no I/O; one decoder per connection direction, used from the connection's
//   thread only.
// - The length header is checked against the limit *before* any allocation: a header
//   over `max_frame_bytes` fails with `invalid` reason "frame_too_large" and the decoder
//   stays failed (the connection must be dropped). A zero-length frame is
//   "frame_empty". Memory grows only with bytes actually received, never with an
//   announced length; the caller drains `next()` after each `feed`, so at most one
//   partial frame plus one read's worth of bytes is held.
// - A frame that follows the bad header in the same feed is not returned; frames
//   complete before it are not returned either (the connection is dropped anyway).
#pragma once

#include <cstdint>
#include <optional>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

namespace limits {
// One frame on a peer link: a records batch (gossip.batch_bytes, default 1 MiB) or one
// maximal envelope, plus message and AEAD overhead.
inline constexpr std::size_t max_frame_bytes = (8u << 20) + (64u << 10);
}  // namespace limits

// `payload` must be 1..max_frame_bytes bytes (the peer refuses anything else).
Bytes encode_frame(ByteView payload);

class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_frame_bytes = limits::max_frame_bytes) : max_(max_frame_bytes) {}

  // Appends received bytes. Returns an error once the stream is invalid.
  Status feed(ByteView bytes);
  // The next complete frame's payload, if one is buffered.
  std::optional<Bytes> next();
  // Bytes buffered but not yet returned (for idle/half-frame timeouts).
  std::size_t pending_bytes() const { return buf_.size() - pos_; }

 private:
  std::size_t max_;
  Bytes buf_;
  std::size_t pos_ = 0;   // start of the first frame not yet returned
  std::size_t scan_ = 0;  // first length header not yet checked; frames before it are complete
  std::optional<Error> error_;
};

}  // namespace fedswarm
