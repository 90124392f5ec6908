#include "HeldWritesDisk.hpp"

#include <libtorrent/disk_buffer_holder.hpp>
#include <libtorrent/file_storage.hpp>
#include <libtorrent/hasher.hpp>
#include <libtorrent/peer_request.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/storage_defs.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <map>
#include <vector>

namespace fedswarm::test {

namespace lt = libtorrent;

namespace {

constexpr int kBlock = lt::default_block_size;

class HeldWrites final : public lt::disk_interface, public lt::buffer_allocator_interface {
 public:
  HeldWrites(lt::io_context& ios, const lt::settings_interface& sett, lt::counters& cnt, HeldWritesOptions o)
      : ios_(ios),
        inner_(lt::default_disk_io_constructor(ios, sett, cnt)),
        delay_(o.delay),
        held_(std::move(o.held)),
        lose_(o.lose_writes) {}
  ~HeldWrites() override { *alive_ = false; }

  lt::storage_holder new_torrent(const lt::storage_params& p, const std::shared_ptr<void>& torrent) override {
    lt::storage_holder h = inner_->new_torrent(p, torrent);
    const lt::storage_index_t idx = h;
    Storage& s = storages_[idx];
    s.inner = std::move(h);
    s.files = &p.files;
    return lt::storage_holder(idx, *this);
  }

  void remove_torrent(lt::storage_index_t idx) override {
    auto it = storages_.find(idx);
    if (it == storages_.end()) return;
    flush_now(it->second, idx);
    storages_.erase(it);  // the inner holder removes it from the real disk I/O
  }

  void async_read(lt::storage_index_t idx, const lt::peer_request& r,
                  std::function<void(lt::disk_buffer_holder, const lt::storage_error&)> handler,
                  lt::disk_job_flags_t flags) override {
    Storage& s = storages_[idx];
    if (const Block* b = find(s, r.piece, r.start); b && r.length <= static_cast<int>(b->data.size())) {
      char* buf = new char[static_cast<std::size_t>(r.length)];
      std::copy_n(b->data.data(), r.length, buf);
      auto holder = std::make_shared<lt::disk_buffer_holder>(*this, buf, r.length);
      boost::asio::post(ios_, [handler = std::move(handler), holder] { handler(std::move(*holder), lt::storage_error()); });
      return;
    }
    run(s, [this, idx, r, handler = std::move(handler), flags]() mutable {
      inner_->async_read(idx, r, std::move(handler), flags);
    });
  }

  bool async_write(lt::storage_index_t idx, const lt::peer_request& r, const char* buf,
                   std::shared_ptr<lt::disk_observer> o, std::function<void(const lt::storage_error&)> handler,
                   lt::disk_job_flags_t flags) override {
    Storage& s = storages_[idx];
    s.held.push_back(Block{r, std::vector<char>(buf, buf + r.length), std::move(o), std::move(handler), flags});
    if (held_) ++*held_;
    return false;
  }

  void async_hash(lt::storage_index_t idx, lt::piece_index_t piece, lt::span<lt::sha256_hash> v2,
                  lt::disk_job_flags_t flags,
                  std::function<void(lt::piece_index_t, const lt::sha1_hash&, const lt::storage_error&)> handler) override {
    Storage& s = storages_[idx];
    const bool v1 = bool(flags & lt::disk_interface::v1_hash);
    const int size1 = v1 ? s.files->piece_size(piece) : 0;
    const int size2 = v2.empty() ? 0 : s.files->piece_size2(piece);
    const int blocks1 = (size1 + kBlock - 1) / kBlock;
    const int blocks2 = v2.empty() ? 0 : s.files->blocks_in_piece2(piece);
    const int blocks = std::max(blocks1, blocks2);
    std::vector<const Block*> found;
    for (int i = 0; i < blocks; ++i) found.push_back(find(s, piece, i * kBlock));
    const bool all = std::all_of(found.begin(), found.end(), [](const Block* b) { return b != nullptr; });
    const bool any = std::any_of(found.begin(), found.end(), [](const Block* b) { return b != nullptr; });
    if (all && blocks > 0) {
      lt::hasher h1;
      for (int i = 0; i < blocks; ++i) {
        const char* data = found[static_cast<std::size_t>(i)]->data.data();
        if (i < blocks1) h1.update(data, std::min(kBlock, size1 - i * kBlock));
        if (i < blocks2) v2[i] = lt::hasher256(data, std::min(kBlock, size2 - i * kBlock)).final();
      }
      const lt::sha1_hash digest = v1 ? h1.final() : lt::sha1_hash();
      boost::asio::post(ios_, [handler = std::move(handler), piece, digest] { handler(piece, digest, lt::storage_error()); });
      return;
    }
    // Part of the piece is on disk already: let the held part through first, so the real
    // disk I/O (whose own store buffer then holds it) sees the whole piece.
    if (any) flush_piece(s, idx, piece);
    run(s, [this, idx, piece, v2, flags, handler = std::move(handler)]() mutable {
      inner_->async_hash(idx, piece, v2, flags, std::move(handler));
    });
  }

