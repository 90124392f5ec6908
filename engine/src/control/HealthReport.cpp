#include "fedswarm/engine/HealthReport.hpp"

#include <set>

#include "fedswarm/policy/CapacityLedger.hpp"

namespace fedswarm {

namespace {

Error bad_answer(const std::string& what) {
  return make_error(Errc::invalid, "bad_node_answer", "the node's answer is malformed: " + what);
}
Error bad_report(const std::string& what) {
  return make_error(Errc::invalid, "bad_health_report", "the health report is malformed: " + what);
}

template <class T>
nlohmann::json nullable(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}
template <class T>
std::optional<T> read_nullable(const nlohmann::json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return std::nullopt;
  return it->get<T>();
}

std::uint64_t rate_of(const nlohmann::json& t, const char* key) {
  auto it = t.find(key);
  if (it == t.end() || !it->is_number()) return 0;
  const double r = it->get<double>();
  return r > 0 ? static_cast<std::uint64_t>(r) : 0;
}

}  // namespace

// --- live state ----------------------------------------------------------------------------

Result<HealthLive> HealthLive::from_answers(const nlohmann::json& status, const nlohmann::json& peers,
                                            const nlohmann::json& transfers) {
  if (!status.is_object()) return bad_answer("status is not an object");
  HealthLive h;
  try {
    h.uptime = status.value("uptime_s", std::int64_t{0});
    if (auto r = status.find("refused"); r != status.end() && r->is_object())
      for (const auto& [reason, n] : r->items()) h.refusals[reason] = n.get<std::uint64_t>();
    std::set<std::string> banned;
    bool counted = false;
    if (auto s = status.find("swarm"); s != status.end() && s->is_object()) {
      h.fetching = s->value("fetching", std::uint64_t{0});
      h.seeding = s->value("seeding", std::uint64_t{0});
      h.paused = s->value("paused", std::uint64_t{0});
      counted = true;
      if (auto b = s->find("banned_peers"); b != s->end() && b->is_array())
        for (const auto& x : *b) banned.insert(x.get<std::string>());
    }
    if (!peers.is_null()) {
      if (!peers.is_object() || !peers.contains("peers") || !peers["peers"].is_array())
        return bad_answer("peers has no list of peers");
      for (const auto& p : peers["peers"]) {
        auto key = fixed_from_hex<32>(p.value("key", ""));
        if (!key) return bad_answer("a peer's key is not hex");
        SiteLink l;
        l.state = p.value("state", "unknown");
        l.behind = read_nullable<std::uint64_t>(p, "behind");
        l.ahead = read_nullable<std::uint64_t>(p, "ahead");
        if (auto ms = read_nullable<std::int64_t>(p, "last_seen_ms_ago")) l.last_seen_ago = *ms / 1000;
        h.links[*key] = std::move(l);
      }
    }
    if (!transfers.is_null()) {
      if (!transfers.is_object()) return bad_answer("transfers is not an object");
      if (auto ts = transfers.find("transfers"); ts != transfers.end() && ts->is_array())
        for (const auto& t : *ts) {
          h.download_rate += rate_of(t, "download_rate");
          h.upload_rate += rate_of(t, "upload_rate");
          if (counted) continue;
          // An answer from a node whose status has no swarm block: count here.
          if (t.value("state", "") == "paused") ++h.paused;
          else if (t.value("kind", "") == "seed") ++h.seeding;
          else ++h.fetching;
        }
      if (auto c = transfers.find("counters"); c != transfers.end() && c->is_object())
        if (auto b = c->find("banned_peers"); b != c->end() && b->is_array())
          for (const auto& x : *b) banned.insert(x.get<std::string>());
    }
    h.banned_peers.assign(banned.begin(), banned.end());
  } catch (const nlohmann::json::exception& e) {
    return bad_answer(e.what());
  }
  return h;
}

// --- report ----------------------------------------------------------------------------------

nlohmann::json HealthReport::to_json() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& s : sites)
    rows.push_back({{"site", s.site},
                    {"key", to_hex(s.key)},
                    {"tier", std::string(to_string(s.tier))},
                    {"local", s.local},
                    {"state", s.state},
                    {"behind", nullable(s.behind)},
                    {"ahead", nullable(s.ahead)},
                    {"last_seen_s_ago", nullable(s.last_seen_ago)},
                    {"versions_held", s.versions_held},
                    {"bytes_held", s.bytes_held},
                    {"capacity", s.capacity},
                    {"committed", s.committed},
                    {"free_capacity", s.free_capacity},
                    {"download_rate", nullable(s.download_rate)},
                    {"upload_rate", nullable(s.upload_rate)}});
  nlohmann::json node = {{"site", local_site}, {"key", to_hex(local_key)}, {"running", running}};
  if (running) {
    node["uptime_s"] = uptime;
    node["fetching"] = fetching;
    node["seeding"] = seeding;
    node["paused"] = paused;
  }
  nlohmann::json conflict_rows = nlohmann::json::array();
  for (const auto& c : conflicts)
    conflict_rows.push_back({{"instance_id", c.instance_id}, {"author", c.author}, {"seen_at", c.seen_at}});
  return {{"generated_at", generated_at},
          {"federation", federation},
          {"roster_serial", roster_serial},
          {"node", std::move(node)},
          {"sites", std::move(rows)},
          {"compliance", compliance.to_json()},
          {"refusals", refusals ? nlohmann::json(*refusals) : nlohmann::json(nullptr)},
          {"banned_peers", banned_peers},
          {"conflicts", std::move(conflict_rows)}};
}

