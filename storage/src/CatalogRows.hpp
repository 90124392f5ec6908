// CatalogRows: the binary value formats of the catalog tables (private to storage/).
//
// Rows are written by this process and read back with bounds checks: a row that does
// not parse means a damaged catalog (`corrupt`), never a crash. Fixed-width fields are
// native-endian (the catalog is not portable across architectures, like LMDB itself).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Envelope.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

// Appends fixed-width fields and length-prefixed strings to a byte string.
class ByteWriter {
 public:
  template <class T>
  void pod(const T& v) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
    out_.insert(out_.end(), p, p + sizeof(T));
  }
  void raw(ByteView b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void str(std::string_view s) {
    pod(static_cast<std::uint32_t>(s.size()));
    raw(as_bytes(s));
  }
  Bytes& bytes() { return out_; }

 private:
  Bytes out_;
};

// Reads what ByteWriter wrote; every read fails (returns false) past the end.
class ByteReader {
 public:
  explicit ByteReader(ByteView b) : b_(b) {}
  template <class T>
  bool pod(T& v) {
    if (b_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool raw(std::uint8_t* out, std::size_t n) {
    if (b_.size() - pos_ < n) return false;
    std::memcpy(out, b_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool str(std::string& s) {
    std::uint32_t n = 0;
    if (!pod(n) || b_.size() - pos_ < n) return false;
    s.assign(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  bool bytes(Bytes& out) {
    std::uint32_t n = 0;
    if (!pod(n) || b_.size() - pos_ < n) return false;
    out.assign(b_.data() + pos_, b_.data() + pos_ + n);
    pos_ += n;
    return true;
  }
  // Passes over what bytes() would read; `size` is its length.
  bool skip_bytes(std::uint64_t& size) {
    std::uint32_t n = 0;
    if (!pod(n) || b_.size() - pos_ < n) return false;
    pos_ += n;
    size = n;
    return true;
  }
  bool done() const { return pos_ == b_.size(); }

 private:
  ByteView b_;
  std::size_t pos_ = 0;
};

Error corrupt_row(std::string_view table);

// --- parked records and the current roster -------------------------------------------
// Value of `pending`: kind (u16 BE) || signature (64) || body.
std::size_t record_value_size(const Envelope& env);
void write_record_value(std::uint8_t* out, const Envelope& env);
Result<Envelope> read_record_value(const PublicKey& author, std::uint64_t seq, ByteView value);

// The current roster in `meta`: author (32) || seq (u64 BE) || record value.
Bytes encode_roster_envelope(const Envelope& env);
Result<Envelope> decode_roster_envelope(ByteView value);

// --- documents (dataset versions) ------------------------------------------------------
struct FacetPair {
  std::uint16_t facet = 0;
  std::uint32_t value = 0;
  auto operator<=>(const FacetPair&) const = default;
};

// Immutable row of one dataset version. Layout: fixed header (kDocHeader bytes), then
// npairs × (u16 facet id, u32 value id) sorted by facet then value, then the dataset id,
// version and supersedes strings.
struct DocRow {
  PublicKey publisher;
  std::uint64_t seq = 0;
  std::uint64_t log_position = 0;  // of the manifest in CatalogLog
  std::uint64_t size = 0;
  std::int64_t published_at = 0;
  std::uint32_t number_of_files = 0;
  std::string_view dataset_id;
  std::string_view version;
  std::string_view supersedes;
  const std::uint8_t* pairs = nullptr;  // npairs × 6 bytes, unaligned
  std::uint16_t npairs = 0;

  FacetPair pair(std::size_t i) const {
    FacetPair p;
    std::memcpy(&p.facet, pairs + 6 * i, 2);
    std::memcpy(&p.value, pairs + 6 * i + 2, 4);
    return p;
  }
  std::string instance_id() const {
    std::string s(dataset_id);
    s.push_back('.');
    s.append(version);
    return s;
  }

  // Parses a stored row; false if it is damaged. Views point into `bytes`.
  static bool parse(ByteView bytes, DocRow& out);
  std::size_t encoded_size() const;
  // Writes the row (with `pairs` taken from the vector) into `out` (encoded_size bytes).
  void encode(std::uint8_t* out, const FacetPair* sorted_pairs) const;
};

// --- other rows --------------------------------------------------------------------------
Bytes encode_retraction(const RetractionInfo& r, std::uint64_t seq);
std::optional<RetractionInfo> decode_retraction(ByteView b);

Bytes encode_replica(const ReplicaLocation& r);
std::optional<ReplicaLocation> decode_replica(const PublicKey& node, ByteView b);

Bytes encode_claim(const ClaimInfo& c);
std::optional<ClaimInfo> decode_claim(const PublicKey& node, ByteView b);

Bytes encode_conflict(const ConflictInfo& c);
std::optional<ConflictInfo> decode_conflict(std::string_view instance_id, ByteView b);

Bytes encode_local(const LocalReplica& l);
// Without `with_resume`, resume_data stays empty (resume_size is set either way).
std::optional<LocalReplica> decode_local(std::string_view instance_id, ByteView b, bool with_resume = true);

}  // namespace fedswarm
