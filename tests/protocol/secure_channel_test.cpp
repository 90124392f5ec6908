#include <doctest/doctest.h>

#include <sodium.h>

#include <random>

#include "TestSupport.hpp"
#include "fedswarm/protocol/SecureChannel.hpp"
#include "fedswarm/protocol/SigningKey.hpp"

using namespace fedswarm;

namespace {

using Key = std::array<std::uint8_t, 32>;

Key random_key() {
  REQUIRE(crypto_init());
  Key k;
  randombytes_buf(k.data(), k.size());
  return k;
}

// Two ends of one link: a's tx is b's rx and the other way round.
struct Pair {
  Key ab = random_key(), ba = random_key();
  std::unique_ptr<SecureChannel> a = SecureChannel::create(ab, ba);
  std::unique_ptr<SecureChannel> b = SecureChannel::create(ba, ab);
  Pair() {
    REQUIRE(a->set_pull_header(b->push_header()).ok());
    REQUIRE(b->set_pull_header(a->push_header()).ok());
  }
};

void check_refused(const Result<Bytes>& r) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::unauthorized);
  CHECK(r.error().reason == "aead_failed");
}

}  // namespace

TEST_CASE("sealed messages open in order on the other side, both ways") {
  Pair p;
  auto seed = test::test_seed();
  MESSAGE("seed ", seed);
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 200; ++i) {
    Bytes m(rng() % 2000);  // includes empty messages
    for (auto& x : m) x = static_cast<std::uint8_t>(rng());
    auto [from, to] = (i % 3 == 0) ? std::tie(p.b, p.a) : std::tie(p.a, p.b);
    auto sealed = from->seal(m);
    CHECK(sealed.size() == m.size() + SecureChannel::overhead);
    auto opened = to->open(sealed);
    REQUIRE(opened.ok());
    CHECK(*opened == m);
  }
}

TEST_CASE("the same plaintext seals differently each time") {
  Pair p;
  Bytes m = {1, 2, 3};
  CHECK(p.a->seal(m) != p.a->seal(m));
}

TEST_CASE("changing any byte of a sealed message is detected") {
  const Bytes m = {'h', 'e', 'l', 'l', 'o', ' ', 'p', 'e', 'e', 'r'};
  std::size_t n = m.size() + SecureChannel::overhead;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::uint8_t flip : {0x01, 0x80, 0xff}) {
      Pair p;
      auto sealed = p.a->seal(m);
      REQUIRE(sealed.size() == n);
      sealed[i] ^= flip;
      CAPTURE(i);
      check_refused(p.b->open(sealed));
    }
  }
}

TEST_CASE("reordered, replayed and dropped messages are refused") {
  SUBCASE("reorder") {
    Pair p;
    auto m1 = p.a->seal(as_bytes("one"));
    auto m2 = p.a->seal(as_bytes("two"));
    check_refused(p.b->open(m2));
  }
  SUBCASE("replay") {
    Pair p;
    auto m1 = p.a->seal(as_bytes("one"));
    REQUIRE(p.b->open(m1).ok());
    check_refused(p.b->open(m1));
  }
  SUBCASE("a message dropped from the stream") {
    Pair p;
    (void)p.a->seal(as_bytes("one"));
    auto m2 = p.a->seal(as_bytes("two"));
    check_refused(p.b->open(m2));
  }
  SUBCASE("reflected back to its sender") {
    Pair p;
    auto m1 = p.a->seal(as_bytes("one"));
    check_refused(p.a->open(m1));
  }
}

TEST_CASE("truncated and short payloads are refused") {
  for (std::size_t keep : {std::size_t{0}, std::size_t{1}, SecureChannel::overhead - 1, SecureChannel::overhead,
                           SecureChannel::overhead + 4}) {
    Pair p;
    auto sealed = p.a->seal(as_bytes("a message of some length"));
    sealed.resize(keep);
    CAPTURE(keep);
    check_refused(p.b->open(sealed));
  }
  Pair p;
  auto sealed = p.a->seal(as_bytes("x"));
  sealed.push_back(0);
  check_refused(p.b->open(sealed));
}

TEST_CASE("after one failure the channel refuses everything, including valid messages") {
  Pair p;
  auto m1 = p.a->seal(as_bytes("one"));
  auto bad = m1;
  bad[0] ^= 1;
  check_refused(p.b->open(bad));
  check_refused(p.b->open(m1));
  check_refused(p.b->open(p.a->seal(as_bytes("two"))));
  // The other direction is independent.
  const Bytes still = {'s', 't', 'i', 'l', 'l'};
  auto back = p.a->open(p.b->seal(still));
  REQUIRE(back.ok());
  CHECK(*back == still);
}

TEST_CASE("a receiver with the wrong key or header refuses") {
  Key ab = random_key(), ba = random_key();
  auto a = SecureChannel::create(ab, ba);
  SUBCASE("wrong key") {
    auto b = SecureChannel::create(ba, random_key());
    REQUIRE(b->set_pull_header(a->push_header()).ok());
    check_refused(b->open(a->seal(as_bytes("x"))));
  }
  SUBCASE("another stream's header") {
    auto other = SecureChannel::create(ab, ba);
    auto b = SecureChannel::create(ba, ab);
    REQUIRE(b->set_pull_header(other->push_header()).ok());
    check_refused(b->open(a->seal(as_bytes("x"))));
  }
  SUBCASE("no header yet") {
    auto b = SecureChannel::create(ba, ab);
    check_refused(b->open(a->seal(as_bytes("x"))));
  }
  SUBCASE("malformed or repeated header") {
    auto b = SecureChannel::create(ba, ab);
    Bytes short_header(a->push_header().begin(), a->push_header().end() - 1);
    CHECK(b->set_pull_header(short_header).error().reason == "aead_bad_header");
    REQUIRE(b->set_pull_header(a->push_header()).ok());
    CHECK(b->set_pull_header(a->push_header()).error().reason == "aead_bad_header");
    auto opened = b->open(a->seal(as_bytes("x")));
    CHECK(opened.ok());
  }
}

TEST_CASE("a message with a FINAL tag is refused even though it authenticates") {
  Key ab = random_key(), ba = random_key();
  auto b = SecureChannel::create(ba, ab);
  // A sender that is not fedswarm: a raw secretstream pushing FINAL.
  crypto_secretstream_xchacha20poly1305_state st;
  std::array<std::uint8_t, SecureChannel::header_bytes> header{};
  crypto_secretstream_xchacha20poly1305_init_push(&st, header.data(), ab.data());
  REQUIRE(b->set_pull_header(header).ok());
  Bytes c(3 + SecureChannel::overhead);
  crypto_secretstream_xchacha20poly1305_push(&st, c.data(), nullptr, reinterpret_cast<const unsigned char*>("abc"), 3,
                                             nullptr, 0, crypto_secretstream_xchacha20poly1305_TAG_FINAL);
  check_refused(b->open(c));
}
