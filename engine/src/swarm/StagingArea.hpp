// StagingArea (engine-private): the `<data_root>/.staging/<instance_id>/` directory a
// fetch downloads into, prepared before libtorrent sees it.
//
// `prepare_staging` checks that the data root exists (a missing data root is often an
// unmounted file system: it is never created here), creates the staged version
// directory, and finds the files whose content is unchanged from an earlier complete
// local version of the same dataset: same v2 "pieces root" (the merkle root of the
// file's 16 KiB blocks, from the signed info dicts) and same size. Those are not
// downloaded (libtorrent gets them at priority 0) and are linked into the staged
// directory only by `link_files`, at placement, just before every file's SHA-256 is
// verified. They must not be in the staged directory while libtorrent has the torrent:
// libtorrent 2.0.8 checking files present on disk for a torrent known by its info dict
// alone, then fetching the others' piece layers from peers, fails the hashes of the
// pieces it then downloads and bans the honest peers that sent them (reproduced with
// plain libtorrent for pieces > 16 KiB). So a stale copy of such a file in the staged
// directory (an older run linked it there) is removed.
//
// Then it reserves the full size of every file to download (fallocate), before
// libtorrent has the torrent: a data root too full for the version is one clean error
// (reason staging_no_space, naming the file system, the bytes needed and free, and
// what to do) before a byte is fetched, and a disk that fills later cannot fail a write
// of a staged file. (libtorrent allocates a file at its first write; on a full disk that
// left a sparse file whose holes the piece's hash job read back: SIGBUS on a full
// tmpfs, zeros elsewhere — a hash failure blamed on, and banning, the honest peer.)
// Files it created are removed again when a reservation fails. On file systems without
// fallocate nothing is reserved.
//
// A hard link costs nothing; across file systems the file is copied. Sharing the inode
// with the earlier version is safe: nothing writes into a linked file.
//
// Contract
// - Runs on the engine's worker thread (copies can take long); uses the catalog
//   (thread-safe) for the earlier versions.
// - Errors: `io` with reasons data_root_missing, staging_failed, staging_no_space (the
//   message names the path, the OS error and what to do). A file that cannot be linked or copied is not
//   an error: it is downloaded instead.
#pragma once

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "fedswarm/protocol/InfoDict.hpp"
#include "fedswarm/protocol/Manifest.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

// One file of the new version with the same content as a file of an earlier local one.
struct LinkedFile {
  std::string path;            // inside the version directory (the manifest's path)
  Sha256 pieces_root;          // identifies the file in the torrent
  std::filesystem::path from;  // the earlier version's file
  std::uint64_t size = 0;
};

struct LinkedFiles {
  std::vector<LinkedFile> list;
  std::uint64_t bytes = 0;
};

// `staged_dir` is `<staging_root>/<version>`. Files named in `no_link` (manifest paths)
// are downloaded even when an earlier version holds the same content (a linked copy of
// them failed its SHA-256 check).
Result<LinkedFiles> prepare_staging(const std::filesystem::path& data_root, const std::filesystem::path& staged_dir,
                                    const Catalog& catalog, const Manifest& manifest, const InfoDict& info,
                                    const std::set<std::string>& no_link = {});

// Links (or copies) each file into `staged_dir`, replacing whatever is there. Errors:
// `io`, reason link_failed, naming both paths, the OS error and what to do.
Status link_files(const std::filesystem::path& staged_dir, const std::vector<LinkedFile>& files);

}  // namespace fedswarm
