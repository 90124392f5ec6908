#include "CatalogRows.hpp"

namespace fedswarm {

Error corrupt_row(std::string_view table) {
  return make_error(Errc::corrupt, "catalog_corrupt",
                    "a row of the catalog table \"" + std::string(table) +
                        "\" is damaged; restore the catalog from a backup or re-sync it from peers");
}

// --- parked records and the current roster -------------------------------------------

std::size_t record_value_size(const Envelope& env) { return 2 + 64 + env.body.size(); }

void write_record_value(std::uint8_t* out, const Envelope& env) {
  auto k = static_cast<std::uint16_t>(env.kind);
  out[0] = static_cast<std::uint8_t>(k >> 8);
  out[1] = static_cast<std::uint8_t>(k);
  std::memcpy(out + 2, env.signature.data(), 64);
  if (!env.body.empty()) std::memcpy(out + 66, env.body.data(), env.body.size());
}

Result<Envelope> read_record_value(const PublicKey& author, std::uint64_t seq, ByteView value) {
  if (value.size() < 66) return corrupt_row("pending");
  auto kind = record_kind_from_int(static_cast<std::uint16_t>(value[0] << 8 | value[1]));
  if (!kind) return corrupt_row("pending");
  Envelope e;
  e.author = author;
  e.seq = seq;
  e.kind = *kind;
  std::memcpy(e.signature.data(), value.data() + 2, 64);
  e.body.assign(value.begin() + 66, value.end());
  return e;
}

Bytes encode_roster_envelope(const Envelope& env) {
  Bytes out(40 + record_value_size(env));
  std::memcpy(out.data(), env.author.data(), 32);
  put_u64_be(out.data() + 32, env.seq);
  write_record_value(out.data() + 40, env);
  return out;
}

Result<Envelope> decode_roster_envelope(ByteView value) {
  if (value.size() < 40) return corrupt_row("meta");
  PublicKey author;
  std::memcpy(author.data(), value.data(), 32);
  return read_record_value(author, get_u64_be(value.data() + 32), value.subspan(40));
}

// --- documents -------------------------------------------------------------------------

namespace {
constexpr std::size_t kDocHeader = 32 + 8 + 8 + 8 + 8 + 4 + 2 + 2 + 1 + 1;
}

bool DocRow::parse(ByteView b, DocRow& r) {
  if (b.size() < kDocHeader) return false;
  const std::uint8_t* p = b.data();
  std::memcpy(r.publisher.data(), p, 32);
  std::memcpy(&r.seq, p + 32, 8);
  std::memcpy(&r.log_position, p + 40, 8);
  std::memcpy(&r.size, p + 48, 8);
  std::memcpy(&r.published_at, p + 56, 8);
  std::memcpy(&r.number_of_files, p + 64, 4);
  std::memcpy(&r.npairs, p + 68, 2);
  std::uint16_t ds_len;
  std::memcpy(&ds_len, p + 70, 2);
  std::uint8_t v_len = p[72], s_len = p[73];
  std::size_t need = kDocHeader + 6u * r.npairs + ds_len + v_len + s_len;
  if (b.size() != need) return false;
  r.pairs = p + kDocHeader;
  const char* s = reinterpret_cast<const char*>(r.pairs + 6u * r.npairs);
  r.dataset_id = {s, ds_len};
  r.version = {s + ds_len, v_len};
  r.supersedes = {s + ds_len + v_len, s_len};
  return true;
}

std::size_t DocRow::encoded_size() const {
  return kDocHeader + 6u * npairs + dataset_id.size() + version.size() + supersedes.size();
}

void DocRow::encode(std::uint8_t* out, const FacetPair* sorted_pairs) const {
  // Lengths are bounded by validation: dataset ids <= 512 bytes, versions and
  // supersedes are vYYYYMMDD.
  std::memcpy(out, publisher.data(), 32);
  std::memcpy(out + 32, &seq, 8);
  std::memcpy(out + 40, &log_position, 8);
  std::memcpy(out + 48, &size, 8);
  std::memcpy(out + 56, &published_at, 8);
  std::memcpy(out + 64, &number_of_files, 4);
  std::memcpy(out + 68, &npairs, 2);
  auto ds_len = static_cast<std::uint16_t>(dataset_id.size());
  std::memcpy(out + 70, &ds_len, 2);
  out[72] = static_cast<std::uint8_t>(version.size());
  out[73] = static_cast<std::uint8_t>(supersedes.size());
  std::uint8_t* q = out + kDocHeader;
  for (std::size_t i = 0; i < npairs; ++i, q += 6) {
    std::memcpy(q, &sorted_pairs[i].facet, 2);
    std::memcpy(q + 2, &sorted_pairs[i].value, 4);
  }
  std::memcpy(q, dataset_id.data(), dataset_id.size());
  q += dataset_id.size();
  std::memcpy(q, version.data(), version.size());
  q += version.size();
  std::memcpy(q, supersedes.data(), supersedes.size());
}

// --- other rows --------------------------------------------------------------------------

Bytes encode_retraction(const RetractionInfo& r, std::uint64_t seq) {
  ByteWriter w;
  w.raw(r.author.view());
  w.pod(seq);
  w.pod(r.retracted_at);
  w.str(r.reason);
  w.str(r.errata_id);
  return std::move(w.bytes());
}

std::optional<RetractionInfo> decode_retraction(ByteView b) {
  ByteReader rd(b);
  RetractionInfo r;
  std::uint64_t seq = 0;
  if (!rd.raw(r.author.data(), 32) || !rd.pod(seq) || !rd.pod(r.retracted_at) || !rd.str(r.reason) ||
      !rd.str(r.errata_id) || !rd.done())
    return std::nullopt;
  return r;
}

Bytes encode_replica(const ReplicaLocation& r) {
  ByteWriter w;
  w.pod(static_cast<std::uint8_t>(r.state));
  w.pod(r.at);
  w.str(r.site);
  return std::move(w.bytes());
}

std::optional<ReplicaLocation> decode_replica(const PublicKey& node, ByteView b) {
  ByteReader rd(b);
  ReplicaLocation r;
  r.node = node;
  std::uint8_t state = 0;
  if (!rd.pod(state) || state > 1 || !rd.pod(r.at) || !rd.str(r.site) || !rd.done()) return std::nullopt;
  r.state = static_cast<ReplicaState>(state);
  return r;
}

Bytes encode_claim(const ClaimInfo& c) {
  ByteWriter w;
  w.pod(static_cast<std::uint8_t>(c.action));
  w.pod(c.deadline);
  w.pod(c.made_at);
  return std::move(w.bytes());
}

std::optional<ClaimInfo> decode_claim(const PublicKey& node, ByteView b) {
  ByteReader rd(b);
  ClaimInfo c;
  c.node = node;
  std::uint8_t action = 0;
  if (!rd.pod(action) || action > 1 || !rd.pod(c.deadline) || !rd.pod(c.made_at) || !rd.done()) return std::nullopt;
  c.action = static_cast<ClaimAction>(action);
  return c;
}

Bytes encode_conflict(const ConflictInfo& c) {
  ByteWriter w;
  w.raw(c.author.view());
  w.pod(c.seq);
  w.raw(c.stored_digest.view());
  w.raw(c.refused_digest.view());
  w.pod(c.seen_at);
  return std::move(w.bytes());
}

std::optional<ConflictInfo> decode_conflict(std::string_view instance_id, ByteView b) {
  ByteReader rd(b);
  ConflictInfo c;
  c.instance_id = std::string(instance_id);
  if (!rd.raw(c.author.data(), 32) || !rd.pod(c.seq) || !rd.raw(c.stored_digest.data(), 32) ||
      !rd.raw(c.refused_digest.data(), 32) || !rd.pod(c.seen_at) || !rd.done())
    return std::nullopt;
  return c;
}

Bytes encode_local(const LocalReplica& l) {
  ByteWriter w;
  w.pod(static_cast<std::uint8_t>(l.state));
  w.pod(l.bytes_done);
  w.pod(l.updated_at);
  w.str(l.path);
  w.str(l.last_error);
  w.str(as_chars(l.resume_data));
  return std::move(w.bytes());
}

std::optional<LocalReplica> decode_local(std::string_view instance_id, ByteView b, bool with_resume) {
  ByteReader rd(b);
  LocalReplica l;
  l.instance_id = std::string(instance_id);
  std::uint8_t state = 0;
  if (!rd.pod(state) || state > static_cast<std::uint8_t>(LocalState::paused) || !rd.pod(l.bytes_done) ||
      !rd.pod(l.updated_at) || !rd.str(l.path) || !rd.str(l.last_error))
    return std::nullopt;
  if (with_resume) {
    if (!rd.bytes(l.resume_data)) return std::nullopt;
    l.resume_size = l.resume_data.size();
  } else if (!rd.skip_bytes(l.resume_size)) {
    return std::nullopt;
  }
  if (!rd.done()) return std::nullopt;
  l.state = static_cast<LocalState>(state);
  return l;
}

}  // namespace fedswarm
