// Roster: the federation's membership and publisher grants, signed by the federation
// authority key (DESIGN §1, §3).
//
// Contract: value type, no I/O. `decode` of untrusted bytes returns `invalid` on
// malformed input or limits. Lookups are linear scans: rosters have tens of entries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

enum class Tier : std::uint8_t { tier1 = 0, tier2 = 1, dark = 2 };
std::string_view to_string(Tier t);
// Accepts "1", "tier1", "2", "tier2", "dark".
std::optional<Tier> tier_from_string(std::string_view s);

struct RosterMember {
  PublicKey key;
  std::string site;
  Tier tier = Tier::tier2;
  std::vector<std::string> endpoints;  // "host:port" of the gossip listener
  std::uint64_t capacity = 0;          // bytes offered for replicas
  std::uint16_t swarm_port = 0;        // libtorrent listen port on the same host
  std::string http_url;                // "https://host:port" of its HTTP face; empty: none
  bool operator==(const RosterMember&) const = default;
};

struct PublisherGrant {
  PublicKey key;
  std::vector<std::string> projects;
  std::vector<std::string> institutions;  // empty: all institutions of the projects
  bool operator==(const PublisherGrant&) const = default;
};

struct Roster {
  std::string federation;
  std::uint64_t serial = 0;
  std::int64_t issued_at = 0;
  std::int64_t expires_at = 0;
  std::vector<RosterMember> members;
  std::vector<PublisherGrant> grants;

  const RosterMember* member(const PublicKey& key) const;
  const RosterMember* member_by_site(std::string_view site) const;
  // True if `key` may publish `institution` of `project` under some grant.
  bool may_publish(const PublicKey& key, std::string_view project,
                   std::string_view institution) const;
  bool expired(std::int64_t now) const { return expires_at <= now; }

  Bytes encode() const;
  static Result<Roster> decode(ByteView body);
  bool operator==(const Roster&) const = default;
};

}  // namespace fedswarm
