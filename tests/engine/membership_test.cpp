#include <doctest/doctest.h>

#include <algorithm>

#include "ManifestFactory.hpp"
#include "gossip/Membership.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

MembershipConfig config() {
  MembershipConfig c;
  c.suspect_after_ms = 3000;
  c.down_after_ms = 10000;
  c.backoff_initial_ms = 500;
  c.backoff_max_ms = 4000;
  return c;
}

struct Fixture {
  SigningKey self = SigningKey::generate();
  SigningKey a = SigningKey::generate();
  SigningKey b = SigningKey::generate();
  SigningKey stranger = SigningKey::generate();
  Membership m{config(), self.public_key()};

  Fixture() {
    REQUIRE(crypto_init());
    m.set_roster(make_roster(1, {member(self, "self"), member(a, "a"), member(b, "b")}, {}));
  }
  PeerId ka() const { return a.public_key(); }
  PeerId kb() const { return b.public_key(); }
};

bool contains(const std::vector<PeerId>& v, const PeerId& k) { return std::find(v.begin(), v.end(), k) != v.end(); }

}  // namespace

TEST_CASE("membership: admit only roster members other than self") {
  Fixture f;
  CHECK(f.m.admit(f.ka()));
  CHECK(f.m.admit(f.kb()));
  CHECK_FALSE(f.m.admit(f.self.public_key()));
  CHECK_FALSE(f.m.admit(f.stranger.public_key()));
  CHECK(f.m.peers().size() == 2);
  CHECK(f.m.peer(f.self.public_key()) == nullptr);
  // Unknown peers are ignored by everything else.
  f.m.connected(f.stranger.public_key(), 100);
  f.m.heard_from(f.stranger.public_key(), 100);
  f.m.disconnected(f.stranger.public_key(), 100, "x", true);
  CHECK(f.m.peers().size() == 2);
  CHECK(f.m.live().empty());
}

TEST_CASE("membership: up -> suspect -> down by time, back up on a frame") {
  Fixture f;
  CHECK(f.m.peer(f.ka())->state == PeerState::down);  // never heard from
  f.m.connected(f.ka(), 1000);
  CHECK(f.m.peer(f.ka())->state == PeerState::up);
  CHECK(contains(f.m.live(), f.ka()));
  CHECK_FALSE(contains(f.m.live(), f.kb()));  // no link

  f.m.tick(3999);
  CHECK(f.m.peer(f.ka())->state == PeerState::up);
  f.m.tick(4000);
  CHECK(f.m.peer(f.ka())->state == PeerState::suspect);
  CHECK(contains(f.m.live(), f.ka()));  // suspects are still gossiped with
  CHECK(f.m.stale_links().empty());
  f.m.tick(11000);
  CHECK(f.m.peer(f.ka())->state == PeerState::down);
  CHECK_FALSE(contains(f.m.live(), f.ka()));
  CHECK(f.m.stale_links() == std::vector<PeerId>{f.ka()});

  Heartbeat hb;
  hb.free_capacity = 42;
  hb.software_version = "0.1.0";
  f.m.on_heartbeat(f.ka(), hb, 11500);
  CHECK(f.m.peer(f.ka())->state == PeerState::up);
  CHECK(f.m.peer(f.ka())->last_seen_ms == 11500);
  REQUIRE(f.m.peer(f.ka())->heartbeat);
  CHECK(f.m.peer(f.ka())->heartbeat->free_capacity == 42);
  f.m.tick(12000);
  CHECK(f.m.peer(f.ka())->state == PeerState::up);
}

TEST_CASE("membership: up_since is when a member last came up from down, not every frame") {
  Fixture f;
  CHECK(f.m.peer(f.ka())->up_since_ms == 0);  // never heard from
  f.m.connected(f.ka(), 1000);
  CHECK(f.m.peer(f.ka())->up_since_ms == 1000);
  f.m.heard_from(f.ka(), 2000);
  f.m.tick(5000);  // suspect: still alive, same up_since
  CHECK(f.m.peer(f.ka())->state == PeerState::suspect);
  f.m.heard_from(f.ka(), 5500);
  CHECK(f.m.peer(f.ka())->up_since_ms == 1000);
  f.m.tick(20000);
  CHECK(f.m.peer(f.ka())->state == PeerState::down);
  f.m.heard_from(f.ka(), 21000);  // back: a new up_since
  CHECK(f.m.peer(f.ka())->up_since_ms == 21000);
  f.m.disconnected(f.ka(), 22000, "closed", false);
  f.m.tick(40000);
  f.m.connected(f.ka(), 41000);
  CHECK(f.m.peer(f.ka())->up_since_ms == 41000);
}

