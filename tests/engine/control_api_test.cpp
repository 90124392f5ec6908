// The control API's requests and answers: each to_json is read back by its from_json
// into the same values (the daemon writes, the CLI reads, through these two functions
// only), and malformed JSON is refused as a value, never thrown.
#include <doctest/doctest.h>

#include "fedswarm/engine/ControlApi.hpp"
#include "fedswarm/protocol/SigningKey.hpp"

using namespace fedswarm;

TEST_CASE("control api: every request round-trips, a bad one is refused with `invalid`") {
  for (auto cmd : {ControlCommand::status, ControlCommand::peers, ControlCommand::transfers, ControlCommand::compliance,
                   ControlCommand::health, ControlCommand::notify, ControlCommand::resume}) {
    ControlRequest r;
    r.cmd = cmd;
    if (cmd == ControlCommand::resume) r.instance_id = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr.v20180803";
    if (cmd == ControlCommand::compliance) {
      r.status_filter = TierOneStatus::violating;
      r.offset = 200;
      r.limit = 50;
    }
    auto back = ControlRequest::from_json(r.to_json());
    REQUIRE_MESSAGE(back.ok(), back.error().message);
    CHECK(back->cmd == r.cmd);
    CHECK(back->instance_id == r.instance_id);
    CHECK(back->status_filter == r.status_filter);
    if (cmd == ControlCommand::compliance) {
      CHECK(back->offset == 200);
      CHECK(back->limit == 50);
    }
  }
  for (const char* bad : {R"({"cmd":"reboot"})", R"({"cmd":7})", R"({})", R"([])", R"({"cmd":"compliance","status":"fine"})",
                          R"({"cmd":"compliance","limit":"ten"})"}) {
    INFO(bad);
    auto r = ControlRequest::from_json(nlohmann::json::parse(bad));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::invalid);
    CHECK_FALSE(r.error().message.empty());
  }
}

TEST_CASE("control api: a status answer round-trips with its lag, refusals, swarm, capacity and pipeline") {
  const auto me = SigningKey::generate().public_key(), peer = SigningKey::generate().public_key();
  StatusAnswer s;
  s.node_key = me;
  s.site = "IPSL";
  s.tier = Tier::tier1;
  s.listen = "127.0.0.2:7000";
  s.started_at = 1'790'000'000;
  s.uptime_s = 42;
  s.records = 2'009'866;
  s.authors = 15;
  s.roster_serial = 3;
  s.peers_up = 2;
  s.peers_down = 1;
  s.lag.push_back({"NCAR", peer, 12, std::nullopt});
  s.refused["author_unknown"] = 4;
  s.gossip.rounds = 9;
  s.gossip.bytes_sent = 1234;
  s.swarm = SwarmStatus{"127.0.0.2:7001", 1, 2, 0, 5, {"10.0.0.9"}};
  s.subscriptions = 2;
  s.capacity.configured = 1u << 30;
  s.capacity.data_root = "/data";
  s.capacity.data_root_free = 5u << 20;
  s.capacity.observed_rate = 2.5e8;
  s.pipeline.queued_records = 40'001;
  s.pipeline.saturated = true;
  s.pipeline.rule_rounds = 7;
  s.pipeline.rule_round_last_ms = 3.5;
  s.pipeline.rule_round_last_judged = 1;

  auto back = StatusAnswer::from_json(s.to_json());
  REQUIRE_MESSAGE(back.ok(), back.error().message);
  CHECK(back->to_json() == s.to_json());
  CHECK(back->node_key == me);
  CHECK(back->tier == Tier::tier1);
  REQUIRE(back->lag.size() == 1);
  CHECK(back->lag[0].key == peer);
  CHECK(back->lag[0].behind == 12);
  CHECK_FALSE(back->lag[0].ahead.has_value());
  REQUIRE(back->swarm.has_value());
  CHECK(back->swarm->banned_peers == std::vector<std::string>{"10.0.0.9"});
  CHECK(back->capacity.data_root_free == (5u << 20));
  CHECK_FALSE(back->capacity.roster.has_value());
  CHECK(back->pipeline.saturated);
  CHECK(back->pipeline.rule_round_last_judged == 1);

  SUBCASE("an error answer is read as an error, not as a status") {
    auto e = control_error_json(make_error(Errc::unavailable, "node_busy", "try again"));
    auto err = error_from_json(e);
    REQUIRE(err.has_value());
    CHECK(err->code == Errc::unavailable);
    CHECK(err->reason == "node_busy");
    CHECK_FALSE(error_from_json(s.to_json()).has_value());
  }
  SUBCASE("a status of the wrong shape is refused") {
    auto j = s.to_json();
    j["records"] = "many";
    CHECK_FALSE(StatusAnswer::from_json(j).ok());
    CHECK_FALSE(StatusAnswer::from_json(nlohmann::json::array()).ok());
  }
}

TEST_CASE("control api: peers and transfers answers round-trip") {
  PeersAnswer p;
  PeerRow row;
  row.key = SigningKey::generate().public_key();
  row.site = "DKRZ";
  row.tier = Tier::tier1;
  row.address = "127.0.0.3:7000";
  row.state = "suspect";
  row.connected = true;
  row.last_seen_ms_ago = 1500;
  row.records_sent = 10;
  row.behind = 0;
  row.heartbeat = Heartbeat{1u << 20, 2, "fedswarm/0.1.0", 60, 3, 99};
  p.peers.push_back(row);
  auto pb = PeersAnswer::from_json(p.to_json());
  REQUIRE_MESSAGE(pb.ok(), pb.error().message);
  CHECK(pb->to_json() == p.to_json());
  REQUIRE(pb->peers.size() == 1);
  CHECK(pb->peers[0].heartbeat == row.heartbeat);

  TransfersAnswer t;
  TransferRow tr;
  tr.instance_id = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr.v20180803";
  tr.kind = "fetch";
  tr.state = "paused";
  tr.activity = "paused";
  tr.bytes_done = 10;
  tr.bytes_total = 100;
  tr.local_faults = 1;
  tr.last_error = "No space left on device";
  t.transfers.push_back(tr);
  t.counters = SwarmTotals{3, 0, 1, 0, 0, 0, 2, {}, 0, 0};
  t.counters->pieces_suggested = 2048;
  t.swarm_listen = "127.0.0.2:7001";
  auto tb = TransfersAnswer::from_json(t.to_json());
  REQUIRE_MESSAGE(tb.ok(), tb.error().message);
  CHECK(tb->to_json() == t.to_json());
  CHECK(tb->transfers[0].local_faults == 1);
  CHECK(tb->counters->local_faults == 1);
  CHECK(tb->counters->incomplete_finishes == 2);
  CHECK(tb->counters->pieces_suggested == 2048);
  CHECK(!tb->total);

  // A page (the dashboard's): the request carries offset and limit, the answer the total.
  ControlRequest page;
  page.cmd = ControlCommand::transfers;
  page.paged = true;
  page.offset = 20;
  page.limit = 10;
  auto pr = ControlRequest::from_json(page.to_json());
  REQUIRE(pr.ok());
  CHECK(pr->paged);
  CHECK(pr->offset == 20);
  CHECK(pr->limit == 10);
  ControlRequest all;
  all.cmd = ControlCommand::transfers;
  CHECK_FALSE(ControlRequest::from_json(all.to_json())->paged);
  t.total = 41;
  auto paged = TransfersAnswer::from_json(t.to_json());
  REQUIRE(paged.ok());
  CHECK(paged->total == 41u);
}
