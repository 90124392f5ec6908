// StagingArea (engine-private): the `<data_root>/.staging/<instance_id>/` directory a
// fetch downloads into, prepared before libtorrent sees it.
//
// `prepare_staging` checks that the data root exists (a missing data root is often an
// unmounted file system: it is never created here), creates the staged version
// directory, and links in the files whose content is unchanged from an earlier complete
// local version of the same dataset: same v2 "pieces root" (the merkle root of the
// file's 16 KiB blocks, from the signed info dicts) and same size. A hard link costs
// nothing; across file systems the file is copied. libtorrent's check then finds those
// files complete. Linking is safe although the inode is shared with the earlier
// version: libtorrent only ever writes blocks that match the (identical) merkle root.
//
// Contract
// - Runs on the engine's worker thread (copies can take long); uses the catalog
//   (thread-safe) for the earlier versions.
// - Errors: `io` with reasons data_root_missing, staging_failed (the message names the
//   path, the OS error and what to do). A file that cannot be linked or copied is not
//   an error: it is downloaded instead.
#pragma once

#include <cstdint>
#include <filesystem>

#include "fedswarm/protocol/InfoDict.hpp"
#include "fedswarm/protocol/Manifest.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

struct LinkedFiles {
  std::size_t files = 0;
  std::uint64_t bytes = 0;
};

// `staged_dir` is `<staging_root>/<version>`.
Result<LinkedFiles> prepare_staging(const std::filesystem::path& data_root, const std::filesystem::path& staged_dir,
                                    const Catalog& catalog, const Manifest& manifest, const InfoDict& info);

}  // namespace fedswarm
