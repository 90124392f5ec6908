#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "swarm/SpreadLedger.hpp"

using namespace fedswarm;

namespace {

using Clock = SpreadLedger::Clock;
constexpr int kPieceLength = 16 * 1024;

// Peers are told apart by address only; these stand in for connections.
const char kPeers[3] = {};
const SpreadLedger::PeerId a = &kPeers[0], b = &kPeers[1], seed = &kPeers[2];

std::set<int> as_set(const std::vector<int>& v) { return {v.begin(), v.end()}; }

// A seeding ledger of `pieces` with peers a and b joined, each having announced nothing held.
SpreadLedger two_fetchers(int pieces) {
  SpreadLedger l(pieces, kPieceLength);
  l.set_seeding(true);
  l.join(a);
  l.join(b);
  l.announce_none(a);
  l.announce_none(b);
  return l;
}

}  // namespace

TEST_CASE("SpreadLedger: two fetchers are handed different pieces, lowest first, only while seeding") {
  SpreadLedger l(20, kPieceLength);
  const auto t0 = Clock::now();
  l.join(a);
  l.join(b);
  l.announce_none(a);
  CHECK(l.top_up(a, t0).empty());  // not seeding yet
  l.set_seeding(true);
  CHECK(l.top_up(b, t0).empty());  // b has not said what it has
  const auto to_a = l.top_up(a, t0);
  CHECK(to_a == std::vector<int>{0, 1, 2, 3});  // kMinSupply with no rate measured yet
  CHECK(l.top_up(a, t0).empty());              // supplied
  l.announce_none(b);
  CHECK(l.top_up(b, t0) == std::vector<int>{4, 5, 6, 7});
}

TEST_CASE("SpreadLedger: an announced piece is replaced, and a piece someone holds is never handed out") {
  SpreadLedger l(12, kPieceLength);
  const auto t0 = Clock::now();
  l.set_seeding(true);
  l.join(a);
  l.join(b);
  l.announce_bitfield(b, {false, false, true, false});  // b got piece 2 elsewhere
  l.announce_none(a);
  CHECK(l.top_up(a, t0) == std::vector<int>{0, 1, 3, 4});
  l.have(a, 1);
  CHECK(l.outstanding(a) == 3);
  CHECK(l.top_up(a, t0) == std::vector<int>{5});
  // b lacks 0, 3, 4, 5 too, but they are a's: b gets the next free ones.
  CHECK(l.top_up(b, t0) == std::vector<int>{6, 7, 8, 9});
  // A piece nobody was handed that a peer announces on its own is not handed out.
  l.have(b, 10);
  l.have(a, 0);
  CHECK(l.top_up(a, t0) == std::vector<int>{11});
}

TEST_CASE("SpreadLedger: a suggestion not announced within kStale is handed to another fetcher") {
  SpreadLedger l = two_fetchers(4);
  const auto t0 = Clock::now();
  CHECK(l.top_up(a, t0) == std::vector<int>{0, 1, 2, 3});
  CHECK(l.top_up(b, t0).empty());  // everything is out
  l.tick(t0 + SpreadLedger::kStale - std::chrono::seconds(1));
  CHECK(l.top_up(b, t0).empty());
  l.tick(t0 + SpreadLedger::kStale);
  CHECK(l.outstanding(a) == 0);
  CHECK(as_set(l.top_up(b, t0 + SpreadLedger::kStale)) == std::set<int>{0, 1, 2, 3});
}

TEST_CASE("SpreadLedger: a fetcher that leaves gives back what it was handed and what it held") {
  SpreadLedger l = two_fetchers(8);
  const auto t0 = Clock::now();
  CHECK(l.top_up(a, t0) == std::vector<int>{0, 1, 2, 3});
  l.have(a, 0);  // a holds 0 now; 4 is handed in its place
  CHECK(l.top_up(a, t0) == std::vector<int>{4});
  CHECK(l.top_up(b, t0) == std::vector<int>{5, 6, 7});
  l.leave(a);
  l.leave(a);  // twice is harmless
  CHECK(l.outstanding(a) == 0);
  CHECK(l.top_up(b, t0) == std::vector<int>{0});  // b is supplied to 4 again, lowest first
  l.have(b, 5);
  CHECK(l.top_up(b, t0) == std::vector<int>{1});
}

TEST_CASE("SpreadLedger: seeds are handed nothing and do not hide pieces from the fetchers") {
  SpreadLedger l(6, kPieceLength);
  const auto t0 = Clock::now();
  l.set_seeding(true);
  l.join(seed);
  l.join(a);
  l.join(b);
  l.announce_all(seed);
  l.announce_bitfield(b, std::vector<bool>(6, true));  // a full bitfield is a seed too
  CHECK(l.is_seed(seed));
  CHECK(l.is_seed(b));
  CHECK(l.top_up(seed, t0).empty());
  CHECK(l.top_up(b, t0).empty());
  l.have(seed, 0);  // ignored
  l.announce_none(a);
  CHECK(l.top_up(a, t0) == std::vector<int>{0, 1, 2, 3});
}

TEST_CASE("SpreadLedger: a fetcher's supply follows its rate from this node") {
  SpreadLedger l(200, kPieceLength);
  const auto t0 = Clock::now();
  l.set_seeding(true);
  l.join(a);
  l.announce_none(a);
  CHECK(l.top_up(a, t0).size() == SpreadLedger::kMinSupply);
  // 10 pieces a second, smoothed over two ticks: 5 a second, 10 for kSupplySeconds, + 2.
  l.sent(a, 10 * kPieceLength);
  l.tick(t0 + std::chrono::seconds(1));
  CHECK(l.top_up(a, t0).size() == 12 - SpreadLedger::kMinSupply);
  CHECK(l.outstanding(a) == 12);
  // Never more than kMaxSupply however fast.
  l.sent(a, 1000 * kPieceLength);
  l.tick(t0 + std::chrono::seconds(2));
  l.top_up(a, t0);
  CHECK(l.outstanding(a) == SpreadLedger::kMaxSupply);
}

TEST_CASE("SpreadLedger: unknown peers and pieces out of range are ignored") {
  SpreadLedger l(4, kPieceLength);
  const auto t0 = Clock::now();
  l.set_seeding(true);
  l.have(a, 0);  // never joined
  l.sent(a, 100);
  CHECK(l.top_up(a, t0).empty());
  l.join(a);
  l.have(a, -1);
  l.have(a, 4);
  l.dont_have(a, 7);
  l.announce_bitfield(a, std::vector<bool>(100, false));  // longer than the torrent
  CHECK(l.top_up(a, t0) == std::vector<int>{0, 1, 2, 3});
  // A piece a peer drops is free again once it is no longer outstanding anywhere.
  SpreadLedger m(4, kPieceLength);
  m.set_seeding(true);
  m.join(a);
  m.join(b);
  m.announce_bitfield(a, {true, true, true, true, false});
  CHECK(m.is_seed(a));
  m.announce_bitfield(b, {true, false, false, false});
  m.dont_have(b, 0);
  CHECK(m.top_up(b, t0) == std::vector<int>{0, 1, 2, 3});
}