Result<HealthReport> HealthReport::from_json(const nlohmann::json& j) {
  if (!j.is_object()) return bad_report("not a JSON object");
  if (!j.contains("node") || !j.contains("sites") || !j["sites"].is_array() || !j.contains("compliance"))
    return bad_report("no node, sites or compliance");
  HealthReport r;
  auto compliance = ComplianceSummary::from_json(j["compliance"]);
  if (!compliance) return std::move(compliance).error();
  r.compliance = *compliance;
  try {
    r.generated_at = j.value("generated_at", std::int64_t{0});
    r.federation = j.value("federation", "");
    r.roster_serial = j.value("roster_serial", std::uint64_t{0});
    const auto& node = j["node"];
    r.local_site = node.value("site", "");
    if (auto k = fixed_from_hex<32>(node.value("key", ""))) r.local_key = *k;
    r.running = node.value("running", false);
    r.uptime = node.value("uptime_s", std::int64_t{0});
    r.fetching = node.value("fetching", std::uint64_t{0});
    r.seeding = node.value("seeding", std::uint64_t{0});
    r.paused = node.value("paused", std::uint64_t{0});
    for (const auto& s : j["sites"]) {
      SiteHealth h;
      h.site = s.value("site", "");
      if (auto k = fixed_from_hex<32>(s.value("key", ""))) h.key = *k;
      h.tier = tier_from_string(s.value("tier", "")).value_or(Tier::tier2);
      h.local = s.value("local", false);
      h.state = s.value("state", "unknown");
      h.behind = read_nullable<std::uint64_t>(s, "behind");
      h.ahead = read_nullable<std::uint64_t>(s, "ahead");
      h.last_seen_ago = read_nullable<std::int64_t>(s, "last_seen_s_ago");
      h.versions_held = s.value("versions_held", std::uint64_t{0});
      h.bytes_held = s.value("bytes_held", std::uint64_t{0});
      h.capacity = s.value("capacity", std::uint64_t{0});
      h.committed = s.value("committed", std::uint64_t{0});
      h.free_capacity = s.value("free_capacity", std::uint64_t{0});
      h.download_rate = read_nullable<std::uint64_t>(s, "download_rate");
      h.upload_rate = read_nullable<std::uint64_t>(s, "upload_rate");
      r.sites.push_back(std::move(h));
    }
    if (auto f = j.find("refusals"); f != j.end() && f->is_object())
      r.refusals = f->get<std::map<std::string, std::uint64_t>>();
    if (auto b = j.find("banned_peers"); b != j.end() && b->is_array())
      r.banned_peers = b->get<std::vector<std::string>>();
    if (auto c = j.find("conflicts"); c != j.end() && c->is_array())
      for (const auto& x : *c)
        r.conflicts.push_back({x.value("instance_id", ""), x.value("author", ""), x.value("seen_at", std::int64_t{0})});
  } catch (const nlohmann::json::exception& e) {
    return bad_report(e.what());
  }
  return r;
}

