// Functional: hostile input on a node's gossip port. Each test attacks one running node
// (node 0) while an honest peer (node 1) keeps working, and checks: the attacker is
// refused with its reason counted in `status`, nothing is stored, and node 0 still
// serves its honest peer (a manifest published at node 1 arrives).
#include <doctest/doctest.h>

#include <random>

#include "GossipCluster.hpp"
#include "ManifestFactory.hpp"
#include "RawPeer.hpp"
#include "fedswarm/engine/NodeHome.hpp"
#include "fedswarm/engine/SampleTree.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

DatasetSpec spec_of(const std::string& institution, const std::string& source, const std::string& variable) {
  DatasetSpec s;
  s.activity = "CMIP";
  s.institution = institution;
  s.source = source;
  s.experiment = "historical";
  s.table = "Amon";
  s.variable = variable;
  s.grid = "gn";
  return s;
}

const ManifestFactory& factory() {
  static const ManifestFactory f(cv_dir());
  return f;
}

// Two honest running nodes and "mallory": a roster member granted only NCAR, whose key
// the test uses by hand (its node never runs).
struct Arena {
  CliWorld w;
  std::unique_ptr<GossipCluster> c;
  std::string mallory_home;
  std::optional<SigningKey> mallory;
  PublicKey node0;
  std::mt19937_64 rng{test_seed()};
  int published = 0;
  std::uint64_t base = 0;

  explicit Arena(int net) : net_(net) {
    c = std::make_unique<GossipCluster>(w, net, 2);
    mallory_home = c->add_member("mallory", "2", {"NCAR"});
    c->issue_roster();
    auto key = read_key_file(std::filesystem::path(mallory_home) / "node.key");
    REQUIRE(key.ok());
    mallory = std::move(*key);
    c->start(0);
    c->start(1);
    base = c->records(0);  // the authority's rosters
    REQUIRE(base == 2);
    REQUIRE(c->wait_records({0, 1}, base, std::chrono::seconds(20)));
    auto hex = c->status(0)["node_key"].get<std::string>();
    auto k = fixed_from_hex<32>(hex);
    REQUIRE(k.ok());
    node0 = *k;
    MESSAGE("seed " << test_seed());
  }

  // RawPeer holds a socket: returned by pointer.
  std::unique_ptr<RawPeer> stranger() { return std::make_unique<RawPeer>(GossipCluster::ip(net_, 7), c->address(0), c->port()); }
  std::unique_ptr<RawPeer> as_mallory() { return std::make_unique<RawPeer>(c->address(2), c->address(0), c->port()); }
  int net_;

  // Node 0 still serves node 1: a publish at node 1 reaches node 0.
  void still_serving() {
    auto root = w.dir() / ("honest" + std::to_string(++published));
    SampleSpec spec;
    spec.datasets = 1;
    spec.file_size = 4096;
    REQUIRE(write_sample_tree(root, 100 + published, spec).ok());
    w.must({"--home", c->home(1), "publish", root.string()});
    const auto n = c->records(1);
    CHECK(c->wait_records({0, 1}, n, std::chrono::seconds(30)));
  }

  Envelope signed_by_mallory(std::uint64_t seq, const Manifest& m) {
    return Envelope::sign(*mallory, seq, RecordKind::manifest, m.encode());
  }
};

}  // namespace

TEST_CASE("hostile: a key not in the roster is refused at the handshake") {
  Arena a(21);
  auto p = a.stranger();
  REQUIRE(p->connected());
  auto key = SigningKey::generate();
  auto st = p->handshake(key, a.node0);
  CHECK_FALSE(st.ok());
  CHECK(p->closed_by_node());
  CHECK(wait_until([&] { return a.c->refused(0, "hs_unknown_key") >= 1; }, std::chrono::seconds(10)));
  CHECK(a.c->records(0) == a.base);
  a.still_serving();
}

TEST_CASE("hostile: a wrong handshake (bad magic) is refused") {
  Arena a(22);
  auto p = a.stranger();
  Bytes hello(72, 0x41);  // right length, not "FSWM/1"
  p->send_frame(hello);
  CHECK(p->closed_by_node());
  CHECK(wait_until([&] { return a.c->refused(0, "hs_bad_magic") >= 1; }, std::chrono::seconds(10)));
  a.still_serving();
}

TEST_CASE("hostile: garbage bytes are refused") {
  Arena a(23);
  auto p = a.stranger();
  Bytes junk(300);
  for (auto& b : junk) b = static_cast<std::uint8_t>(a.rng());
  p->send_frame(junk);  // a frame of the wrong size for a HELLO
  CHECK(p->closed_by_node());
  CHECK(wait_until([&] { return a.c->refused(0, "hs_malformed") >= 1; }, std::chrono::seconds(10)));
  // Unframed text (an HTTP request) reads as an absurd length header.
  auto q = a.stranger();
  std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  q->send_raw(ByteView(reinterpret_cast<const std::uint8_t*>(http.data()), http.size()));
  CHECK(q->closed_by_node());
  CHECK(wait_until([&] { return a.c->refused(0, "frame_too_large") >= 1; }, std::chrono::seconds(10)));
  a.still_serving();
}

TEST_CASE("hostile: an oversize length header is refused before any allocation") {
  Arena a(24);
  auto p = a.stranger();
  const std::uint8_t header[4] = {0xff, 0xff, 0xff, 0xff};
  p->send_raw(ByteView(header, 4));
  CHECK(p->closed_by_node());
  CHECK(wait_until([&] { return a.c->refused(0, "frame_too_large") >= 1; }, std::chrono::seconds(10)));
  a.still_serving();
}

