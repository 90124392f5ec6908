#include <doctest/doctest.h>

#include <sodium.h>

#include <deque>
#include <functional>
#include <set>
#include <string_view>

#include "fedswarm/protocol/Handshake.hpp"

using namespace fedswarm;

namespace {

using Role = Handshake::Role;

// Frame offsets of the documented layout (Handshake.hpp).
constexpr std::size_t kHelloBytes = 8 + 32 + 32;
constexpr std::size_t kEphOffset = 8;
constexpr std::size_t kAuthBytes = SecureChannel::header_bytes + 64 + SecureChannel::overhead;

struct Node {
  SigningKey key = [] {
    REQUIRE(crypto_init());
    return SigningKey::generate();
  }();
  const PublicKey& pk() const { return key.public_key(); }
};

Handshake::Admit admit_only(std::set<PublicKey> keys) {
  return [keys = std::move(keys)](const PublicKey& k) { return keys.count(k) > 0; };
}
Handshake::Admit admit_all() {
  return [](const PublicKey&) { return true; };
}

// Carries frames between two handshakes as a connection would; stops at the first
// refusal (the side that refuses drops the connection). `tamper(to_responder, index,
// frame)` may change each frame in flight; `index` counts frames in that direction.
struct Link {
  std::optional<Error> initiator_error, responder_error;
  std::function<void(bool, int, Bytes&)> tamper;

  void run(Handshake& initiator, Handshake& responder) {
    std::deque<Bytes> to_r, to_i;
    int n_r = 0, n_i = 0;
    for (auto& f : responder.start()) to_i.push_back(std::move(f));
    for (auto& f : initiator.start()) to_r.push_back(std::move(f));
    while (!to_r.empty() || !to_i.empty()) {
      bool to_resp = !to_r.empty();
      auto& q = to_resp ? to_r : to_i;
      Bytes f = std::move(q.front());
      q.pop_front();
      if (tamper) tamper(to_resp, to_resp ? n_r++ : n_i++, f);
      auto out = (to_resp ? responder : initiator).on_frame(f);
      if (!out) {
        (to_resp ? responder_error : initiator_error) = out.error();
        return;
      }
      for (auto& g : *out) (to_resp ? to_i : to_r).push_back(std::move(g));
    }
  }
};

void check_error(const std::optional<Error>& e, Errc code, std::string_view reason) {
  REQUIRE(e.has_value());
  CHECK(e->code == code);
  CHECK(e->reason == reason);
  CHECK(e->message.find("handshake") != std::string::npos);
}

void check_channels_interoperate(Handshake& a, Handshake& b) {
  auto ca = a.take_channel();
  auto cb = b.take_channel();
  REQUIRE(ca);
  REQUIRE(cb);
  CHECK_FALSE(a.take_channel());  // exactly once
  for (int i = 0; i < 5; ++i) {
    Bytes m(static_cast<std::size_t>(i * 100), static_cast<std::uint8_t>(i));
    auto ab = cb->open(ca->seal(m));
    REQUIRE(ab.ok());
    CHECK(*ab == m);
    auto ba = ca->open(cb->seal(m));
    REQUIRE(ba.ok());
    CHECK(*ba == m);
  }
}

// An independent implementation of one side of the wire format, which can lie: it may
// claim a static key it does not hold, sign the wrong role, or use any ephemeral key.
struct RawPeer {
  Role role;
  const SigningKey& signer;
  PublicKey claimed;
  char signed_role;
  std::array<std::uint8_t, 32> eph_pk{}, eph_sk{};
  Bytes hello_i, hello_r;
  std::unique_ptr<SecureChannel> channel;

  RawPeer(Role r, const SigningKey& s, PublicKey c, char sr) : role(r), signer(s), claimed(c), signed_role(sr) {
    crypto_kx_keypair(eph_pk.data(), eph_sk.data());
  }

