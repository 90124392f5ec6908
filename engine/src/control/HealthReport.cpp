#include "fedswarm/engine/HealthReport.hpp"

#include <set>

#include "control/JsonNullable.hpp"
#include "fedswarm/policy/CapacityLedger.hpp"

namespace fedswarm {

namespace {

Error bad_health_report(const std::string& what) {
  return make_error(Errc::invalid, "bad_health_report", "the health report is malformed: " + what);
}

// A roster member's row as the node sees it: its identity, and its liveness from the
// running node's links (this node: self or stopped; no running node: unknown).
SiteHealth member_row(const RosterMember& m, const HealthInputs& in) {
  SiteHealth s;
  s.key = m.key;
  s.site = m.site;
  s.tier = m.tier;
  s.local = m.key == in.local_key;
  if (s.local) {
    s.state = in.live ? "self" : "stopped";
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
  return s;
}

}  // namespace

// --- live state ----------------------------------------------------------------------------

HealthLive HealthLive::from(const StatusAnswer& status, const PeersAnswer* peers, const TransfersAnswer* transfers) {
  HealthLive h;
  h.uptime = status.uptime_s;
  h.refusals = status.refused;
  std::set<std::string> banned;
  if (status.swarm) {
    h.fetching = status.swarm->fetching;
    h.seeding = status.swarm->seeding;
    h.paused = status.swarm->paused;
    banned.insert(status.swarm->banned_peers.begin(), status.swarm->banned_peers.end());
  }
  if (peers)
    for (const auto& p : peers->peers) {
      SiteLink l;
      l.state = p.state;
      l.behind = p.behind;
      l.ahead = p.ahead;
      if (p.last_seen_ms_ago) l.last_seen_ago = *p.last_seen_ms_ago / 1000;
      h.links[p.key] = std::move(l);
    }
  if (transfers) {
    for (const auto& t : transfers->transfers) {
      h.download_rate += static_cast<std::uint64_t>(std::max<std::int64_t>(t.download_rate, 0));
      h.upload_rate += static_cast<std::uint64_t>(std::max<std::int64_t>(t.upload_rate, 0));
      if (status.swarm) continue;
      // An answer from a node whose status has no swarm block: count here.
      if (t.state == "paused") ++h.paused;
      else if (t.kind == "seed") ++h.seeding;
      else ++h.fetching;
    }
    if (transfers->counters) banned.insert(transfers->counters->banned_peers.begin(), transfers->counters->banned_peers.end());
  }
  h.banned_peers.assign(banned.begin(), banned.end());
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
  if (!j.is_object()) return bad_health_report("not a JSON object");
  if (!j.contains("node") || !j.contains("sites") || !j["sites"].is_array() || !j.contains("compliance"))
    return bad_health_report("no node, sites or compliance");
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
    return bad_health_report(e.what());
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
      SiteHealth s = member_row(m, in);
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

Result<HealthReport> health_report(const Catalog& catalog, const HealthInputs& in, const ComplianceSummary& compliance,
                                   const std::map<PublicKey, std::uint64_t>& committed) {
  FEDSWARM_ASSIGN_OR_RETURN(auto roster, catalog.roster());
  FEDSWARM_ASSIGN_OR_RETURN(auto conflicts, catalog.conflicts());
  HealthReport r;
  r.generated_at = in.now;
  r.local_site = in.local_site;
  r.local_key = in.local_key;
  r.running = in.live.has_value();
  r.compliance = compliance;
  if (roster) {
    r.federation = roster->federation;
    r.roster_serial = roster->serial;
    for (const auto& m : roster->members) {
      SiteHealth s = member_row(m, in);
      FEDSWARM_ASSIGN_OR_RETURN(NodeTotals t, catalog.node_totals(m.key));
      s.versions_held = t.held_versions;
      s.bytes_held = t.held_bytes;
      s.capacity = m.capacity;
      auto c = committed.find(m.key);
      s.committed = c != committed.end() ? c->second : t.complete_bytes;
      s.free_capacity = s.capacity > s.committed ? s.capacity - s.committed : 0;
      r.sites.push_back(std::move(s));
    }
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
  ComplianceInputs ci = in.compliance;
  ci.now = in.now;
  FEDSWARM_ASSIGN_OR_RETURN(TierOneTracker tracker, offline_tracker(catalog, ci));
  std::map<PublicKey, std::uint64_t> committed;
  for (const auto& m : tracker.members()) committed[m.key] = m.committed;
  return health_report(catalog, in, compliance_summary(tracker.counts(), tracker.members().size(), ci.liveness.has_value(), in.now),
                       committed);
}

}  // namespace fedswarm
