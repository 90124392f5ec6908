#include "fedswarm/protocol/Roster.hpp"

#include <algorithm>

#include "CapnpCodec.hpp"
#include "records.capnp.h"

namespace fedswarm {

std::string_view to_string(Tier t) {
  switch (t) {
    case Tier::tier1: return "tier1";
    case Tier::tier2: return "tier2";
    case Tier::dark: return "dark";
  }
  return "unknown";
}

std::optional<Tier> tier_from_string(std::string_view s) {
  if (s == "1" || s == "tier1") return Tier::tier1;
  if (s == "2" || s == "tier2") return Tier::tier2;
  if (s == "dark") return Tier::dark;
  return std::nullopt;
}

const RosterMember* Roster::member(const PublicKey& key) const {
  for (const auto& m : members)
    if (m.key == key) return &m;
  return nullptr;
}

const RosterMember* Roster::member_by_site(std::string_view site) const {
  for (const auto& m : members)
    if (m.site == site) return &m;
  return nullptr;
}

bool Roster::may_publish(const PublicKey& key, std::string_view project, std::string_view institution) const {
  for (const auto& g : grants) {
    if (g.key != key) continue;
    bool project_ok = std::find(g.projects.begin(), g.projects.end(), project) != g.projects.end();
    bool inst_ok = g.institutions.empty() ||
                   std::find(g.institutions.begin(), g.institutions.end(), institution) != g.institutions.end();
    if (project_ok && inst_ok) return true;
  }
  return false;
}

Bytes Roster::encode() const {
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<schema::Roster>();
  b.setFederation(federation);
  b.setSerial(serial);
  b.setIssuedAt(issued_at);
  b.setExpiresAt(expires_at);
  auto mb = b.initMembers(static_cast<unsigned>(members.size()));
  for (unsigned i = 0; i < members.size(); ++i) {
    const auto& m = members[i];
    mb[i].setKey(codec::data(m.key.view()));
    mb[i].setSite(m.site);
    mb[i].setTier(static_cast<schema::Tier>(m.tier));
    auto eb = mb[i].initEndpoints(static_cast<unsigned>(m.endpoints.size()));
    for (unsigned j = 0; j < m.endpoints.size(); ++j) eb.set(j, m.endpoints[j]);
    mb[i].setCapacity(m.capacity);
    mb[i].setSwarmPort(m.swarm_port);
    mb[i].setHttpUrl(m.http_url);
  }
  auto gb = b.initGrants(static_cast<unsigned>(grants.size()));
  for (unsigned i = 0; i < grants.size(); ++i) {
    const auto& g = grants[i];
    gb[i].setKey(codec::data(g.key.view()));
    auto pb = gb[i].initProjects(static_cast<unsigned>(g.projects.size()));
    for (unsigned j = 0; j < g.projects.size(); ++j) pb.set(j, g.projects[j]);
    auto ib = gb[i].initInstitutions(static_cast<unsigned>(g.institutions.size()));
    for (unsigned j = 0; j < g.institutions.size(); ++j) ib.set(j, g.institutions[j]);
  }
  return codec::canonical<schema::Roster>(message);
}

Result<Roster> Roster::decode(ByteView body) {
  return codec::decode_canonical<schema::Roster>(body, "roster", [](schema::Roster::Reader r) -> Result<Roster> {
    Roster x;
    x.federation = codec::text(r.getFederation());
    x.serial = r.getSerial();
    x.issued_at = r.getIssuedAt();
    x.expires_at = r.getExpiresAt();
    auto members = r.getMembers();
    if (members.size() > limits::max_roster_members)
      return make_error(Errc::invalid, "too_many_members", "roster lists too many members");
    for (auto m : members) {
      RosterMember out;
      FEDSWARM_ASSIGN_OR_RETURN(out.key, codec::fixed<32>(m.getKey(), "member key"));
      out.site = codec::text(m.getSite());
      auto t = static_cast<unsigned>(m.getTier());
      if (t > 2) return make_error(Errc::invalid, "bad_enum", "unknown tier " + std::to_string(t));
      out.tier = static_cast<Tier>(t);
      auto eps = m.getEndpoints();
      if (eps.size() > limits::max_endpoints)
        return make_error(Errc::invalid, "too_many_endpoints", "member " + out.site + " lists too many endpoints");
      for (auto e : eps) out.endpoints.push_back(codec::text(e));
      out.capacity = m.getCapacity();
      out.swarm_port = m.getSwarmPort();
      out.http_url = codec::text(m.getHttpUrl());
      x.members.push_back(std::move(out));
    }
    auto grants = r.getGrants();
    if (grants.size() > limits::max_roster_grants)
      return make_error(Errc::invalid, "too_many_grants", "roster lists too many grants");
    for (auto g : grants) {
      PublisherGrant out;
      FEDSWARM_ASSIGN_OR_RETURN(out.key, codec::fixed<32>(g.getKey(), "grant key"));
      auto ps = g.getProjects();
      auto is = g.getInstitutions();
      if (ps.size() > limits::max_facet_values * 8 || is.size() > limits::max_roster_grants)
        return make_error(Errc::invalid, "too_many_grant_terms", "grant lists too many projects or institutions");
      for (auto p : ps) out.projects.push_back(codec::text(p));
      for (auto i : is) out.institutions.push_back(codec::text(i));
      x.grants.push_back(std::move(out));
    }
    return x;
  });
}

}  // namespace fedswarm