  Bytes hello() const {
    Bytes h = {'F', 'S', 'W', 'M', '/', '1', 0, 0};
    h.insert(h.end(), eph_pk.begin(), eph_pk.end());
    h.insert(h.end(), claimed.bytes.begin(), claimed.bytes.end());
    return h;
  }
  // Our hello for the transcript, and the session keys from the peer's.
  void take_peer_hello(const Bytes& peer_hello) {
    REQUIRE(peer_hello.size() == kHelloBytes);
    std::array<std::uint8_t, 32> rx{}, tx{};
    const std::uint8_t* peer_eph = peer_hello.data() + kEphOffset;
    if (role == Role::initiator) {
      hello_r = peer_hello;
      REQUIRE(crypto_kx_client_session_keys(rx.data(), tx.data(), eph_pk.data(), eph_sk.data(), peer_eph) == 0);
    } else {
      hello_i = peer_hello;
      hello_r = hello();
      REQUIRE(crypto_kx_server_session_keys(rx.data(), tx.data(), eph_pk.data(), eph_sk.data(), peer_eph) == 0);
    }
    channel = SecureChannel::create(tx, rx);
  }
  Bytes auth() {
    Bytes transcript = hello_i;
    transcript.insert(transcript.end(), hello_r.begin(), hello_r.end());
    Sha256 h = sha256(transcript);
    std::string_view domain = "fedswarm/handshake/v1";
    Bytes m(domain.begin(), domain.end());
    m.push_back(static_cast<std::uint8_t>(signed_role));
    m.insert(m.end(), h.bytes.begin(), h.bytes.end());
    Signature sig = signer.sign(m);
    Bytes out(channel->push_header().begin(), channel->push_header().end());
    Bytes sealed = channel->seal(sig.view());
    out.insert(out.end(), sealed.begin(), sealed.end());
    return out;
  }
};

// A real responder against a RawPeer initiator; returns the responder's refusal, if any.
std::optional<Error> raw_initiator_vs(Handshake& responder, RawPeer& raw) {
  REQUIRE(responder.start().empty());
  raw.hello_i = raw.hello();
  auto reply = responder.on_frame(raw.hello_i);
  if (!reply) return reply.error();
  REQUIRE(reply->size() == 2);
  raw.take_peer_hello((*reply)[0]);
  auto last = responder.on_frame(raw.auth());
  if (!last) return last.error();
  CHECK(last->empty());
  return std::nullopt;
}

// A real initiator against a RawPeer responder.
std::optional<Error> raw_responder_vs(Handshake& initiator, RawPeer& raw) {
  auto first = initiator.start();
  REQUIRE(first.size() == 1);
  raw.take_peer_hello(first[0]);
  auto reply = initiator.on_frame(raw.hello_r);
  if (!reply) return reply.error();
  REQUIRE(reply->size() == 1);
  auto last = initiator.on_frame(raw.auth());
  if (!last) return last.error();
  return std::nullopt;
}

}  // namespace

TEST_CASE("two handshakes complete and their channels interoperate both ways") {
  Node a, b;
  Handshake ini(Role::initiator, a.key, b.pk(), admit_only({b.pk()}));
  Handshake resp(Role::responder, b.key, std::nullopt, admit_only({a.pk()}));
  CHECK_FALSE(ini.peer_key());
  std::vector<std::size_t> sizes;
  Link link;
  link.tamper = [&](bool, int, Bytes& f) { sizes.push_back(f.size()); };
  link.run(ini, resp);
  CHECK_FALSE(link.initiator_error);
  CHECK_FALSE(link.responder_error);
  REQUIRE(ini.done());
  REQUIRE(resp.done());
  CHECK(ini.peer_key() == b.pk());
  CHECK(resp.peer_key() == a.pk());
  // HELLO, HELLO, then the two AUTHs, as documented.
  CHECK(sizes == std::vector<std::size_t>{kHelloBytes, kHelloBytes, kAuthBytes, kAuthBytes});
  check_channels_interoperate(ini, resp);
}