TEST_CASE("membership: failed dials double the backoff up to the cap") {
  Fixture f;
  std::int64_t now = 0;
  CHECK(contains(f.m.due_for_dial(now), f.ka()));
  const std::uint32_t expected[] = {500, 1000, 2000, 4000, 4000, 4000};
  for (std::uint32_t want : expected) {
    REQUIRE(contains(f.m.due_for_dial(now), f.ka()));
    f.m.dialing(f.ka(), now);
    CHECK_FALSE(contains(f.m.due_for_dial(now), f.ka()));  // not dialled twice
    f.m.disconnected(f.ka(), now, "connection refused", true);
    const PeerInfo* p = f.m.peer(f.ka());
    CHECK(p->backoff_ms == want);
    CHECK(p->next_dial_ms == now + want);
    CHECK(p->last_error == "connection refused");
    CHECK_FALSE(contains(f.m.due_for_dial(now + want - 1), f.ka()));
    now += want;
  }
  CHECK(f.m.peer(f.ka())->failures == 6);
}

TEST_CASE("membership: a healthy link resets the backoff, a punished one does not") {
  Fixture f;
  std::int64_t now = 0;
  for (int i = 0; i < 3; ++i) {
    f.m.dialing(f.ka(), now);
    f.m.disconnected(f.ka(), now, "refused", true);
    now = f.m.peer(f.ka())->next_dial_ms;
  }
  CHECK(f.m.peer(f.ka())->backoff_ms == 2000);

  // A peer that breaks a rule right after connecting keeps backing off.
  f.m.dialing(f.ka(), now);
  f.m.connected(f.ka(), now);
  f.m.heard_from(f.ka(), now + 10);
  f.m.disconnected(f.ka(), now + 10, "bad_signature", true);
  CHECK(f.m.peer(f.ka())->backoff_ms == 4000);
  now = f.m.peer(f.ka())->next_dial_ms;

  // A link that carries frames for suspect_after_ms is healthy: the backoff is forgotten.
  f.m.connected(f.ka(), now);
  f.m.heard_from(f.ka(), now + 1000);
  CHECK(f.m.peer(f.ka())->backoff_ms == 4000);
  f.m.heard_from(f.ka(), now + 3000);
  CHECK(f.m.peer(f.ka())->backoff_ms == 0);
  CHECK(f.m.peer(f.ka())->failures == 0);
  CHECK_FALSE(contains(f.m.due_for_dial(now + 3000), f.ka()));  // connected

  // A clean close is redialled after the initial backoff; the next fault starts over.
  f.m.disconnected(f.ka(), now + 4000, "closed by peer", false);
  CHECK(f.m.peer(f.ka())->next_dial_ms == now + 4500);
  CHECK(f.m.peer(f.ka())->backoff_ms == 0);
  f.m.dialing(f.ka(), now + 4500);
  f.m.disconnected(f.ka(), now + 4500, "refused", true);
  CHECK(f.m.peer(f.ka())->backoff_ms == 500);
}

TEST_CASE("membership: members without endpoints are not dialled") {
  Fixture f;
  RosterMember dark = member(f.b, "b", Tier::dark);
  dark.endpoints.clear();
  f.m.set_roster(make_roster(2, {member(f.self, "self"), member(f.a, "a"), dark}, {}));
  CHECK(f.m.admit(f.kb()));  // it may still connect to us
  CHECK_FALSE(contains(f.m.due_for_dial(0), f.kb()));
  CHECK(contains(f.m.due_for_dial(0), f.ka()));
}

TEST_CASE("membership: a newer roster keeps the state of members that remain") {
  Fixture f;
  f.m.connected(f.ka(), 1000);
  f.m.dialing(f.kb(), 1000);
  f.m.disconnected(f.kb(), 1000, "refused", true);
  Heartbeat hb;
  hb.roster_serial = 1;
  f.m.on_heartbeat(f.ka(), hb, 1200);

  SigningKey c = SigningKey::generate();
  RosterMember moved = member(f.a, "a-renamed", Tier::tier1);
  moved.endpoints = {"10.0.0.1:7400"};
  f.m.set_roster(make_roster(2, {member(f.self, "self"), moved, member(c, "c")}, {}));

  CHECK(f.m.peers().size() == 2);
  CHECK_FALSE(f.m.admit(f.kb()));  // removed
  CHECK(f.m.peer(f.kb()) == nullptr);
  CHECK(f.m.admit(c.public_key()));
  const PeerInfo* a = f.m.peer(f.ka());
  REQUIRE(a);
  CHECK(a->connected);
  CHECK(a->state == PeerState::up);
  CHECK(a->last_seen_ms == 1200);
  CHECK(a->heartbeat == hb);
  CHECK(a->member.site == "a-renamed");
  CHECK(a->member.tier == Tier::tier1);
  CHECK(a->member.endpoints == std::vector<std::string>{"10.0.0.1:7400"});
  const PeerInfo* nc = f.m.peer(c.public_key());
  REQUIRE(nc);
  CHECK_FALSE(nc->connected);
  CHECK(nc->state == PeerState::down);
  CHECK(contains(f.m.due_for_dial(1200), c.public_key()));
  CHECK(f.m.live() == std::vector<PeerId>{f.ka()});
}