  void async_hash2(lt::storage_index_t idx, lt::piece_index_t piece, int offset, lt::disk_job_flags_t flags,
                   std::function<void(lt::piece_index_t, const lt::sha256_hash&, const lt::storage_error&)> handler) override {
    Storage& s = storages_[idx];
    if (const Block* b = find(s, piece, offset)) {
      const int len = std::min(kBlock, s.files->piece_size2(piece) - offset);
      const lt::sha256_hash digest = lt::hasher256(b->data.data(), len).final();
      boost::asio::post(ios_, [handler = std::move(handler), piece, digest] { handler(piece, digest, lt::storage_error()); });
      return;
    }
    run(s, [this, idx, piece, offset, flags, handler = std::move(handler)]() mutable {
      inner_->async_hash2(idx, piece, offset, flags, std::move(handler));
    });
  }

  // --- fence jobs: the held writes go through `delay_` after these are asked for ---

  void async_move_storage(lt::storage_index_t idx, std::string p, lt::move_flags_t flags,
                          std::function<void(lt::status_t, const std::string&, const lt::storage_error&)> handler) override {
    fence(idx, [this, idx, p = std::move(p), flags, handler = std::move(handler)]() mutable {
      inner_->async_move_storage(idx, std::move(p), flags, std::move(handler));
    });
  }
  void async_release_files(lt::storage_index_t idx, std::function<void()> handler) override {
    fence(idx, [this, idx, handler = std::move(handler)]() mutable { inner_->async_release_files(idx, std::move(handler)); });
  }
  void async_check_files(lt::storage_index_t idx, const lt::add_torrent_params* resume_data,
                         lt::aux::vector<std::string, lt::file_index_t> links,
                         std::function<void(lt::status_t, const lt::storage_error&)> handler) override {
    fence(idx, [this, idx, resume_data, links = std::move(links), handler = std::move(handler)]() mutable {
      inner_->async_check_files(idx, resume_data, std::move(links), std::move(handler));
    });
  }
  void async_stop_torrent(lt::storage_index_t idx, std::function<void()> handler) override {
    fence(idx, [this, idx, handler = std::move(handler)]() mutable { inner_->async_stop_torrent(idx, std::move(handler)); });
  }
  void async_rename_file(lt::storage_index_t idx, lt::file_index_t index, std::string name,
                         std::function<void(const std::string&, lt::file_index_t, const lt::storage_error&)> handler) override {
    fence(idx, [this, idx, index, name = std::move(name), handler = std::move(handler)]() mutable {
      inner_->async_rename_file(idx, index, std::move(name), std::move(handler));
    });
  }
  void async_delete_files(lt::storage_index_t idx, lt::remove_flags_t options,
                          std::function<void(const lt::storage_error&)> handler) override {
    fence(idx, [this, idx, options, handler = std::move(handler)]() mutable {
      inner_->async_delete_files(idx, options, std::move(handler));
    });
  }

  void async_set_file_priority(lt::storage_index_t idx, lt::aux::vector<lt::download_priority_t, lt::file_index_t> prio,
                               std::function<void(const lt::storage_error&,
                                                  lt::aux::vector<lt::download_priority_t, lt::file_index_t>)> handler) override {
    run(storages_[idx], [this, idx, prio = std::move(prio), handler = std::move(handler)]() mutable {
      inner_->async_set_file_priority(idx, std::move(prio), std::move(handler));
    });
  }
  void async_clear_piece(lt::storage_index_t idx, lt::piece_index_t index,
                         std::function<void(lt::piece_index_t)> handler) override {
    Storage& s = storages_[idx];
    flush_piece(s, idx, index);
    run(s, [this, idx, index, handler = std::move(handler)]() mutable {
      inner_->async_clear_piece(idx, index, std::move(handler));
    });
  }

