// TorrentParams (engine-private): the libtorrent torrent of a signed manifest, and the
// add_torrent_params the engine adds it with.
//
// Contract: pure functions (no I/O, no session), thread-safe. Untrusted inputs (the
// manifest's info dict, stored resume data) never throw; errors are `invalid` with
// reasons from InfoDict (info_dict_*), info_dict_name (the torrent's root directory is
// not the version), info_dict_libtorrent (libtorrent refused it), resume_data_invalid.
#pragma once

#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/torrent_info.hpp>

#include <filesystem>
#include <memory>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/InfoDict.hpp"
#include "fedswarm/protocol/Manifest.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

struct ManifestTorrent {
  std::shared_ptr<const lt::torrent_info> ti;
  InfoDict info;  // the parsed info dict (pieces roots of unchanged-file detection)
};

// Checks that the info dict lists exactly the manifest's files and sizes, that its name
// is the version (so files land in <save_path>/<version>/), and that libtorrent loads
// it as a v2 torrent whose info-hash is the manifest's.
Result<ManifestTorrent> torrent_of(const Manifest& manifest);

// A torrent the engine manages itself: not auto-managed (no queueing), not paused,
// files allocated in full when opened.
lt::add_torrent_params fresh_params(const ManifestTorrent& t, const std::filesystem::path& save_path);

// Parameters from stored resume data, with the torrent, save path and flags replaced by
// ours. With `trust_pieces` false the have/verified/unfinished pieces are dropped (the
// merkle trees, peers and banned peers are kept): libtorrent then checks the files on
// disk before it trusts any piece. Errors: resume_data_invalid (unparsable, or for
// another torrent).
Result<lt::add_torrent_params> resume_params(ByteView resume, const ManifestTorrent& t,
                                             const std::filesystem::path& save_path, bool trust_pieces);

// True if `p` claims every piece and carries merkle trees: it can be seeded without a
// check (libtorrent needs the trees to answer peers' hash requests).
bool seedable_without_check(const lt::add_torrent_params& p, const lt::torrent_info& ti);

Bytes encode_resume(const lt::add_torrent_params& p);

}  // namespace fedswarm