TEST_CASE("each connection gets fresh session keys") {
  Node a, b;
  auto connect = [&] {
    auto ini = std::make_unique<Handshake>(Role::initiator, a.key, b.pk(), admit_all());
    auto resp = std::make_unique<Handshake>(Role::responder, b.key, std::nullopt, admit_all());
    Link link;
    link.run(*ini, *resp);
    REQUIRE(ini->done());
    REQUIRE(resp->done());
    return std::pair{ini->take_channel(), resp->take_channel()};
  };
  auto [a1, b1] = connect();
  auto [a2, b2] = connect();
  // A message of the first session does not open in the second.
  auto m = a1->seal(as_bytes("first session"));
  CHECK(b1->open(m).ok());
  CHECK(b2->open(m).error().reason == "aead_failed");
}

TEST_CASE("the wire format is the documented one (an independent implementation completes)") {
  Node a, b;
  SUBCASE("raw initiator, real responder") {
    Handshake resp(Role::responder, b.key, std::nullopt, admit_only({a.pk()}));
    RawPeer raw(Role::initiator, a.key, a.pk(), 'I');
    CHECK_FALSE(raw_initiator_vs(resp, raw));
    CHECK(resp.done());
    CHECK(resp.peer_key() == a.pk());
  }
  SUBCASE("real initiator, raw responder") {
    Handshake ini(Role::initiator, a.key, b.pk(), admit_only({b.pk()}));
    RawPeer raw(Role::responder, b.key, b.pk(), 'R');
    CHECK_FALSE(raw_responder_vs(ini, raw));
    CHECK(ini.done());
  }
}

TEST_CASE("a HELLO with a bad magic is refused") {
  Node a, b;
  for (bool to_responder : {true, false}) {
    Handshake ini(Role::initiator, a.key, b.pk(), admit_all());
    Handshake resp(Role::responder, b.key, std::nullopt, admit_all());
    Link link;
    link.tamper = [&](bool dir, int n, Bytes& f) {
      if (dir == to_responder && n == 0) f[5] = '2';  // "FSWM/2"
    };
    link.run(ini, resp);
    check_error(to_responder ? link.responder_error : link.initiator_error, Errc::invalid, "hs_bad_magic");
    CHECK_FALSE(ini.done());
    CHECK_FALSE(resp.done());
  }
  // Not fedswarm at all, with the right length.
  Handshake resp(Role::responder, b.key, std::nullopt, admit_all());
  (void)resp.start();
  Bytes http(kHelloBytes, ' ');
  std::string_view get = "GET / HTTP/1.1";
  std::copy(get.begin(), get.end(), http.begin());
  CHECK(resp.on_frame(http).error().reason == "hs_bad_magic");
}

TEST_CASE("HELLO and AUTH of the wrong size are refused as malformed") {
  Node a, b;
  struct Case {
    bool to_responder;
    int frame;
    long delta;
  };
  // Frames to the responder: 0 = HELLO, 1 = AUTH. To the initiator: 0 = HELLO, 1 = AUTH.
  for (Case c : {Case{true, 0, -1}, Case{true, 0, 1}, Case{true, 0, -72}, Case{false, 0, -1}, Case{false, 0, 100},
                 Case{true, 1, -1}, Case{true, 1, 1}, Case{false, 1, -1}, Case{false, 1, 1}, Case{false, 1, -64}}) {
    CAPTURE(c.to_responder);
    CAPTURE(c.frame);
    CAPTURE(c.delta);
    Handshake ini(Role::initiator, a.key, b.pk(), admit_all());
    Handshake resp(Role::responder, b.key, std::nullopt, admit_all());
    Link link;
    link.tamper = [&](bool dir, int n, Bytes& f) {
      if (dir == c.to_responder && n == c.frame) f.resize(static_cast<std::size_t>(static_cast<long>(f.size()) + c.delta), 0);
    };
    link.run(ini, resp);
    check_error(c.to_responder ? link.responder_error : link.initiator_error, Errc::invalid, "hs_malformed");
  }
}

