#include "fedswarm/protocol/Handshake.hpp"

#include <sodium.h>

#include <cstring>
#include <string_view>

namespace fedswarm {

namespace {

constexpr std::uint8_t kMagic[8] = {'F', 'S', 'W', 'M', '/', '1', 0, 0};
constexpr std::size_t kHelloBytes = 8 + 32 + 32;
constexpr std::size_t kSealedSigBytes = 64 + SecureChannel::overhead;
constexpr std::size_t kAuthBytes = SecureChannel::header_bytes + kSealedSigBytes;
constexpr std::string_view kAuthDomain = "fedswarm/handshake/v1";

Error refuse(Errc code, std::string reason, std::string message) {
  return make_error(code, std::move(reason), "handshake: " + std::move(message));
}

}  // namespace

struct Handshake::State {
  enum class Stage { idle, await_hello, await_auth, done, failed };

  Role role;
  const SigningKey& identity;
  std::optional<PublicKey> expected;
  Admit admit;
  Stage stage = Stage::idle;
  std::array<std::uint8_t, 32> eph_pk{}, eph_sk{};
  Bytes hello_i, hello_r;
  std::optional<PublicKey> peer;
  std::unique_ptr<SecureChannel> channel;

  State(Role r, const SigningKey& id, std::optional<PublicKey> exp, Admit a)
      : role(r), identity(id), expected(exp), admit(std::move(a)) {
    crypto_kx_keypair(eph_pk.data(), eph_sk.data());
  }
  ~State() { sodium_memzero(eph_sk.data(), eph_sk.size()); }

  Bytes hello() const {
    Bytes h(kMagic, kMagic + 8);
    h.insert(h.end(), eph_pk.begin(), eph_pk.end());
    h.insert(h.end(), identity.public_key().bytes.begin(), identity.public_key().bytes.end());
    return h;
  }

  // Signed by `signer_role`: both hellos in order, so the signature binds both
  // ephemeral keys to both identities.
  Bytes auth_message(char signer_role) const {
    Bytes transcript = hello_i;
    transcript.insert(transcript.end(), hello_r.begin(), hello_r.end());
    Sha256 h = sha256(transcript);
    Bytes m(kAuthDomain.begin(), kAuthDomain.end());
    m.push_back(static_cast<std::uint8_t>(signer_role));
    m.insert(m.end(), h.bytes.begin(), h.bytes.end());
    return m;
  }

  char own_role() const { return role == Role::initiator ? 'I' : 'R'; }
  char peer_role() const { return role == Role::initiator ? 'R' : 'I'; }

  // Checks a peer HELLO and derives the session keys.
  Status take_hello(ByteView frame) {
    if (frame.size() != kHelloBytes) return refuse(Errc::invalid, "hs_malformed", "HELLO has the wrong length");
    if (std::memcmp(frame.data(), kMagic, 8) != 0)
      return refuse(Errc::invalid, "hs_bad_magic", "peer does not speak fedswarm/1");
    std::array<std::uint8_t, 32> peer_eph{};
    std::memcpy(peer_eph.data(), frame.data() + 8, 32);
    PublicKey key;
    std::memcpy(key.data(), frame.data() + 40, 32);
    peer = key;
    if (key == identity.public_key()) return refuse(Errc::invalid, "hs_self_connection", "connected to itself");
    if (expected && key != *expected)
      return refuse(Errc::unauthorized, "hs_wrong_key", "peer presented key " + short_key(key) + ", not the roster's " + short_key(*expected));
    if (!admit || !admit(key))
      return refuse(Errc::unauthorized, "hs_unknown_key", "key " + short_key(key) + " is not a federation member");
    std::array<std::uint8_t, 32> rx{}, tx{};
    int rc = role == Role::initiator
                 ? crypto_kx_client_session_keys(rx.data(), tx.data(), eph_pk.data(), eph_sk.data(), peer_eph.data())
                 : crypto_kx_server_session_keys(rx.data(), tx.data(), eph_pk.data(), eph_sk.data(), peer_eph.data());
    if (rc != 0) return refuse(Errc::invalid, "hs_malformed", "peer's ephemeral key is unusable");
    channel = SecureChannel::create(tx, rx);
    sodium_memzero(rx.data(), rx.size());
    sodium_memzero(tx.data(), tx.size());
    // The ephemeral secret is needed for nothing else; dropping it now is what makes a
    // later theft of the node key useless for reading this session.
    sodium_memzero(eph_sk.data(), eph_sk.size());
    return {};
  }