TEST_CASE("hostile: half a handshake then silence times out") {
  Arena a(25);
  auto p = a.as_mallory();
  Handshake hs(Handshake::Role::initiator, *a.mallory, a.node0, [](const PublicKey&) { return true; });
  for (const auto& f : hs.start()) p->send_frame(f);
  CHECK(p->read_frame().has_value());  // the node's HELLO; we never send AUTH
  CHECK(p->closed_by_node(std::chrono::seconds(15)));
  CHECK(a.c->refused(0, "handshake_timeout") >= 1);
  a.still_serving();
}

TEST_CASE("hostile: a forged record is refused and its sender cut off") {
  Arena a(26);
  auto p = a.as_mallory();
  REQUIRE(p->handshake(*a.mallory, a.node0).ok());
  Envelope forged = a.signed_by_mallory(1, factory().make(spec_of("NCAR", "CESM2", "pr"), "v20190101", 2, a.rng));
  forged.signature.bytes[5] ^= 0x01;
  REQUIRE(p->send_message(GossipMessage{RecordBatch{{forged}}}));
  CHECK(p->closed_by_node());
  CHECK(wait_until([&] { return a.c->refused(0, "bad_signature") >= 1; }, std::chrono::seconds(10)));
  CHECK(a.c->records(0) == a.base);
  a.still_serving();
}

TEST_CASE("hostile: a record by a publisher not granted that institution is refused") {
  Arena a(27);
  auto p = a.as_mallory();
  REQUIRE(p->handshake(*a.mallory, a.node0).ok());
  Envelope ipsl = a.signed_by_mallory(1, factory().make(spec_of("IPSL", "IPSL-CM6A-LR", "tas"), "v20190101", 2, a.rng));
  REQUIRE(p->send_message(GossipMessage{RecordBatch{{ipsl}}}));
  CHECK(p->closed_by_node());
  CHECK(wait_until([&] { return a.c->refused(0, "publisher_not_granted") >= 1; }, std::chrono::seconds(10)));
  CHECK(a.c->records(0) == a.base);
  a.still_serving();
}

TEST_CASE("hostile: a replayed record changes nothing, a different record under an old seq is refused") {
  Arena a(28);
  auto p = a.as_mallory();
  REQUIRE(p->handshake(*a.mallory, a.node0).ok());
  Envelope first = a.signed_by_mallory(1, factory().make(spec_of("NCAR", "CESM2", "pr"), "v20190101", 2, a.rng));
  REQUIRE(p->send_message(GossipMessage{RecordBatch{{first}}}));
  REQUIRE(a.c->wait_records({0, 1}, a.base + 1, std::chrono::seconds(20)));  // stored, and relayed to node 1
  auto dup_before = a.c->status(0)["gossip"].value("records_duplicate", std::uint64_t{0});
  REQUIRE(p->send_message(GossipMessage{RecordBatch{{first}}}));
  CHECK(wait_until([&] { return a.c->status(0)["gossip"].value("records_duplicate", std::uint64_t{0}) > dup_before; },
                   std::chrono::seconds(10)));
  CHECK(a.c->records(0) == a.base + 1);
  CHECK_FALSE(p->closed_by_node(std::chrono::milliseconds(300)));  // a replay is no offence
  Envelope other = a.signed_by_mallory(1, factory().make(spec_of("NCAR", "CESM2", "tas"), "v20190101", 2, a.rng));
  REQUIRE(p->send_message(GossipMessage{RecordBatch{{other}}}));
  // Refused and counted; not punished (an honest relay can carry an author's
  // equivocation), so the link stays up.
  CHECK(wait_until([&] { return a.c->refused(0, "seq_conflict") >= 1; }, std::chrono::seconds(10)));
  CHECK(a.c->records(0) == a.base + 1);
  a.still_serving();
}

TEST_CASE("hostile: a retraction by someone other than the publisher or the authority is refused") {
  Arena a(29);
  // Node 0 publishes; mallory tries to retract it.
  auto root = a.w.dir() / "victim";
  SampleSpec spec;
  spec.datasets = 1;
  spec.file_size = 4096;
  auto written = write_sample_tree(root, 9, spec);
  REQUIRE(written.ok());
  a.w.must({"--home", a.c->home(0), "publish", root.string()});
  REQUIRE(a.c->wait_records({0, 1}, a.base + 1));
  auto p = a.as_mallory();
  REQUIRE(p->handshake(*a.mallory, a.node0).ok());
  Retraction r;
  r.dataset_id = (*written)[0].dataset_id;
  r.version = (*written)[0].version;
  r.reason = "I say so";
  r.retracted_at = 1'800'000'000;
  Envelope env = Envelope::sign(*a.mallory, 1, RecordKind::retraction, r.encode());
  REQUIRE(p->send_message(GossipMessage{RecordBatch{{env}}}));
  CHECK(p->closed_by_node());
  CHECK(wait_until([&] { return a.c->refused(0, "not_version_publisher") >= 1; }, std::chrono::seconds(10)));
  auto shown = a.w.json({"--home", a.c->home(0), "show", (*written)[0].instance_id()});
  CHECK(shown["status"] != "retracted");
  a.still_serving();
}
