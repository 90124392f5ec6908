#include "fedswarm/protocol/ReplicaRecord.hpp"

#include "CapnpCodec.hpp"
#include "records.capnp.h"

namespace fedswarm {

std::string_view to_string(ReplicaState s) {
  switch (s) {
    case ReplicaState::complete: return "complete";
    case ReplicaState::dropped: return "dropped";
  }
  return "unknown";
}

Bytes ReplicaRecord::encode() const {
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<schema::Replica>();
  b.setDatasetId(dataset_id);
  b.setVersion(version);
  b.setState(static_cast<schema::ReplicaState>(state));
  b.setAt(at);
  return codec::canonical<schema::Replica>(message);
}

Result<ReplicaRecord> ReplicaRecord::decode(ByteView body) {
  return codec::decode_canonical<schema::Replica>(body, "replica", [](schema::Replica::Reader r) -> Result<ReplicaRecord> {
    ReplicaRecord x;
    x.dataset_id = codec::text(r.getDatasetId());
    x.version = codec::text(r.getVersion());
    auto s = static_cast<unsigned>(r.getState());
    if (s > 1) return make_error(Errc::invalid, "bad_enum", "unknown replica state " + std::to_string(s));
    x.state = static_cast<ReplicaState>(s);
    x.at = r.getAt();
    return x;
  });
}

}  // namespace fedswarm
