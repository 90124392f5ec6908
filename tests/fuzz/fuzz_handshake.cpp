// Fuzz target: the peer-link handshake state machine. The first byte picks a mode:
//   0  a responder fed fuzz frames
//   1  an initiator (after its HELLO) fed fuzz frames
//   2+ a real initiator and responder whose frames in flight are mutated, dropped,
//      duplicated or replaced as the input says
// Invariants: nothing here holds a member's secret key, so fuzz frames never complete a
// handshake; a side that completes received exactly the frames its peer sent, knows the
// right peer key, and its channel interoperates with the peer's.
//
// libsodium's randomness is replaced by a generator reset for every input, so ephemeral
// keys, and so every run, are reproducible from the input alone.
#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "fedswarm/protocol/Handshake.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::uint64_t g_rng = 1;

std::uint64_t next_u64() {
  // splitmix64
  std::uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
const char* rng_name() { return "fuzz-deterministic"; }
std::uint32_t rng_random() { return static_cast<std::uint32_t>(next_u64()); }
void rng_buf(void* const buf, const std::size_t size) {
  auto* p = static_cast<unsigned char*>(buf);
  for (std::size_t i = 0; i < size; ++i) p[i] = static_cast<unsigned char>(next_u64());
}
randombytes_implementation g_impl = {rng_name, rng_random, nullptr, nullptr, rng_buf, nullptr};

struct Keys {
  fedswarm::SigningKey a, b;
};
const Keys* g_keys = nullptr;

// Reads the input front to back; past the end it yields zeros.
struct Input {
  const std::uint8_t* p;
  std::size_t n;
  bool empty() const { return n == 0; }
  std::uint8_t byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  fedswarm::Bytes take(std::size_t k) {
    if (k > n) k = n;
    fedswarm::Bytes out(p, p + k);
    p += k;
    n -= k;
    return out;
  }
  // A frame: u16 BE length, then that many bytes (fewer at the end of the input).
  fedswarm::Bytes frame() {
    std::size_t len = static_cast<std::size_t>(byte()) << 8;
    len |= byte();
    return take(len);
  }
};

using fedswarm::Handshake;
using Role = Handshake::Role;

Handshake::Admit admit(bool all) {
  return [all](const fedswarm::PublicKey&) { return all; };
}

void feed_raw(Handshake& h, Input& in) {
  for (int i = 0; i < 8 && !in.empty(); ++i) {
    auto r = h.on_frame(in.frame());
    check(!h.done());
    if (!r) {
      // Once failed, always failed.
      auto again = h.on_frame(fedswarm::Bytes(72, 0));
      check(!again && again.error().reason == "hs_failed");
      return;
    }
  }
}

void mitm(Input& in) {
  const auto& a = g_keys->a;
  const auto& b = g_keys->b;
  Handshake ini(Role::initiator, a, b.public_key(), admit(true));
  Handshake resp(Role::responder, b, std::nullopt, admit(true));
  std::deque<fedswarm::Bytes> to_r, to_i;
  std::vector<fedswarm::Bytes> sent_to_r, sent_to_i, got_r, got_i;
  for (auto& f : resp.start()) to_i.push_back(f);
  for (auto& f : ini.start()) to_r.push_back(f);
  bool failed = false;
  for (int step = 0; step < 16 && !failed && (!to_r.empty() || !to_i.empty()); ++step) {
    bool to_resp = !to_r.empty() && (to_i.empty() || (in.byte() & 1) == 0);
    auto& q = to_resp ? to_r : to_i;
    fedswarm::Bytes f = q.front();
    q.pop_front();
    (to_resp ? sent_to_r : sent_to_i).push_back(f);
    std::vector<fedswarm::Bytes> deliver;
    switch (in.byte() % 8) {
      case 0: case 1: deliver.push_back(f); break;
      case 2:
        if (!f.empty()) f[in.byte() % f.size()] ^= static_cast<std::uint8_t>(in.byte() | 1);
        deliver.push_back(f);
        break;
      case 3: f.resize(f.empty() ? 0 : in.byte() % f.size()); deliver.push_back(f); break;
      case 4: {
        auto extra = in.take(1 + in.byte() % 16);
        f.insert(f.end(), extra.begin(), extra.end());
        deliver.push_back(f);
        break;
      }
      case 5: deliver.push_back(in.frame()); break;
      case 6: break;  // dropped
      case 7: deliver.push_back(f); deliver.push_back(f); break;
    }
    for (auto& d : deliver) {
      (to_resp ? got_r : got_i).push_back(d);
      auto out = (to_resp ? resp : ini).on_frame(d);
      if (!out) {
        failed = true;  // the refusing side drops the connection
        break;
      }
      for (auto& g : *out) (to_resp ? to_i : to_r).push_back(g);
    }
  }
  if (ini.done()) {
    check(ini.peer_key() == b.public_key());
    check(got_i == sent_to_i);
  }
  if (resp.done()) {
    check(resp.peer_key() == a.public_key());
    check(got_r == sent_to_r);
  }
  if (ini.done() && resp.done()) {
    auto ci = ini.take_channel();
    auto cr = resp.take_channel();
    check(ci && cr);
    fedswarm::Bytes m = {1, 2, 3, 4};
    auto x = cr->open(ci->seal(m));
    check(x && *x == m);
    auto y = ci->open(cr->seal(m));
    check(y && *y == m);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Must precede sodium_init (called by crypto_init).
  randombytes_set_implementation(&g_impl);
  if (!fedswarm::crypto_init()) __builtin_trap();
  fedswarm::SigningKey::Seed sa, sb;
  sa.bytes.fill(0xa1);
  sb.bytes.fill(0xb2);
  g_keys = new Keys{fedswarm::SigningKey::from_seed(sa), fedswarm::SigningKey::from_seed(sb)};
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  g_rng = 1;
  Input in{data, size};
  std::uint8_t mode = in.byte();
  std::uint8_t opts = in.byte();
  switch (mode % 4) {
    case 0: {
      Handshake resp(Role::responder, g_keys->b, std::nullopt, admit(opts & 1));
      check(resp.start().empty());
      feed_raw(resp, in);
      break;
    }
    case 1: {
      std::optional<fedswarm::PublicKey> expected;
      if (opts & 2) expected = g_keys->b.public_key();
      Handshake ini(Role::initiator, g_keys->a, expected, admit(opts & 1));
      check(ini.start().size() == 1);
      feed_raw(ini, in);
      break;
    }
    default:
      mitm(in);
  }
  return 0;
}
