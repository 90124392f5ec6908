// TorrentParams (engine-private): the libtorrent torrent of a signed manifest, and the
// add_torrent_params the engine adds it with.
//
// Contract: pure functions (no I/O, no session), thread-safe. Untrusted inputs (the
// manifest's info dict, stored resume data) never throw; errors are `invalid` with
// reasons from InfoDict (info_dict_*), info_dict_libtorrent (libtorrent refused it),
// resume_data_invalid.
//
// Where files go: always `<save_path>/<version>/<path>`, whatever the torrent's name
// (the instance id in new manifests, the version in older ones): when they differ,
// the parameters rename every file (add_torrent_params::renamed_files), so staging,
// placement and seeding never depend on the name.
#pragma once

#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/alert.hpp>
#include <libtorrent/torrent_info.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <vector>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/InfoDict.hpp"
#include "fedswarm/protocol/Manifest.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

struct ManifestTorrent {
  std::shared_ptr<const lt::torrent_info> ti;
  InfoDict info;  // the parsed info dict (pieces roots of unchanged-file detection)
  std::string version;  // the manifest's: the directory the files are placed in
};

// Checks that the info dict lists exactly the manifest's files and sizes under one of
// the names InfoDict::matches accepts, and that libtorrent loads it as a v2 torrent
// whose info-hash is the manifest's.
Result<ManifestTorrent> torrent_of(const Manifest& manifest);

// A torrent the engine manages itself: not auto-managed (no queueing), not paused,
// files allocated in full when opened, nothing on disk checked (no_verify_files: the
// staged files are reserved space, see prepare_staging).
lt::add_torrent_params fresh_params(const ManifestTorrent& t, const std::filesystem::path& save_path);

// Parameters from stored resume data, with the torrent, save path and flags replaced by
// ours. With `trust_pieces` false the have/verified/unfinished pieces are dropped (the
// merkle trees, peers and banned peers are kept): libtorrent then checks the files on
// disk before it trusts any piece — only if the resume data carries merkle trees
// (without them libtorrent 2.0.8 cannot verify a staged piece and a check misleads it
// into failing, and banning, honest peers' pieces; the pieces are downloaded again
// instead: no_verify_files). Errors: resume_data_invalid (unparsable, or for
// another torrent).
Result<lt::add_torrent_params> resume_params(ByteView resume, const ManifestTorrent& t,
                                             const std::filesystem::path& save_path, bool trust_pieces);

// A fetch's first dial, at once. libtorrent 2.0.8 connects to the peers of a torrent's
// peer list only on the session's once-a-second tick (session_impl::on_tick →
// try_connect_more_peers); add_torrent_params::peers and connect_peer only fill that
// list, so a fetch's first connection came 0–1 s after the torrent was added. The one
// path that dials at once is torrent::do_connect_boost (up to torrent_connect_boost
// peers), which runs when a paused torrent is resumed once its check is over.
// hold_until_checked has `p` added paused (not auto-managed); ends_hold is true for an
// alert that says the torrent's check of its resume data is over (a state past
// checking_resume_data, or torrent_checked_alert): the owner then resumes it. A full
// check (checking_files) runs only once resumed, so that state ends the hold too.
void hold_until_checked(lt::add_torrent_params& p);
bool ends_hold(const lt::alert& a);

// True if `p` claims every piece and carries merkle trees: it can be seeded without a
// check (libtorrent needs the trees to answer peers' hash requests).
bool seedable_without_check(const lt::add_torrent_params& p, const lt::torrent_info& ti);

Bytes encode_resume(const lt::add_torrent_params& p);

// Seed-mode parameters of a complete local copy whose piece layers (the merkle hashes
// of whole pieces, per file, from hashing the files) are known: the torrent is loaded
// from the signed info dict plus those layers, so libtorrent can verify every piece it
// serves and save its merkle trees, with no check of its own. (libtorrent 2.0.8 cannot
// verify the pieces of a v2 file longer than one piece by a check without the layers:
// it reports them missing.) `layers` maps a file's pieces root to its piece hashes;
// files of one piece need none. Errors: info_dict_libtorrent (libtorrent refused the
// layers or the torrent).
Result<lt::add_torrent_params> layered_seed_params(const Manifest& manifest, const ManifestTorrent& t,
                                                   const std::map<Sha256, std::vector<Sha256>>& layers,
                                                   const std::filesystem::path& save_path);

// Sets p.renamed_files so that every file of `t` lands in `<save_path>/<version>/`
// (none when the torrent's name is the version and it has more than one file: a
// one-file torrent has no root directory in libtorrent's layout). fresh_params and resume_params call it.
void with_version_root(lt::add_torrent_params& p, const ManifestTorrent& t);

}  // namespace fedswarm
