#include "fedswarm/protocol/Claim.hpp"

#include "CapnpCodec.hpp"
#include "records.capnp.h"

namespace fedswarm {

std::string_view to_string(ClaimAction a) {
  switch (a) {
    case ClaimAction::take: return "take";
    case ClaimAction::release: return "release";
  }
  return "unknown";
}

Bytes Claim::encode() const {
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<schema::Claim>();
  b.setDatasetId(dataset_id);
  b.setVersion(version);
  b.setAction(static_cast<schema::ClaimAction>(action));
  b.setDeadline(deadline);
  b.setMadeAt(made_at);
  return codec::canonical<schema::Claim>(message);
}

Result<Claim> Claim::decode(ByteView body) {
  return codec::decode_canonical<schema::Claim>(body, "claim", [](schema::Claim::Reader r) -> Result<Claim> {
    Claim x;
    x.dataset_id = codec::text(r.getDatasetId());
    x.version = codec::text(r.getVersion());
    auto a = static_cast<unsigned>(r.getAction());
    if (a > 1) return make_error(Errc::invalid, "bad_enum", "unknown claim action " + std::to_string(a));
    x.action = static_cast<ClaimAction>(a);
    x.deadline = r.getDeadline();
    x.made_at = r.getMadeAt();
    return x;
  });
}

}  // namespace fedswarm
