#include "swarm/PieceSpreader.hpp"

#include <libtorrent/bitfield.hpp>

#include <array>
#include <optional>
#include <vector>

namespace fedswarm {

namespace {

void put_u32(char* out, std::uint32_t v) {
  out[0] = static_cast<char>(v >> 24);
  out[1] = static_cast<char>(v >> 16);
  out[2] = static_cast<char>(v >> 8);
  out[3] = static_cast<char>(v);
}

}  // namespace

class PieceSpreader::Peer final : public lt::peer_plugin {
 public:
  Peer(std::shared_ptr<PieceSpreader> spreader, lt::peer_connection_handle pc)
      : spreader_(std::move(spreader)), pc_(std::move(pc)) {
    spreader_->joined(*this);
  }
  ~Peer() override { leave(); }

  bool on_handshake(lt::span<char const> reserved) override {
    fast_ = reserved.size() >= 8 && (reserved[7] & 0x04) != 0;  // BEP 6
    return true;
  }
  bool on_bitfield(const lt::bitfield& bits) override {
    std::vector<bool> v(static_cast<std::size_t>(bits.size()));
    for (int i = 0; i < bits.size(); ++i) v[static_cast<std::size_t>(i)] = bits.get_bit(i);
    spreader_->ledger().announce_bitfield(this, v);
    spreader_->top_up(*this);
    return false;
  }
  bool on_have_none() override {
    spreader_->ledger().announce_none(this);
    spreader_->top_up(*this);
    return false;
  }
  bool on_have_all() override {
    spreader_->ledger().announce_all(this);
    return false;
  }
  bool on_have(lt::piece_index_t piece) override {
    spreader_->ledger().have(this, static_cast<int>(piece));
    spreader_->top_up(*this);
    return false;
  }
  bool on_dont_have(lt::piece_index_t piece) override {
    spreader_->ledger().dont_have(this, static_cast<int>(piece));
    return false;
  }
  bool on_interested() override {
    spreader_->top_up(*this);
    return false;
  }
  void sent_payload(int bytes) override {
    if (bytes > 0) spreader_->ledger().sent(this, static_cast<std::uint64_t>(bytes));
  }
  void on_disconnect(const lt::error_code&) override { leave(); }

  // Whether suggestions may be written to this connection.
  bool suggestible() {
    if (!fast_ || left_) return false;
    // Asked here, not when the connection is made: by its first announcement an incoming
    // connection has finished its handshake and any encryption.
    if (!plain_) plain_ = pc_.type() == lt::connection_type::bittorrent &&
                          !lt::bt_peer_connection_handle(pc_).supports_encryption();
    return *plain_;
  }
  void suggest(int piece) {
    // BEP 6 SUGGEST_PIECE: length 5, id 13, index.
    std::array<char, 9> msg{};
    put_u32(msg.data(), 5);
    msg[4] = 13;
    put_u32(msg.data() + 5, static_cast<std::uint32_t>(piece));
    pc_.send_buffer(msg.data(), static_cast<int>(msg.size()));
  }

 private:
  void leave() {
    if (left_) return;
    left_ = true;
    spreader_->gone(*this);
  }

  std::shared_ptr<PieceSpreader> spreader_;
  lt::peer_connection_handle pc_;
  bool fast_ = false;
  bool left_ = false;
  std::optional<bool> plain_;  // a BitTorrent connection without stream encryption
};

PieceSpreader::PieceSpreader(int num_pieces, int piece_length, std::shared_ptr<std::atomic<std::uint64_t>> suggested)
    : ledger_(num_pieces, piece_length), suggested_(std::move(suggested)) {}

std::shared_ptr<lt::peer_plugin> PieceSpreader::watch(const lt::peer_connection_handle& pc) {
  return std::make_shared<Peer>(shared_from_this(), pc);
}

void PieceSpreader::joined(Peer& p) {
  peers_.push_back(&p);
  ledger_.join(&p);
}

void PieceSpreader::gone(Peer& p) {
  std::erase(peers_, &p);
  ledger_.leave(&p);
}

void PieceSpreader::top_up(Peer& p) {
  if (!ledger_.seeding() || !p.suggestible()) return;
  for (int piece : ledger_.top_up(&p, SpreadLedger::Clock::now())) {
    p.suggest(piece);
    suggested_->fetch_add(1, std::memory_order_relaxed);
  }
}

void PieceSpreader::set_seeding(bool on) {
  if (on == ledger_.seeding()) return;
  ledger_.set_seeding(on);
  if (on)
    for (Peer* p : peers_) top_up(*p);
}

void PieceSpreader::tick() {
  ledger_.tick(SpreadLedger::Clock::now());
  if (!ledger_.seeding()) return;
  for (Peer* p : peers_) top_up(*p);
}

}  // namespace fedswarm
