// Fuzz target: receipt rules on arbitrary envelopes. Signatures are taken as checked so
// the fuzzer reaches the body and permission rules instead of stopping at Ed25519.
#include <cstddef>
#include <cstdint>

#include "fedswarm/protocol/RecordValidator.hpp"
#include "fedswarm/protocol/SigningKey.hpp"

namespace {
const fedswarm::Roster& roster() {
  static const fedswarm::Roster r = [] {
    fedswarm::Roster x;
    x.federation = "fuzz";
    x.serial = 1;
    x.issued_at = 0;
    x.expires_at = 1ll << 40;
    fedswarm::RosterMember m;
    m.site = "IPSL";
    m.tier = fedswarm::Tier::tier1;
    x.members.push_back(m);  // the all-zero key, which fuzzed envelopes can name
    x.grants.push_back(fedswarm::PublisherGrant{m.key, {"CMIP6"}, {}});
    return x;
  }();
  return r;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto env = fedswarm::Envelope::decode(fedswarm::ByteView(data, size));
  if (!env) return 0;
  fedswarm::RecordValidator validator(fedswarm::ProjectRegistry::builtin());
  fedswarm::PublicKey authority;
  authority.bytes[0] = 1;
  (void)validator.validate(*env, &roster(), authority, 1000,
                           [](std::string_view) { return std::optional<fedswarm::PublicKey>(fedswarm::PublicKey{}); },
                           /*signature_checked=*/true);
  return 0;
}