// --- building ----------------------------------------------------------------------------------

HealthReport make_health_report(const ReplicationState& state, const std::optional<Roster>& roster,
                                const std::vector<ConflictInfo>& conflicts, const ComplianceSummary& compliance,
                                const HealthInputs& in) {
  HealthReport r;
  r.generated_at = in.now;
  r.local_site = in.local_site;
  r.local_key = in.local_key;
  r.running = in.live.has_value();
  r.compliance = compliance;
  if (roster) {
    r.federation = roster->federation;
    r.roster_serial = roster->serial;
  }

  // What each node holds: its latest replica record (the state keeps only the latest per
  // node and version), and what it published unless it signed a drop for it.
  std::map<PublicKey, std::map<std::string, std::uint64_t>> held;
  std::map<PublicKey, std::set<std::string>> dropped;
  std::map<std::string, std::uint64_t> sizes;
  for (const auto& v : state.versions) sizes[v.instance_id()] = v.size;
  auto size_of = [&](const std::string& id) {
    auto it = sizes.find(id);
    return it == sizes.end() ? std::uint64_t{0} : it->second;
  };
  for (const auto& rep : state.replicas) {
    if (rep.location.state == ReplicaState::complete) held[rep.location.node][rep.instance_id] = size_of(rep.instance_id);
    else dropped[rep.location.node].insert(rep.instance_id);
  }
  for (const auto& v : state.versions) {
    const std::string id = v.instance_id();
    if (!dropped[v.publisher].count(id)) held[v.publisher][id] = v.size;
  }

  CapacityLedger ledger(in.compliance.config);
  for (const auto& v : state.versions) ledger.put_version(v.instance_id(), v.size, v.status == VersionStatus::retracted);
  for (const auto& rep : state.replicas) ledger.put_replica(rep.instance_id, rep.location);
  for (const auto& c : state.claims) ledger.put_claim(c.instance_id, c.claim);

  if (roster)
    for (const auto& m : roster->members) {
      SiteHealth s;
      s.key = m.key;
      s.site = m.site;
      s.tier = m.tier;
      s.local = m.key == in.local_key;
      if (s.local) {
        s.state = r.running ? "self" : "stopped";
        if (in.live) {
          s.download_rate = in.live->download_rate;
          s.upload_rate = in.live->upload_rate;
        }
      } else if (!in.live) {
        s.state = "unknown";
      } else if (auto it = in.live->links.find(m.key); it != in.live->links.end()) {
        s.state = it->second.state;
        s.behind = it->second.behind;
        s.ahead = it->second.ahead;
        s.last_seen_ago = it->second.last_seen_ago;
      } else {
        s.state = "unknown";  // a member the node has not loaded yet (a newer roster)
      }
      if (auto h = held.find(m.key); h != held.end()) {
        s.versions_held = h->second.size();
        for (const auto& [id, size] : h->second) s.bytes_held += size;
      }
      s.capacity = m.capacity;
      s.committed = ledger.committed(m.key, in.now);
      s.free_capacity = s.capacity > s.committed ? s.capacity - s.committed : 0;
      r.sites.push_back(std::move(s));
    }

  if (in.live) {
    r.uptime = in.live->uptime;
    r.fetching = in.live->fetching;
    r.seeding = in.live->seeding;
    r.paused = in.live->paused;
    r.refusals = in.live->refusals;
    r.banned_peers = in.live->banned_peers;
  }
  for (const auto& c : conflicts) {
    const RosterMember* m = roster ? roster->member(c.author) : nullptr;
    r.conflicts.push_back({c.instance_id, m ? m->site : short_key(c.author), c.seen_at});
  }
  return r;
}

Result<HealthReport> build_health_report(const Catalog& catalog, const HealthInputs& in) {
  FEDSWARM_ASSIGN_OR_RETURN(auto state, catalog.replication_state());
  FEDSWARM_ASSIGN_OR_RETURN(auto roster, catalog.roster());
  FEDSWARM_ASSIGN_OR_RETURN(auto conflicts, catalog.conflicts());
  ComplianceInputs ci = in.compliance;
  ci.now = in.now;
  const ComplianceReport compliance = compliance_report(state, roster, ci);
  return make_health_report(state, roster, conflicts, compliance.summary, in);
}

}  // namespace fedswarm