TEST_CASE("a peer whose key admit() refuses is refused as unknown, on either side") {
  Node a, b;
  SUBCASE("responder does not know the initiator") {
    Handshake ini(Role::initiator, a.key, b.pk(), admit_all());
    Handshake resp(Role::responder, b.key, std::nullopt, admit_only({}));
    Link link;
    link.run(ini, resp);
    check_error(link.responder_error, Errc::unauthorized, "hs_unknown_key");
    CHECK(resp.peer_key() == a.pk());  // known for the log even though refused
  }
  SUBCASE("initiator's roster no longer lists the responder") {
    Handshake ini(Role::initiator, a.key, b.pk(), admit_only({}));
    Handshake resp(Role::responder, b.key, std::nullopt, admit_all());
    Link link;
    link.run(ini, resp);
    check_error(link.initiator_error, Errc::unauthorized, "hs_unknown_key");
  }
  SUBCASE("no admit function admits nobody") {
    Handshake ini(Role::initiator, a.key, b.pk(), admit_all());
    Handshake resp(Role::responder, b.key, std::nullopt, nullptr);
    Link link;
    link.run(ini, resp);
    check_error(link.responder_error, Errc::unauthorized, "hs_unknown_key");
  }
}

TEST_CASE("an initiator refuses a responder presenting another key than the one dialled") {
  Node a, b, c;
  // a dials the roster entry of c, but b answers at that address; b is a member too.
  Handshake ini(Role::initiator, a.key, c.pk(), admit_all());
  Handshake resp(Role::responder, b.key, std::nullopt, admit_all());
  Link link;
  link.run(ini, resp);
  check_error(link.initiator_error, Errc::unauthorized, "hs_wrong_key");
  CHECK(ini.peer_key() == b.pk());
  CHECK_FALSE(ini.done());
}

TEST_CASE("a connection to itself is refused") {
  Node a;
  SUBCASE("responder sees its own key") {
    Handshake ini(Role::initiator, a.key, std::nullopt, admit_all());
    Handshake resp(Role::responder, a.key, std::nullopt, admit_all());
    Link link;
    link.run(ini, resp);
    check_error(link.responder_error, Errc::invalid, "hs_self_connection");
  }
  SUBCASE("initiator sees its own key, even when it dialled it") {
    Handshake ini(Role::initiator, a.key, a.pk(), admit_all());
    // A responder that does not check for itself, so the initiator gets to see the HELLO.
    auto first = ini.start();
    RawPeer raw(Role::responder, a.key, a.pk(), 'R');
    raw.take_peer_hello(first[0]);
    auto r = ini.on_frame(raw.hello_r);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().reason == "hs_self_connection");
  }
}

TEST_CASE("a peer that claims a member's key without holding it fails the signature check") {
  Node a, b, mallory;
  SUBCASE("impersonating an initiator") {
    Handshake resp(Role::responder, b.key, std::nullopt, admit_only({a.pk()}));
    RawPeer raw(Role::initiator, mallory.key, a.pk(), 'I');
    auto e = raw_initiator_vs(resp, raw);
    check_error(e, Errc::unauthorized, "hs_bad_signature");
    CHECK_FALSE(resp.done());
    CHECK_FALSE(resp.take_channel());
  }
  SUBCASE("impersonating the responder dialled") {
    Handshake ini(Role::initiator, a.key, b.pk(), admit_only({b.pk()}));
    RawPeer raw(Role::responder, mallory.key, b.pk(), 'R');
    check_error(raw_responder_vs(ini, raw), Errc::unauthorized, "hs_bad_signature");
    CHECK_FALSE(ini.done());
  }
}

