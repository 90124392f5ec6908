#include "SearchFlags.hpp"

#include <algorithm>

namespace fedswarm {

namespace {
// Marks a block known to be absent, distinct from "not loaded yet" (nullptr).
const std::uint8_t kAbsentBlock[1] = {0};
const std::uint8_t* const kAbsent = kAbsentBlock;
}  // namespace

FlagKey flag_key(unsigned kind, std::uint32_t block) {
  FlagKey k;
  k[0] = static_cast<std::uint8_t>(kind);
  put_u32_be(k.data() + 1, block);
  return k;
}

const std::uint8_t* FlagReader::block(unsigned kind, std::uint32_t block) {
  auto& v = blocks_[kind];
  if (block >= v.size()) v.resize(block + 1, nullptr);
  const std::uint8_t*& slot = v[block];
  if (!slot) {
    FlagKey k = flag_key(kind, block);
    MDB_val val;
    // A damaged (short) block reads as absent rather than overrunning the map.
    if (txn_->get(dbi_, mdb_val(ByteView(k)), &val) == 0 && val.mv_size == kFlagBlockBytes)
      slot = static_cast<const std::uint8_t*>(val.mv_data);
    else
      slot = kAbsent;
  }
  return slot == kAbsent ? nullptr : slot;
}

Result<FlagWriter::Block*> FlagWriter::load(LmdbTxn& txn, unsigned kind, std::uint32_t block) {
  std::uint64_t id = static_cast<std::uint64_t>(kind) << 32 | block;
  auto it = loaded_.find(id);
  if (it != loaded_.end()) return &it->second;
  Block b;
  FlagKey k = flag_key(kind, block);
  MDB_val val;
  int rc = txn.get(dbi_, mdb_val(ByteView(k)), &val);
  if (rc == 0 && val.mv_size == kFlagBlockBytes)
    std::memcpy(b.bits.data(), val.mv_data, kFlagBlockBytes);
  else if (rc != 0 && rc != MDB_NOTFOUND)
    return txn.error(rc, "read flags");
  return &loaded_.emplace(id, b).first->second;
}

Result<std::uint8_t> FlagWriter::get(LmdbTxn& txn, std::uint32_t doc) {
  std::uint8_t f = 0;
  std::uint32_t bit = doc % kFlagBlockBits;
  for (unsigned k = 0; k < kFlagKinds; ++k) {
    FEDSWARM_ASSIGN_OR_RETURN(Block * b, load(txn, k, doc / kFlagBlockBits));
    if (b->bits[bit >> 3] >> (bit & 7) & 1) f |= static_cast<std::uint8_t>(1u << k);
  }
  return f;
}

Status FlagWriter::set(LmdbTxn& txn, std::uint32_t doc, std::uint8_t flags) {
  std::uint32_t bit = doc % kFlagBlockBits;
  auto mask = static_cast<std::uint8_t>(1u << (bit & 7));
  for (unsigned k = 0; k < kFlagKinds; ++k) {
    FEDSWARM_ASSIGN_OR_RETURN(Block * b, load(txn, k, doc / kFlagBlockBits));
    std::uint8_t& byte = b->bits[bit >> 3];
    auto next = static_cast<std::uint8_t>((flags >> k & 1) ? byte | mask : byte & ~mask);
    if (next != byte) byte = next, b->changed = true;
  }
  return {};
}

Status FlagWriter::flush(LmdbTxn& txn) {
  for (const auto& [id, b] : loaded_) {
    if (!b.changed) continue;
    FlagKey k = flag_key(static_cast<unsigned>(id >> 32), static_cast<std::uint32_t>(id));
    FEDSWARM_TRY(txn.put(dbi_, mdb_val(ByteView(k)), mdb_val(ByteView(b.bits.data(), b.bits.size()))));
  }
  loaded_.clear();
  return {};
}

}  // namespace fedswarm
