#include <doctest/doctest.h>

#include <random>

#include "TestSupport.hpp"
#include "fedswarm/protocol/FrameCodec.hpp"

using namespace fedswarm;

namespace {

Bytes payload_of(std::size_t n, std::uint8_t fill) { return Bytes(n, fill); }

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::vector<Bytes> drain(FrameDecoder& d) {
  std::vector<Bytes> out;
  while (auto f = d.next()) out.push_back(std::move(*f));
  return out;
}

}  // namespace

TEST_CASE("frames fed one byte at a time come out whole and in order") {
  std::vector<Bytes> sent = {payload_of(1, 0xaa), payload_of(300, 0x01), Bytes{0, 1, 2, 3, 4}, payload_of(70'000, 0x7f)};
  Bytes stream;
  for (const auto& p : sent) {
    auto f = encode_frame(p);
    CHECK(f.size() == p.size() + 4);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  FrameDecoder d;
  std::vector<Bytes> got;
  std::size_t consumed = 0;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    REQUIRE(d.feed(ByteView(&stream[i], 1)).ok());
    while (auto f = d.next()) {
      consumed += 4 + f->size();
      got.push_back(std::move(*f));
    }
    // Only what has arrived is held.
    REQUIRE(d.pending_bytes() == i + 1 - consumed);
  }
  CHECK(got == sent);
  CHECK(d.pending_bytes() == 0);
  CHECK_FALSE(d.next().has_value());
}

TEST_CASE("several frames in one feed, and a frame split across feeds at random points") {
  auto seed = test::test_seed();
  MESSAGE("seed ", seed);
  std::mt19937_64 rng(seed);
  std::vector<Bytes> sent;
  Bytes stream;
  for (int i = 0; i < 200; ++i) {
    Bytes p(1 + rng() % 3000);
    for (auto& b : p) b = static_cast<std::uint8_t>(rng());
    auto f = encode_frame(p);
    stream.insert(stream.end(), f.begin(), f.end());
    sent.push_back(std::move(p));
  }
  SUBCASE("all at once") {
    FrameDecoder d;
    REQUIRE(d.feed(stream).ok());
    CHECK(drain(d) == sent);
  }
  SUBCASE("random chunks, drained after each feed") {
    FrameDecoder d;
    std::vector<Bytes> got;
    for (std::size_t pos = 0; pos < stream.size();) {
      std::size_t n = std::min<std::size_t>(stream.size() - pos, rng() % 5000);
      REQUIRE(d.feed(ByteView(stream).subspan(pos, n)).ok());
      pos += n;
      for (auto& f : drain(d)) got.push_back(std::move(f));
    }
    CHECK(got == sent);
  }
  SUBCASE("random chunks, drained only at the end") {
    FrameDecoder d;
    for (std::size_t pos = 0; pos < stream.size();) {
      std::size_t n = std::min<std::size_t>(stream.size() - pos, rng() % 5000);
      REQUIRE(d.feed(ByteView(stream).subspan(pos, n)).ok());
      pos += n;
    }
    CHECK(drain(d) == sent);
  }
}

TEST_CASE("an oversize length header is refused as soon as it arrives, before any body") {
  FrameDecoder d;
  const Bytes header = {0xff, 0xff, 0xff, 0xff};
  // Three bytes of the header: nothing to judge yet.
  REQUIRE(d.feed(ByteView(header).first(3)).ok());
  auto st = d.feed(ByteView(header).subspan(3));
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == Errc::invalid);
  CHECK(st.error().reason == "frame_too_large");
  // Nothing was reserved for the announced 4 GiB: only the received bytes are held.
  CHECK(d.pending_bytes() == 4);
  CHECK_FALSE(d.next().has_value());
}

TEST_CASE("the limit is exact: max bytes pass, one more fails") {
  const std::size_t max = 1000;
  {
    FrameDecoder d(max);
    auto f = encode_frame(payload_of(max, 3));
    REQUIRE(d.feed(f).ok());
    auto got = d.next();
    REQUIRE(got.has_value());
    CHECK(got->size() == max);
  }
  {
    FrameDecoder d(max);
    Bytes header(4);
    put_u32_be(header.data(), max + 1);
    CHECK(d.feed(header).error().reason == "frame_too_large");
  }
  {
    // The default limit is limits::max_frame_bytes.
    FrameDecoder d;
    Bytes header(4);
    put_u32_be(header.data(), static_cast<std::uint32_t>(limits::max_frame_bytes + 1));
    CHECK(d.feed(header).error().reason == "frame_too_large");
  }
}

TEST_CASE("a zero-length frame is refused") {
  FrameDecoder d;
  auto st = d.feed(Bytes{0, 0, 0, 0});
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().reason == "frame_empty");
  CHECK_FALSE(d.next().has_value());
}

TEST_CASE("a bad header behind good frames in the same feed fails the stream") {
  FrameDecoder d;
  Bytes stream = concat({encode_frame(payload_of(10, 1)), Bytes{0xff, 0xff, 0xff, 0xff}});
  CHECK(d.feed(stream).error().reason == "frame_too_large");
  CHECK_FALSE(d.next().has_value());
}

TEST_CASE("a failed decoder stays failed") {
  FrameDecoder d;
  REQUIRE(d.feed(encode_frame(payload_of(5, 9))).ok());
  CHECK(d.next().has_value());
  CHECK(d.feed(Bytes{0, 0, 0, 0}).error().reason == "frame_empty");
  // Valid frames afterwards change nothing; the first reason is kept.
  for (int i = 0; i < 3; ++i) {
    auto st = d.feed(encode_frame(payload_of(5, 9)));
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().reason == "frame_empty");
    CHECK_FALSE(d.next().has_value());
  }
  CHECK(d.feed(Bytes{}).error().reason == "frame_empty");
}

TEST_CASE("a long stream keeps the buffer compact") {
  FrameDecoder d;
  auto f = encode_frame(payload_of(1000, 5));
  // 20 MB through the decoder, drained as it goes, with frames straddling feeds.
  Bytes two = concat({f, f});
  for (int i = 0; i < 10'000; ++i) {
    REQUIRE(d.feed(ByteView(two).first(1500)).ok());
    REQUIRE(d.feed(ByteView(two).subspan(1500)).ok());
    CHECK(drain(d).size() == 2);
  }
  CHECK(d.pending_bytes() == 0);
}