TEST_CASE("an AUTH signed for the other role is refused") {
  Node a, b;
  SUBCASE("initiator signs as responder") {
    Handshake resp(Role::responder, b.key, std::nullopt, admit_all());
    RawPeer raw(Role::initiator, a.key, a.pk(), 'R');
    check_error(raw_initiator_vs(resp, raw), Errc::unauthorized, "hs_bad_signature");
  }
  SUBCASE("responder signs as initiator") {
    Handshake ini(Role::initiator, a.key, b.pk(), admit_all());
    RawPeer raw(Role::responder, b.key, b.pk(), 'I');
    check_error(raw_responder_vs(ini, raw), Errc::unauthorized, "hs_bad_signature");
  }
}

TEST_CASE("an AUTH damaged in flight is refused") {
  Node a, b;
  for (std::size_t at : {std::size_t{0}, SecureChannel::header_bytes - 1, SecureChannel::header_bytes, kAuthBytes - 1}) {
    for (bool to_responder : {true, false}) {
      CAPTURE(at);
      CAPTURE(to_responder);
      Handshake ini(Role::initiator, a.key, b.pk(), admit_all());
      Handshake resp(Role::responder, b.key, std::nullopt, admit_all());
      Link link;
      link.tamper = [&](bool dir, int n, Bytes& f) {
        if (dir == to_responder && n == 1) f[at] ^= 0x01;
      };
      link.run(ini, resp);
      check_error(to_responder ? link.responder_error : link.initiator_error, Errc::unauthorized, "hs_bad_signature");
    }
  }
}

TEST_CASE("an unusable ephemeral key is refused") {
  Node a, b;
  Handshake resp(Role::responder, b.key, std::nullopt, admit_all());
  (void)resp.start();
  RawPeer raw(Role::initiator, a.key, a.pk(), 'I');
  Bytes hello = raw.hello();
  std::fill(hello.begin() + kEphOffset, hello.begin() + kEphOffset + 32, 0);  // low-order point
  auto r = resp.on_frame(hello);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().reason == "hs_malformed");
}

TEST_CASE("a man in the middle swapping ephemeral keys cannot complete either side") {
  Node a, b;
  Handshake ini(Role::initiator, a.key, b.pk(), admit_all());
  Handshake resp(Role::responder, b.key, std::nullopt, admit_all());
  (void)resp.start();
  // Mallory runs a key exchange with each side and relays everything else, re-sealing
  // each AUTH for the other side: the transcripts the two sides signed then differ.
  std::array<std::uint8_t, 32> m_to_r_pk{}, m_to_r_sk{}, m_to_i_pk{}, m_to_i_sk{};
  crypto_kx_keypair(m_to_r_pk.data(), m_to_r_sk.data());
  crypto_kx_keypair(m_to_i_pk.data(), m_to_i_sk.data());

  Bytes hello_i = ini.start().at(0);
  Bytes hello_i_forged = hello_i;
  std::copy(m_to_r_pk.begin(), m_to_r_pk.end(), hello_i_forged.begin() + kEphOffset);
  auto r_out = resp.on_frame(hello_i_forged);
  REQUIRE(r_out.ok());
  REQUIRE(r_out->size() == 2);
  Bytes hello_r = (*r_out)[0], auth_r = (*r_out)[1];

  std::array<std::uint8_t, 32> rx_r{}, tx_r{}, rx_i{}, tx_i{};
  REQUIRE(crypto_kx_client_session_keys(rx_r.data(), tx_r.data(), m_to_r_pk.data(), m_to_r_sk.data(),
                                        hello_r.data() + kEphOffset) == 0);
  REQUIRE(crypto_kx_server_session_keys(rx_i.data(), tx_i.data(), m_to_i_pk.data(), m_to_i_sk.data(),
                                        hello_i.data() + kEphOffset) == 0);
  auto side_r = SecureChannel::create(tx_r, rx_r);
  auto side_i = SecureChannel::create(tx_i, rx_i);
  auto reseal = [](const Bytes& auth, SecureChannel& from, SecureChannel& to) {
    REQUIRE(from.set_pull_header(ByteView(auth).first(SecureChannel::header_bytes)).ok());
    auto sig = from.open(ByteView(auth).subspan(SecureChannel::header_bytes));
    REQUIRE(sig.ok());  // Mallory can read the signature...
    Bytes out(to.push_header().begin(), to.push_header().end());
    auto sealed = to.seal(*sig);
    out.insert(out.end(), sealed.begin(), sealed.end());
    return out;
  };

  Bytes hello_r_forged = hello_r;
  std::copy(m_to_i_pk.begin(), m_to_i_pk.end(), hello_r_forged.begin() + kEphOffset);
  auto i_out = ini.on_frame(hello_r_forged);
  REQUIRE(i_out.ok());
  REQUIRE(i_out->size() == 1);
  Bytes auth_i = (*i_out)[0];

  // ...but it does not verify over the transcript each victim saw.
  auto i_last = ini.on_frame(reseal(auth_r, *side_r, *side_i));
  REQUIRE_FALSE(i_last.ok());
  CHECK(i_last.error().reason == "hs_bad_signature");
  auto r_last = resp.on_frame(reseal(auth_i, *side_i, *side_r));
  REQUIRE_FALSE(r_last.ok());
  CHECK(r_last.error().reason == "hs_bad_signature");
  CHECK_FALSE(ini.done());
  CHECK_FALSE(resp.done());
}

