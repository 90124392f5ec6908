#include "fedswarm/protocol/GossipMessage.hpp"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "CapnpCodec.hpp"
#include "fedswarm/protocol/FrameCodec.hpp"
#include "fedswarm/protocol/Limits.hpp"
#include "gossip.capnp.h"

namespace fedswarm {

namespace {

Error malformed(const std::string& why) {
  return make_error(Errc::invalid, "malformed_message", "gossip message from a peer is malformed: " + why);
}

std::size_t words_for(std::size_t bytes) { return (bytes + sizeof(capnp::word) - 1) / sizeof(capnp::word); }

// Shown in `fedswarm peers`: control characters would let a peer write escape
// sequences to an operator's terminal.
bool printable(capnp::Text::Reader t) {
  return std::all_of(t.begin(), t.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u != 0x7f;
  });
}

void build(const Heartbeat& h, schema::Heartbeat::Builder b) {
  b.setFreeCapacity(h.free_capacity);
  b.setTransferLoad(h.transfer_load);
  b.setSoftwareVersion(capnp::Text::Reader(h.software_version.data(), h.software_version.size()));
  b.setUptimeS(h.uptime_s);
  b.setRosterSerial(h.roster_serial);
  b.setRecordsKnown(h.records_known);
}

Result<Heartbeat> read(schema::Heartbeat::Reader r) {
  Heartbeat h;
  h.free_capacity = r.getFreeCapacity();
  h.transfer_load = r.getTransferLoad();
  auto version = r.getSoftwareVersion();
  if (version.size() > limits::max_short_text_bytes)
    return malformed("heartbeat software version is longer than " + std::to_string(limits::max_short_text_bytes) + " bytes");
  if (!printable(version)) return malformed("heartbeat software version contains control characters");
  h.software_version = codec::text(version);
  h.uptime_s = r.getUptimeS();
  h.roster_serial = r.getRosterSerial();
  h.records_known = r.getRecordsKnown();
  return h;
}

Result<Digest> read(schema::Digest::Reader r) {
  auto list = r.getEntries();
  // The count is checked before anything is allocated for it.
  if (list.size() > limits::max_digest_entries)
    return make_error(Errc::invalid, "too_many_digest_entries",
                      "peer sent a digest of " + std::to_string(list.size()) + " authors; the limit is " +
                          std::to_string(limits::max_digest_entries));
  Digest d;
  d.reply = r.getReply();
  d.entries.reserve(list.size());
  for (auto e : list) {
    auto author = e.getAuthor();
    if (author.size() != PublicKey::size())
      return malformed("digest entry " + std::to_string(d.entries.size() + 1) + " has an author key of " +
                       std::to_string(author.size()) + " bytes, not 32");
    DigestEntry entry;
    std::memcpy(entry.author.data(), author.begin(), PublicKey::size());
    entry.seq = e.getSeq();
    d.entries.push_back(entry);
  }
  // A version vector names each author once; a repeated author would make the receiver
  // answer for it again and again from one small message.
  std::vector<const PublicKey*> authors;
  authors.reserve(d.entries.size());
  for (const auto& e : d.entries) authors.push_back(&e.author);
  std::sort(authors.begin(), authors.end(), [](const PublicKey* a, const PublicKey* b) { return *a < *b; });
  auto dup = std::adjacent_find(authors.begin(), authors.end(),
                                [](const PublicKey* a, const PublicKey* b) { return *a == *b; });
  if (dup != authors.end()) return malformed("digest names author " + short_key(**dup) + " more than once");
  return d;
}

Result<RecordBatch> read(capnp::List<capnp::Data>::Reader list) {
  if (list.size() > limits::max_batch_records)
    return make_error(Errc::invalid, "too_many_records",
                      "peer sent a batch of " + std::to_string(list.size()) + " records; the limit is " +
                          std::to_string(limits::max_batch_records));
  RecordBatch batch;
  batch.records.reserve(list.size());
  for (auto data : list) {
    auto env = Envelope::decode(ByteView(data.begin(), data.size()));
    // The envelope's own reason is kept in the message; the message as a whole is what
    // is malformed, and that is what the peer is disconnected for.
    if (!env)
      return malformed("record " + std::to_string(batch.records.size() + 1) + " of the batch: " + env.error().message +
                       " (" + env.error().reason + ")");
    batch.records.push_back(std::move(*env));
  }
  return batch;
}

Result<GossipMessage> read(schema::GossipMessage::Reader root) {
  switch (root.which()) {
    case schema::GossipMessage::HEARTBEAT: {
      FEDSWARM_ASSIGN_OR_RETURN(auto h, read(root.getHeartbeat()));
      return GossipMessage{std::move(h)};
    }
    case schema::GossipMessage::DIGEST: {
      FEDSWARM_ASSIGN_OR_RETURN(auto d, read(root.getDigest()));
      return GossipMessage{std::move(d)};
    }
    case schema::GossipMessage::RECORDS: {
      FEDSWARM_ASSIGN_OR_RETURN(auto b, read(root.getRecords().getRecords()));
      return GossipMessage{std::move(b)};
    }
  }
  return malformed("unknown message type " + std::to_string(static_cast<unsigned>(root.which())) +
                   " (a newer fedswarm?)");
}

}  // namespace

