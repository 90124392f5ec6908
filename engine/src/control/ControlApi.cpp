#include "fedswarm/engine/ControlApi.hpp"

#include <array>

#include "control/JsonNullable.hpp"

namespace fedswarm {

namespace {

using json = nlohmann::json;

Error bad_answer(const std::string& what) {
  return make_error(Errc::invalid, "bad_node_answer", "the node's answer is malformed: " + what);
}

PublicKey key_of(const json& o, const char* field) {
  auto k = fixed_from_hex<32>(o.value(field, std::string()));
  if (!k) throw json::type_error::create(302, std::string(field) + " is not a 64-digit hex key", &o);
  return *k;
}

constexpr std::array kCommands = {ControlCommand::status,     ControlCommand::peers,  ControlCommand::transfers,
                                  ControlCommand::compliance, ControlCommand::health, ControlCommand::notify,
                                  ControlCommand::resume};

json heartbeat_json(const Heartbeat& h) {
  return {{"free_capacity", h.free_capacity}, {"transfer_load", h.transfer_load},
          {"software_version", h.software_version}, {"uptime_s", h.uptime_s},
          {"roster_serial", h.roster_serial}, {"records_known", h.records_known}};
}

Heartbeat heartbeat_from(const json& j) {
  Heartbeat h;
  h.free_capacity = j.value("free_capacity", std::uint64_t{0});
  h.transfer_load = j.value("transfer_load", std::uint32_t{0});
  h.software_version = j.value("software_version", std::string());
  h.uptime_s = j.value("uptime_s", std::uint64_t{0});
  h.roster_serial = j.value("roster_serial", std::uint64_t{0});
  h.records_known = j.value("records_known", std::uint64_t{0});
  return h;
}

}  // namespace

std::string_view to_string(ControlCommand c) {
  switch (c) {
    case ControlCommand::status: return "status";
    case ControlCommand::peers: return "peers";
    case ControlCommand::transfers: return "transfers";
    case ControlCommand::compliance: return "compliance";
    case ControlCommand::health: return "health";
    case ControlCommand::notify: return "notify";
    case ControlCommand::resume: return "resume";
  }
  return "?";
}

// --- requests ------------------------------------------------------------------------------

json ControlRequest::to_json() const {
  json j = {{"cmd", std::string(to_string(cmd))}};
  if (cmd == ControlCommand::resume) j["instance_id"] = instance_id;
  if (cmd == ControlCommand::compliance) {
    j["status"] = status_filter ? json(std::string(fedswarm::to_string(*status_filter))) : json(nullptr);
    j["offset"] = offset;
    j["limit"] = limit;
  }
  if (cmd == ControlCommand::transfers && paged) {
    j["offset"] = offset;
    j["limit"] = limit;
  }
  return j;
}

Result<ControlRequest> ControlRequest::from_json(const json& j) {
  auto bad = [](const std::string& what) { return make_error(Errc::invalid, "bad_request", "bad control request: " + what); };
  if (!j.is_object()) return bad("not a JSON object");
  ControlRequest r;
  const std::string cmd = j.contains("cmd") && j["cmd"].is_string() ? j["cmd"].get<std::string>() : std::string();
  bool known = false;
  for (auto c : kCommands)
    if (to_string(c) == cmd) {
      r.cmd = c;
      known = true;
    }
  if (!known)
    return make_error(Errc::invalid, "unknown_command", "unknown control command '" + cmd + "'");
  try {
    r.instance_id = j.value("instance_id", std::string());
    r.offset = j.value("offset", std::uint64_t{0});
    r.limit = j.value("limit", std::uint64_t{100});
    r.paged = r.cmd == ControlCommand::transfers && j.contains("limit");
    if (auto s = j.find("status"); s != j.end() && !s->is_null()) {
      const std::string name = s->get<std::string>();
      r.status_filter = tier_one_status_from(name);
      if (!r.status_filter) return bad("status '" + name + "' is not one of compliant, pending, violating, exempt");
    }
  } catch (const json::exception& e) {
    return bad(e.what());
  }
  return r;
}

json control_error_json(const Error& e) {
  return {{"error", {{"code", std::string(to_string(e.code))}, {"reason", e.reason}, {"message", e.message}}}};
}

std::optional<Error> error_from_json(const json& j) {
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return std::nullopt;
  const auto& e = j["error"];
  const std::string code = e.value("code", std::string("io"));
  Errc c = Errc::io;
  for (auto x : {Errc::invalid, Errc::not_found, Errc::conflict, Errc::unauthorized, Errc::io, Errc::corrupt,
                 Errc::unavailable})
    if (to_string(x) == code) c = x;
  return make_error(c, e.value("reason", std::string("node_error")), e.value("message", std::string("the node failed")));
}

// --- status --------------------------------------------------------------------------------

json StatusAnswer::to_json() const {
  json lag_rows = json::array();
  for (const auto& l : lag)
    lag_rows.push_back({{"site", l.site}, {"key", to_hex(l.key)}, {"behind", nullable(l.behind)}, {"ahead", nullable(l.ahead)}});
  json j = {{"running", true},
            {"node_key", to_hex(node_key)},
            {"site", site},
            {"tier", std::string(fedswarm::to_string(tier))},
            {"listen", listen},
            {"started_at", started_at},
            {"uptime_s", uptime_s},
            {"records", records},
            {"authors", authors},
            {"roster_serial", roster_serial},
            {"peers", {{"up", peers_up}, {"suspect", peers_suspect}, {"down", peers_down}}},
            {"lag", std::move(lag_rows)},
            {"refused", refused},
            {"gossip",
             {{"rounds", gossip.rounds},
              {"digests_sent", gossip.digests_sent},
              {"digests_received", gossip.digests_received},
              {"records_sent", gossip.records_sent},
              {"records_received", gossip.records_received},
              {"records_stored", gossip.records_stored},
              {"records_duplicate", gossip.records_duplicate},
              {"records_parked", gossip.records_parked},
              {"bytes_sent", gossip.bytes_sent},
              {"bytes_received", gossip.bytes_received}}},
            {"subscriptions", subscriptions},
            {"capacity",
             {{"configured", capacity.configured},
              {"roster", nullable(capacity.roster)},
              {"data_root", capacity.data_root},
              {"data_root_free", nullable(capacity.data_root_free)},
              {"committed", nullable(capacity.committed)},
              {"quota", nullable(capacity.quota)},
              {"backlog", nullable(capacity.backlog)},
              {"observed_rate", nullable(capacity.observed_rate)},
              {"rule_fetches", nullable(capacity.rule_fetches)}}},
            {"pipeline",
             {{"queued_records", pipeline.queued_records},
              {"saturated", pipeline.saturated},
              {"written_records", pipeline.written_records},
              {"write_groups", pipeline.write_groups},
              {"rule_rebuilding", pipeline.rule_rebuilding},
              {"rule_judged", pipeline.rule_judged},
              {"rule_versions", pipeline.rule_versions},
              {"rule_rounds", pipeline.rule_rounds},
              {"rule_round_ms_p50", pipeline.rule_round_ms_p50},
              {"rule_round_ms_p99", pipeline.rule_round_ms_p99},
              {"rule_round_ms_max", pipeline.rule_round_ms_max},
              {"rule_round_last_ms", pipeline.rule_round_last_ms},
              {"rule_round_last_judged", pipeline.rule_round_last_judged}}}};
  if (swarm)
    j["swarm"] = {{"listen", swarm->listen},       {"fetching", swarm->fetching}, {"seeding", swarm->seeding},
                  {"paused", swarm->paused},       {"placed", swarm->placed},     {"banned_peers", swarm->banned_peers},
                  {"held", swarm->held},           {"loaded", swarm->loaded},     {"on_demand_loads", swarm->on_demand_loads},
                  {"full_checks", swarm->full_checks},
                  {"foreign_refused", swarm->foreign_refused}, {"foreign_served", swarm->foreign_served},
                  {"foreign_dials_refused", swarm->foreign_dials_refused}};
  return j;
}

Result<StatusAnswer> StatusAnswer::from_json(const json& j) {
  if (!j.is_object()) return bad_answer("status is not an object");
  StatusAnswer s;
  try {
    s.node_key = key_of(j, "node_key");
    s.site = j.value("site", std::string());
    s.tier = tier_from_string(j.value("tier", std::string())).value_or(Tier::tier2);
    s.listen = j.value("listen", std::string());
    s.started_at = j.value("started_at", std::int64_t{0});
    s.uptime_s = j.value("uptime_s", std::int64_t{0});
    s.records = j.value("records", std::uint64_t{0});
    s.authors = j.value("authors", std::uint64_t{0});
    s.roster_serial = j.value("roster_serial", std::uint64_t{0});
    if (auto p = j.find("peers"); p != j.end() && p->is_object()) {
      s.peers_up = p->value("up", std::uint64_t{0});
      s.peers_suspect = p->value("suspect", std::uint64_t{0});
      s.peers_down = p->value("down", std::uint64_t{0});
    }
    if (auto l = j.find("lag"); l != j.end() && l->is_array())
      for (const auto& x : *l)
        s.lag.push_back({x.value("site", std::string()), key_of(x, "key"), read_nullable<std::uint64_t>(x, "behind"),
                         read_nullable<std::uint64_t>(x, "ahead")});
    if (auto r = j.find("refused"); r != j.end() && r->is_object())
      s.refused = r->get<std::map<std::string, std::uint64_t>>();
    if (auto g = j.find("gossip"); g != j.end() && g->is_object()) {
      auto& t = s.gossip;
      t.rounds = g->value("rounds", std::uint64_t{0});
      t.digests_sent = g->value("digests_sent", std::uint64_t{0});
      t.digests_received = g->value("digests_received", std::uint64_t{0});
      t.records_sent = g->value("records_sent", std::uint64_t{0});
      t.records_received = g->value("records_received", std::uint64_t{0});
      t.records_stored = g->value("records_stored", std::uint64_t{0});
      t.records_duplicate = g->value("records_duplicate", std::uint64_t{0});
      t.records_parked = g->value("records_parked", std::uint64_t{0});
      t.bytes_sent = g->value("bytes_sent", std::uint64_t{0});
      t.bytes_received = g->value("bytes_received", std::uint64_t{0});
    }
    if (auto w = j.find("swarm"); w != j.end() && w->is_object()) {
      SwarmStatus sw;
      sw.listen = w->value("listen", std::string());
      sw.fetching = w->value("fetching", std::uint64_t{0});
      sw.seeding = w->value("seeding", std::uint64_t{0});
      sw.paused = w->value("paused", std::uint64_t{0});
      sw.placed = w->value("placed", std::uint64_t{0});
      sw.banned_peers = w->value("banned_peers", std::vector<std::string>{});
      sw.held = w->value("held", std::uint64_t{0});
      sw.loaded = w->value("loaded", std::uint64_t{0});
      sw.on_demand_loads = w->value("on_demand_loads", std::uint64_t{0});
      sw.full_checks = w->value("full_checks", std::uint64_t{0});
      sw.foreign_refused = w->value("foreign_refused", std::uint64_t{0});
      sw.foreign_served = w->value("foreign_served", std::uint64_t{0});
      sw.foreign_dials_refused = w->value("foreign_dials_refused", std::uint64_t{0});
      s.swarm = std::move(sw);
    }
    s.subscriptions = j.value("subscriptions", std::uint64_t{0});
    if (auto c = j.find("capacity"); c != j.end() && c->is_object()) {
      s.capacity.configured = c->value("configured", std::uint64_t{0});
      s.capacity.roster = read_nullable<std::uint64_t>(*c, "roster");
      s.capacity.data_root = c->value("data_root", std::string());
      s.capacity.data_root_free = read_nullable<std::uint64_t>(*c, "data_root_free");
      s.capacity.committed = read_nullable<std::uint64_t>(*c, "committed");
      s.capacity.quota = read_nullable<std::uint64_t>(*c, "quota");
      s.capacity.backlog = read_nullable<std::uint64_t>(*c, "backlog");
      s.capacity.observed_rate = read_nullable<double>(*c, "observed_rate");
      s.capacity.rule_fetches = read_nullable<std::uint64_t>(*c, "rule_fetches");
    }
    if (auto p = j.find("pipeline"); p != j.end() && p->is_object()) {
      s.pipeline.queued_records = p->value("queued_records", std::uint64_t{0});
      s.pipeline.saturated = p->value("saturated", false);
      s.pipeline.written_records = p->value("written_records", std::uint64_t{0});
      s.pipeline.write_groups = p->value("write_groups", std::uint64_t{0});
      s.pipeline.rule_rebuilding = p->value("rule_rebuilding", false);
      s.pipeline.rule_judged = p->value("rule_judged", std::uint64_t{0});
      s.pipeline.rule_versions = p->value("rule_versions", std::uint64_t{0});
      s.pipeline.rule_rounds = p->value("rule_rounds", std::uint64_t{0});
      s.pipeline.rule_round_ms_p50 = p->value("rule_round_ms_p50", 0.0);
      s.pipeline.rule_round_ms_p99 = p->value("rule_round_ms_p99", 0.0);
      s.pipeline.rule_round_ms_max = p->value("rule_round_ms_max", 0.0);
      s.pipeline.rule_round_last_ms = p->value("rule_round_last_ms", 0.0);
      s.pipeline.rule_round_last_judged = p->value("rule_round_last_judged", std::uint64_t{0});
    }
  } catch (const json::exception& e) {
    return bad_answer(e.what());
  }
  return s;
}

// --- peers ---------------------------------------------------------------------------------

json PeersAnswer::to_json() const {
  json rows = json::array();
  for (const auto& p : peers) {
    json j = {{"key", to_hex(p.key)},
              {"site", p.site},
              {"tier", std::string(fedswarm::to_string(p.tier))},
              {"address", p.address},
              {"state", p.state},
              {"connected", p.connected},
              {"last_seen_ms_ago", nullable(p.last_seen_ms_ago)},
              {"records_sent", p.records_sent},
              {"records_received", p.records_received},
              {"bytes_sent", p.bytes_sent},
              {"bytes_received", p.bytes_received},
              {"backoff_ms", p.backoff_ms},
              {"failures", p.failures},
              {"next_dial_in_ms", p.next_dial_in_ms},
              {"last_error", p.last_error},
              {"behind", nullable(p.behind)},
              {"ahead", nullable(p.ahead)}};
    if (p.heartbeat) j["heartbeat"] = heartbeat_json(*p.heartbeat);
    rows.push_back(std::move(j));
  }
  return {{"peers", std::move(rows)}};
}

Result<PeersAnswer> PeersAnswer::from_json(const json& j) {
  if (!j.is_object() || !j.contains("peers") || !j["peers"].is_array()) return bad_answer("peers has no list of peers");
  PeersAnswer a;
  try {
    for (const auto& x : j["peers"]) {
      PeerRow p;
      p.key = key_of(x, "key");
      p.site = x.value("site", std::string());
      p.tier = tier_from_string(x.value("tier", std::string())).value_or(Tier::tier2);
      p.address = x.value("address", std::string());
      p.state = x.value("state", std::string("unknown"));
      p.connected = x.value("connected", false);
      p.last_seen_ms_ago = read_nullable<std::int64_t>(x, "last_seen_ms_ago");
      p.records_sent = x.value("records_sent", std::uint64_t{0});
      p.records_received = x.value("records_received", std::uint64_t{0});
      p.bytes_sent = x.value("bytes_sent", std::uint64_t{0});
      p.bytes_received = x.value("bytes_received", std::uint64_t{0});
      p.backoff_ms = x.value("backoff_ms", std::uint32_t{0});
      p.failures = x.value("failures", std::uint32_t{0});
      p.next_dial_in_ms = x.value("next_dial_in_ms", std::int64_t{0});
      p.last_error = x.value("last_error", std::string());
      p.behind = read_nullable<std::uint64_t>(x, "behind");
      p.ahead = read_nullable<std::uint64_t>(x, "ahead");
      if (auto h = x.find("heartbeat"); h != x.end() && h->is_object()) p.heartbeat = heartbeat_from(*h);
      a.peers.push_back(std::move(p));
    }
  } catch (const json::exception& e) {
    return bad_answer(e.what());
  }
  return a;
}

// --- transfers -----------------------------------------------------------------------------

json TransfersAnswer::to_json() const {
  json rows = json::array();
  for (const auto& t : transfers)
    rows.push_back({{"instance_id", t.instance_id},
                    {"kind", t.kind},
                    {"state", t.state},
                    {"activity", t.activity},
                    {"bytes_done", t.bytes_done},
                    {"bytes_total", t.bytes_total},
                    {"bytes_downloaded", t.bytes_downloaded},
                    {"bytes_uploaded", t.bytes_uploaded},
                    {"bytes_linked", t.bytes_linked},
                    {"bytes_received", t.bytes_received},
                    {"bytes_verified", t.bytes_verified},
                    {"download_rate", t.download_rate},
                    {"upload_rate", t.upload_rate},
                    {"peers", t.peers},
                    {"eta_s", t.eta_s},
                    {"verify_failures", t.verify_failures},
                    {"local_faults", t.local_faults},
                    {"hash_failures", t.hash_failures},
                    {"path", t.path},
                    {"last_error", t.last_error}});
  json j = {{"transfers", std::move(rows)}};
  if (counters) {
    const auto& c = *counters;
    j["counters"] = {{"placed", c.placed},           {"verify_failures", c.verify_failures},
                     {"local_faults", c.local_faults}, {"hash_failures", c.hash_failures},
                     {"file_errors", c.file_errors},   {"stall_restarts", c.stall_restarts},
                     {"incomplete_finishes", c.incomplete_finishes},
                     {"banned_peers", c.banned_peers},
                     {"bytes_rehashed", c.bytes_rehashed}, {"bytes_trusted", c.bytes_trusted},
                     {"pieces_suggested", c.pieces_suggested}};
    j["swarm_listen"] = swarm_listen;
  }
  if (total) j["total"] = *total;
  return j;
}

Result<TransfersAnswer> TransfersAnswer::from_json(const json& j) {
  if (!j.is_object() || !j.contains("transfers") || !j["transfers"].is_array())
    return bad_answer("transfers has no list of transfers");
  TransfersAnswer a;
  try {
    for (const auto& x : j["transfers"]) {
      TransferRow t;
      t.instance_id = x.value("instance_id", std::string());
      t.kind = x.value("kind", std::string());
      t.state = x.value("state", std::string());
      t.activity = x.value("activity", std::string());
      t.bytes_done = x.value("bytes_done", std::uint64_t{0});
      t.bytes_total = x.value("bytes_total", std::uint64_t{0});
      t.bytes_downloaded = x.value("bytes_downloaded", std::uint64_t{0});
      t.bytes_uploaded = x.value("bytes_uploaded", std::uint64_t{0});
      t.bytes_linked = x.value("bytes_linked", std::uint64_t{0});
      t.bytes_received = x.value("bytes_received", std::uint64_t{0});
      t.bytes_verified = x.value("bytes_verified", std::uint64_t{0});
      t.download_rate = x.value("download_rate", std::int64_t{0});
      t.upload_rate = x.value("upload_rate", std::int64_t{0});
      t.peers = x.value("peers", 0);
      t.eta_s = x.value("eta_s", std::int64_t{-1});
      t.verify_failures = x.value("verify_failures", std::uint32_t{0});
      t.local_faults = x.value("local_faults", std::uint32_t{0});
      t.hash_failures = x.value("hash_failures", std::uint32_t{0});
      t.path = x.value("path", std::string());
      t.last_error = x.value("last_error", std::string());
      a.transfers.push_back(std::move(t));
    }
    if (auto c = j.find("counters"); c != j.end() && c->is_object()) {
      SwarmTotals s;
      s.placed = c->value("placed", std::uint64_t{0});
      s.verify_failures = c->value("verify_failures", std::uint64_t{0});
      s.local_faults = c->value("local_faults", std::uint64_t{0});
      s.hash_failures = c->value("hash_failures", std::uint64_t{0});
      s.file_errors = c->value("file_errors", std::uint64_t{0});
      s.stall_restarts = c->value("stall_restarts", std::uint64_t{0});
      s.incomplete_finishes = c->value("incomplete_finishes", std::uint64_t{0});
      s.banned_peers = c->value("banned_peers", std::vector<std::string>{});
      s.bytes_rehashed = c->value("bytes_rehashed", std::uint64_t{0});
      s.bytes_trusted = c->value("bytes_trusted", std::uint64_t{0});
      s.pieces_suggested = c->value("pieces_suggested", std::uint64_t{0});
      a.counters = std::move(s);
    }
    a.swarm_listen = j.value("swarm_listen", std::string());
    a.total = read_nullable<std::uint64_t>(j, "total");
  } catch (const json::exception& e) {
    return bad_answer(e.what());
  }
  return a;
}

}  // namespace fedswarm
