// FederationAuthority: the federation authority's working folder — its key, the draft
// membership and publisher grants, and the counters of its record log — and the signed
// records it issues (rosters, authority retractions).
//
//   <dir>/authority.key     Ed25519 seed, hex, mode 0600 (keep this folder offline)
//   <dir>/federation.toml   name, draft members and grants
//   <dir>/log/<seq>.rec     every record it signed (its whole record log)
//
// Contract
// - Every record it signs takes the next seq of the authority's log (rosters and
//   retractions share it) and is written to log/ before it is returned, so a crash can
//   never reuse a seq nor lose a record that left the process. `log()` returns the
//   whole log; roster files carry it so importing nodes never see a gap.
// - Member sites and keys are unique; `add_member` of an existing site replaces that
//   member (a key rotation). Errors: invalid (bad input, with what to fix), conflict
//   (key already used by another site), io, not_found (`open` of a missing folder).
// - Not thread-safe; one process at a time should own the folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "fedswarm/protocol/Envelope.hpp"
#include "fedswarm/protocol/Retraction.hpp"
#include "fedswarm/protocol/Roster.hpp"
#include "fedswarm/protocol/SigningKey.hpp"

namespace fedswarm {

class FederationAuthority {
 public:
  static Result<FederationAuthority> init(const std::filesystem::path& dir, const std::string& federation_name);
  static Result<FederationAuthority> open(const std::filesystem::path& dir);

  FederationAuthority(FederationAuthority&&) noexcept;
  FederationAuthority& operator=(FederationAuthority&&) noexcept;
  ~FederationAuthority();

  const PublicKey& public_key() const { return key_->public_key(); }
  const std::string& name() const { return name_; }
  const std::vector<RosterMember>& members() const { return members_; }
  const std::vector<PublisherGrant>& grants() const { return grants_; }
  std::uint64_t last_serial() const { return serial_; }

  Status add_member(const RosterMember& member);
  Status remove_member(std::string_view site);
  // Adds projects/institutions to the key's grant (creating it if needed).
  Status grant(const PublicKey& key, const std::vector<std::string>& projects,
               const std::vector<std::string>& institutions);
  Status revoke(const PublicKey& key);

  // Signs the current draft as roster serial last+1, valid from `now` for
  // `valid_seconds`. Returns the envelope (to write to a .fsr file).
  Result<Envelope> issue_roster(std::int64_t now, std::int64_t valid_seconds);
  // Signs a retraction as the authority (for versions whose publisher cannot act).
  // Needs a roster issued first (nodes accept nothing from the log before a roster).
  Result<Envelope> sign_retraction(const Retraction& retraction);
  // Every record signed so far, in seq order.
  Result<std::vector<Envelope>> log() const;

 private:
  FederationAuthority() = default;
  Status save() const;
  Result<Envelope> sign_next(RecordKind kind, Bytes body);

  std::filesystem::path dir_;
  std::string name_;
  std::unique_ptr<SigningKey> key_;
  std::vector<RosterMember> members_;
  std::vector<PublisherGrant> grants_;
  std::uint64_t serial_ = 0;
  std::uint64_t seq_ = 0;
};

}  // namespace fedswarm
