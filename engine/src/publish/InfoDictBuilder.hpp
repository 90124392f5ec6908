// InfoDictBuilder (engine-private): the bencoded BitTorrent v2 info dict of a dataset
// version, built by libtorrent's create_torrent from piece hashes computed elsewhere
// (storage/FileHasher, in the same read pass as SHA-256 and xxh3), so publishing reads
// every byte once.
//
// The torrent is v2-only and private; its name is the caller's (the Publisher gives
// torrent_name(manifest), the instance id) and each file is "<name>/<relative path>". The piece length is libtorrent's automatic choice for
// the file set (`auto_piece_length`), which the caller must hash with before calling
// `build_info_dict`. The result is byte-identical to what lt::set_piece_hashes would
// produce for the same files (tests/engine/info_dict_builder_test.cpp checks this).
//
// Contract: no I/O, no shared state; thread-safe. libtorrent exceptions are caught and
// returned as `invalid` (reason info_dict_build). Reasons: empty_dataset (no bytes at
// all: BitTorrent cannot describe an empty torrent), info_dict_build (inputs do not fit
// the piece length, duplicate paths, or libtorrent refused them).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

struct InfoDictInput {
  std::string path;                 // relative to the version directory, '/'-separated
  std::uint64_t size = 0;
  std::vector<Sha256> piece_roots;  // FileHasher's, for the chosen piece length
};

// The piece length create_torrent(fs, 0, v2_only) picks for these files (paths and
// sizes only; piece_roots are ignored).
Result<std::uint64_t> auto_piece_length(std::string_view name, std::span<const InfoDictInput> files);

// The bencoded "info" dictionary. `piece_length` must be the one the piece roots were
// computed for (normally auto_piece_length's).
Result<Bytes> build_info_dict(std::string_view name, std::uint64_t piece_length,
                              std::span<const InfoDictInput> files);

}  // namespace fedswarm
