// HeldWritesDisk (test support): a libtorrent disk subsystem that makes the window
// between "a piece passed its hash check" and "its blocks are written" long and
// certain, so races on it happen every time instead of under load.
//
// It wraps libtorrent's default disk I/O. Every block libtorrent writes is kept in
// memory instead (its write handler is not called yet): reads and hashes of held
// blocks are answered from memory, as libtorrent 2.0's own store buffer does. Only a
// fence job of the storage (stop — a pause or a removal —, release files, move,
// rename, delete, check) lets them through: `delay` after the fence is asked for, the
// held writes go to the real disk I/O in order, then the fence itself, then whatever
// the storage asked for in the meantime. So a torrent can be finished, its resume data
// saved (with flush_disk_cache) and the torrent removed while its staged files are
// still empty; only the completion of the stop fence (the torrent_paused_alert after a
// pause) guarantees the data is in the files. With `lose_writes`, the first released
// writes are acknowledged but dropped: a disk that lost data after its pieces passed.
//
// Contract: built by the session's disk_io_constructor; every call comes from
// libtorrent's network thread (the io_context it is given), where all its state lives.
// `held_blocks()` is for tests and may be read from any thread.
#pragma once

#include <libtorrent/disk_interface.hpp>
#include <libtorrent/session_params.hpp>

#include <atomic>
#include <chrono>
#include <memory>

namespace fedswarm::test {

struct HeldWritesOptions {
  std::chrono::milliseconds delay{0};         // from a fence to the release of the held writes
  std::shared_ptr<std::atomic<long>> held;    // if set: the blocks held at the moment, all storages
  int lose_writes = 0;  // this many released writes are acknowledged to libtorrent but never written
};

// A disk_io_constructor for SwarmEngineOptions::disk_io.
libtorrent::disk_io_constructor_type held_writes_disk(HeldWritesOptions options);
libtorrent::disk_io_constructor_type held_writes_disk(std::chrono::milliseconds delay,
                                                      std::shared_ptr<std::atomic<long>> held = nullptr);

}  // namespace fedswarm::test
