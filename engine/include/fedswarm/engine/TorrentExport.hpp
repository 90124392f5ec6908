// TorrentExport: `fedswarm export-torrent` — a standard BitTorrent v2 .torrent file of a
// dataset version, for tools outside the federation (any v2 client can then fetch or
// seed the version).
//
// The file is { "created by", "creation date" (the manifest's published_at), "info":
// the manifest's signed info dict byte for byte, "piece layers" }. The info dict is
// copied, never rebuilt, so the .torrent's info-hash is the manifest's whatever
// libtorrent version runs here (DESIGN §5). The piece layers (BEP 52: the hashes of
// every piece of every file larger than one piece) are not in the manifest and need
// the data: every file of a complete local replica is read once (storage FileHasher:
// SHA-256 and the v2 piece roots at the manifest's piece length), its size and SHA-256
// checked against the manifest, and libtorrent's create_torrent (v2 only, private)
// builds the torrent from those piece hashes. Its piece layers go into the file; its
// own info dict is compared with the manifest's (`rebuilt_identical`: false only when
// this libtorrent lays out padding differently from the publisher's). Before
// returning, the result is loaded back with lt::torrent_info: its v2 info-hash must be
// the manifest's and its piece layers must verify against the info dict's file roots.
//
// Contract
// - Runs on the calling thread (`progress` too); no shared state; thread-safe.
// - Errors: `corrupt` (reason export_replica_mismatch: a file's size or SHA-256 differs
//   from the manifest — run `fedswarm verify`), `io` (unreadable_file), `invalid`
//   (info_dict_*: the manifest's info dict cannot be used; export_build: libtorrent
//   refused), `corrupt` (export_self_check: the result did not load back as expected).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Manifest.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

struct TorrentExportProgress {
  std::uint64_t bytes_done = 0;
  std::uint64_t bytes_total = 0;
  std::string current;
};

struct TorrentExport {
  Bytes torrent;                   // the bencoded .torrent
  Sha256 info_hash;                // v2 info-hash (= manifest.info_hash())
  std::uint64_t piece_length = 0;
  std::size_t files = 0;
  std::uint64_t bytes = 0;
  std::size_t piece_layers = 0;    // files with a piece layer (larger than one piece)
  bool rebuilt_identical = false;  // libtorrent here rebuilt the exact same info dict
};

// `version_dir` is the directory of a complete local replica of `manifest`.
Result<TorrentExport> export_torrent(const Manifest& manifest, const std::filesystem::path& version_dir,
                                     const std::function<void(const TorrentExportProgress&)>& progress = {});

}  // namespace fedswarm
