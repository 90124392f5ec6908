#include "fedswarm/protocol/Retraction.hpp"

#include "CapnpCodec.hpp"
#include "records.capnp.h"

namespace fedswarm {

Bytes Retraction::encode() const {
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<schema::Retraction>();
  b.setDatasetId(dataset_id);
  b.setVersion(version);
  b.setReason(reason);
  b.setErrataId(errata_id);
  b.setRetractedAt(retracted_at);
  return codec::canonical<schema::Retraction>(message);
}

Result<Retraction> Retraction::decode(ByteView body) {
  return codec::decode_canonical<schema::Retraction>(body, "retraction", [](schema::Retraction::Reader r) -> Result<Retraction> {
    Retraction x;
    x.dataset_id = codec::text(r.getDatasetId());
    x.version = codec::text(r.getVersion());
    x.reason = codec::text(r.getReason());
    x.errata_id = codec::text(r.getErrataId());
    x.retracted_at = r.getRetractedAt();
    return x;
  });
}

}  // namespace fedswarm