TEST_CASE("frames after a failure, after completion, or before start are refused") {
  Node a, b;
  SUBCASE("after a failure every call fails") {
    Handshake resp(Role::responder, b.key, std::nullopt, admit_all());
    (void)resp.start();
    CHECK(resp.on_frame(Bytes(3, 0)).error().reason == "hs_malformed");
    // Even a perfectly good HELLO.
    Handshake ini(Role::initiator, a.key, b.pk(), admit_all());
    auto hello = ini.start().at(0);
    for (int i = 0; i < 3; ++i) {
      auto r = resp.on_frame(hello);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().reason == "hs_failed");
    }
    CHECK_FALSE(resp.done());
    CHECK_FALSE(resp.take_channel());
  }
  SUBCASE("after completion") {
    Handshake ini(Role::initiator, a.key, b.pk(), admit_all());
    Handshake resp(Role::responder, b.key, std::nullopt, admit_all());
    Link link;
    link.run(ini, resp);
    REQUIRE(ini.done());
    REQUIRE(resp.done());
    auto ci = ini.take_channel();
    auto cr = resp.take_channel();
    REQUIRE(ci);
    REQUIRE(cr);
    auto r = resp.on_frame(Bytes(kAuthBytes, 0));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().reason == "hs_unexpected_frame");
    CHECK(resp.on_frame(Bytes(kAuthBytes, 0)).error().reason == "hs_failed");
    CHECK(ini.on_frame(Bytes(kHelloBytes, 0)).error().reason == "hs_unexpected_frame");
    // Channels already taken are not affected by what the handshakes do afterwards.
    Bytes m = {1, 2, 3};
    auto opened = cr->open(ci->seal(m));
    REQUIRE(opened.ok());
    CHECK(*opened == m);
  }
  SUBCASE("before start") {
    Handshake resp(Role::responder, b.key, std::nullopt, admit_all());
    Handshake ini(Role::initiator, a.key, b.pk(), admit_all());
    auto r = resp.on_frame(ini.start().at(0));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().reason == "hs_unexpected_frame");
  }
  SUBCASE("a second HELLO where AUTH is due") {
    Handshake ini(Role::initiator, a.key, b.pk(), admit_all());
    Handshake resp(Role::responder, b.key, std::nullopt, admit_all());
    (void)resp.start();
    auto hello = ini.start().at(0);
    REQUIRE(resp.on_frame(hello).ok());
    CHECK(resp.on_frame(hello).error().reason == "hs_malformed");
  }
}