  void update_stats_counters(lt::counters& c) const override { inner_->update_stats_counters(c); }
  std::vector<lt::open_file_state> get_status(lt::storage_index_t idx) const override { return inner_->get_status(idx); }
  void abort(bool wait) override {
    for (auto& [idx, s] : storages_) flush_now(s, idx);
    inner_->abort(wait);
  }
  void submit_jobs() override { inner_->submit_jobs(); }
  void settings_updated() override { inner_->settings_updated(); }

  // buffer_allocator_interface: the buffers of reads answered from held blocks.
  void free_disk_buffer(char* b) override { delete[] b; }

 private:
  struct Block {
    lt::peer_request r;
    std::vector<char> data;
    std::shared_ptr<lt::disk_observer> observer;
    std::function<void(const lt::storage_error&)> handler;
    lt::disk_job_flags_t flags;
  };
  struct Storage {
    lt::storage_holder inner;
    const lt::file_storage* files = nullptr;
    std::vector<Block> held;                   // in the order libtorrent wrote them
    std::function<void()> fence_op;            // a fence waiting for its delay
    std::deque<std::function<void()>> queued;  // asked for after that fence, in order
  };

  static const Block* find(const Storage& s, lt::piece_index_t piece, int start) {
    for (auto it = s.held.rbegin(); it != s.held.rend(); ++it)
      if (it->r.piece == piece && it->r.start == start) return &*it;
    return nullptr;
  }

  void forward(lt::storage_index_t idx, Block& b) {
    if (held_) --*held_;
    if (lose_ > 0) {
      --lose_;
      boost::asio::post(ios_, [handler = std::move(b.handler)] { handler(lt::storage_error()); });
      return;
    }
    (void)inner_->async_write(idx, b.r, b.data.data(), std::move(b.observer), std::move(b.handler), b.flags);
  }

  void flush_piece(Storage& s, lt::storage_index_t idx, lt::piece_index_t piece) {
    std::vector<Block> keep;
    for (auto& b : s.held) {
      if (b.r.piece == piece) forward(idx, b);
      else keep.push_back(std::move(b));
    }
    s.held = std::move(keep);
  }

  void run(Storage& s, std::function<void()> op) {
    if (s.fence_op) s.queued.push_back(std::move(op));
    else op();
  }

  void fence(lt::storage_index_t idx, std::function<void()> op) {
    Storage& s = storages_[idx];
    if (s.fence_op) return s.queued.push_back(std::move(op));
    if (s.held.empty()) return op();
    s.fence_op = std::move(op);
    auto timer = std::make_shared<boost::asio::steady_timer>(ios_, delay_);
    timer->async_wait([this, alive = std::weak_ptr<bool>(alive_), idx, timer](const boost::system::error_code&) {
      auto a = alive.lock();
      if (!a || !*a) return;
      auto it = storages_.find(idx);
      if (it == storages_.end() || !it->second.fence_op) return;
      flush_now(it->second, idx);
      inner_->submit_jobs();
    });
  }

  // Lets everything through in order: held writes, the waiting fence, what queued after.
  void flush_now(Storage& s, lt::storage_index_t idx) {
    for (auto& b : s.held) forward(idx, b);
    s.held.clear();
    if (auto op = std::exchange(s.fence_op, nullptr)) op();
    while (!s.queued.empty() && !s.fence_op) {
      auto op = std::move(s.queued.front());
      s.queued.pop_front();
      op();
    }
  }

  lt::io_context& ios_;
  std::unique_ptr<lt::disk_interface> inner_;
  std::chrono::milliseconds delay_;
  std::shared_ptr<std::atomic<long>> held_;
  int lose_ = 0;
  std::map<lt::storage_index_t, Storage> storages_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

lt::disk_io_constructor_type held_writes_disk(HeldWritesOptions options) {
  return [options](lt::io_context& ios, const lt::settings_interface& sett, lt::counters& cnt) {
    return std::unique_ptr<lt::disk_interface>(new HeldWrites(ios, sett, cnt, options));
  };
}

lt::disk_io_constructor_type held_writes_disk(std::chrono::milliseconds delay, std::shared_ptr<std::atomic<long>> held) {
  HeldWritesOptions o;
  o.delay = delay;
  o.held = std::move(held);
  return held_writes_disk(std::move(o));
}

}  // namespace fedswarm::test