Bytes GossipMessage::encode() const {
  // Records are encoded first so the builder's first segment can be sized to hold the
  // whole message: one segment is written out as is, without a segment table.
  std::vector<Bytes> records;
  std::size_t words = 16;
  if (const auto* batch = std::get_if<RecordBatch>(&body)) {
    records.reserve(batch->records.size());
    for (const auto& e : batch->records) {
      records.push_back(e.encode());
      words += 1 + words_for(records.back().size());
    }
  } else if (const auto* digest = std::get_if<Digest>(&body)) {
    words += digest->entries.size() * (2 + 4);
  } else if (const auto* hb = std::get_if<Heartbeat>(&body)) {
    words += words_for(hb->software_version.size() + 1);
  }
  capnp::MallocMessageBuilder message(static_cast<capnp::uint>(std::min<std::size_t>(words, 1u << 28)),
                                      capnp::AllocationStrategy::FIXED_SIZE);
  auto root = message.initRoot<schema::GossipMessage>();
  if (const auto* hb = std::get_if<Heartbeat>(&body)) {
    build(*hb, root.initHeartbeat());
  } else if (const auto* digest = std::get_if<Digest>(&body)) {
    auto d = root.initDigest();
    d.setReply(digest->reply);
    auto list = d.initEntries(static_cast<capnp::uint>(digest->entries.size()));
    for (std::size_t i = 0; i < digest->entries.size(); ++i) {
      list[static_cast<capnp::uint>(i)].setAuthor(codec::data(digest->entries[i].author.view()));
      list[static_cast<capnp::uint>(i)].setSeq(digest->entries[i].seq);
    }
  } else {
    auto list = root.initRecords().initRecords(static_cast<capnp::uint>(records.size()));
    for (std::size_t i = 0; i < records.size(); ++i) list.set(static_cast<capnp::uint>(i), codec::data(records[i]));
  }
  auto segments = message.getSegmentsForOutput();
  if (segments.size() == 1) {
    auto bytes = segments[0].asBytes();
    return Bytes(bytes.begin(), bytes.end());
  }
  // Only if the size estimate was short: canonical form is also one segment.
  auto words_out = capnp::canonicalize(message.getRoot<schema::GossipMessage>().asReader());
  auto bytes = words_out.asBytes();
  return Bytes(bytes.begin(), bytes.end());
}

Result<GossipMessage> GossipMessage::decode(ByteView bytes) {
  if (bytes.size() > limits::max_frame_bytes)
    return make_error(Errc::invalid, "message_too_large",
                      "peer sent a gossip message of " + std::to_string(bytes.size()) + " bytes; the limit is " +
                          std::to_string(limits::max_frame_bytes));
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0)
    return malformed("length " + std::to_string(bytes.size()) + " is not a positive multiple of 8 bytes");
  try {
    // Cap'n Proto reads words in place; copy only when the frame buffer is misaligned.
    kj::Array<capnp::word> copy;
    kj::ArrayPtr<const capnp::word> words;
    if (reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(capnp::word) == 0) {
      words = kj::arrayPtr(reinterpret_cast<const capnp::word*>(bytes.data()), bytes.size() / sizeof(capnp::word));
    } else {
      copy = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
      std::memcpy(copy.begin(), bytes.data(), bytes.size());
      words = copy.asPtr();
    }
    kj::ArrayPtr<const capnp::word> segments[1] = {words};
    capnp::ReaderOptions options;
    // Each word of an honest message is read once. The limit stops pointer tricks (many
    // list elements aimed at one large blob) from turning a frame into gigabytes of
    // copying; nesting is shallow in this schema.
    options.traversalLimitInWords = 2 * words.size() + 64;
    options.nestingLimit = 8;
    capnp::SegmentArrayMessageReader reader(kj::arrayPtr(segments, 1), options);
    return read(reader.getRoot<schema::GossipMessage>());
  } catch (const kj::Exception& e) {
    return malformed(e.getDescription().cStr());
  }
}

}  // namespace fedswarm