  Bytes auth() {
    Signature sig = identity.sign(auth_message(own_role()));
    Bytes out(channel->push_header().begin(), channel->push_header().end());
    Bytes sealed = channel->seal(sig.view());
    out.insert(out.end(), sealed.begin(), sealed.end());
    return out;
  }

  Status take_auth(ByteView frame) {
    if (frame.size() != kAuthBytes) return refuse(Errc::invalid, "hs_malformed", "AUTH has the wrong length");
    if (!channel->set_pull_header(frame.subspan(0, SecureChannel::header_bytes)))
      return refuse(Errc::invalid, "hs_malformed", "AUTH carries an unusable stream header");
    auto opened = channel->open(frame.subspan(SecureChannel::header_bytes));
    if (!opened || opened->size() != 64)
      return refuse(Errc::unauthorized, "hs_bad_signature", "peer's AUTH does not decrypt");
    Signature sig;
    std::memcpy(sig.data(), opened->data(), 64);
    if (!verify_signature(*peer, auth_message(peer_role()), sig))
      return refuse(Errc::unauthorized, "hs_bad_signature", "peer " + short_key(*peer) + " did not prove its key");
    return {};
  }
};

Handshake::Handshake(Role role, const SigningKey& identity, std::optional<PublicKey> expected, Admit admit)
    : s_(std::make_unique<State>(role, identity, expected, std::move(admit))) {}

Handshake::~Handshake() = default;

std::vector<Bytes> Handshake::start() {
  if (s_->stage != State::Stage::idle) return {};
  s_->stage = State::Stage::await_hello;
  if (s_->role == Role::responder) return {};
  s_->hello_i = s_->hello();
  return {s_->hello_i};
}

Result<std::vector<Bytes>> Handshake::on_frame(ByteView frame) {
  using Stage = State::Stage;
  auto fail = [&](Error e) -> Result<std::vector<Bytes>> {
    s_->stage = Stage::failed;
    return e;
  };
  switch (s_->stage) {
    case Stage::idle:
    case Stage::done:
      return fail(refuse(Errc::invalid, "hs_unexpected_frame", "frame outside the handshake"));
    case Stage::failed:
      return refuse(Errc::invalid, "hs_failed", "the handshake already failed");
    case Stage::await_hello: {
      if (s_->role == Role::responder) {
        s_->hello_i.assign(frame.begin(), frame.end());
        s_->hello_r = s_->hello();
        if (auto st = s_->take_hello(frame); !st) return fail(st.error());
        s_->stage = Stage::await_auth;
        return std::vector<Bytes>{s_->hello_r, s_->auth()};
      }
      s_->hello_r.assign(frame.begin(), frame.end());
      if (auto st = s_->take_hello(frame); !st) return fail(st.error());
      s_->stage = Stage::await_auth;
      return std::vector<Bytes>{s_->auth()};
    }
    case Stage::await_auth: {
      if (auto st = s_->take_auth(frame); !st) return fail(st.error());
      s_->stage = Stage::done;
      return std::vector<Bytes>{};
    }
  }
  return fail(refuse(Errc::invalid, "hs_unexpected_frame", "unexpected frame"));
}

bool Handshake::done() const { return s_->stage == State::Stage::done; }

std::optional<PublicKey> Handshake::peer_key() const { return s_->peer; }

std::unique_ptr<SecureChannel> Handshake::take_channel() {
  if (!done()) return nullptr;
  return std::move(s_->channel);
}

}  // namespace fedswarm
