// SampleTree: writes CMIP6-like DRS trees of real netCDF files, for `fedswarm demo`,
// tests, functional tests and benchmarks.
//
// Every dataset id is valid under the built-in CMIP6 template: real CV terms
// (institution/source pairs such as IPSL/IPSL-CM6A-LR, NCAR/CESM2, MOHC/UKESM1-0-LL;
// experiments historical, ssp585, piControl with their activities; tables Amon, Omon,
// day with matching variables), file names with time ranges, and vYYYYMMDD versions.
// Each file is a classic (64-bit offset) netCDF file with one float data variable on a
// small lat/lon grid whose time length makes the file about `file_size` bytes, and the
// CMIP6 global attributes fedswarm reads (tracking_id "hdl:21.14100/<uuid>", frequency,
// realm, nominal_resolution, source_type, variant_label, further_info_url, …) plus the
// variable's standard_name and long_name.
//
// Contract
// - Deterministic: the same root-relative tree, names and bytes for the same seed and
//   spec (no clock, no host data). Different versions of one dataset hold different
//   data and tracking ids, except the files `unchanged_files` carries over: those are
//   byte for byte the previous version's (same name, data, attributes and tracking id),
//   as when a modelling centre reissues a dataset with some files corrected — a swarm
//   fetch of the new version finds them by their equal merkle roots.
// - The first version of each dataset does not depend on `versions_per_dataset`,
//   `unchanged_files` or `first_version`, and the first n datasets do not depend on
//   `datasets` (beyond n). So with `first_version` a later call adds versions to a tree
//   written earlier: the versions before it are generated (what follows is the same as
//   in one call) but neither written nor returned. E.g. {datasets 3, versions 1}, then
//   {datasets 1, versions 2, first_version 1} with the same seed gives the first dataset
//   its second version.
// - Refuses (conflict, reason sample_exists) to write into an existing version
//   directory; creates parent directories. `io` (reason sample_write) with the path on
//   any write failure; a failed file is removed.
// - Runs on the calling thread; libnetcdf is not thread-safe, so do not run it
//   concurrently with other netCDF work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

struct SampleSpec {
  std::size_t datasets = 3;
  std::size_t versions_per_dataset = 1;
  std::size_t files_per_version = 2;
  std::uint64_t file_size = 64 * 1024;  // approximate bytes per file (never below ~2 KiB)
  // Each version after a dataset's first keeps the first `unchanged_files` files of the
  // version before (at most files_per_version - 1: a new version changes at least one
  // file) and writes the others anew.
  std::size_t unchanged_files = 0;
  // Versions of each dataset with a lower index (0 = oldest) are not written.
  std::size_t first_version = 0;
};

struct SampleVersion {
  std::filesystem::path directory;  // absolute version directory
  std::string dataset_id;           // e.g. CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr
  std::string version;              // e.g. v20190312
  std::vector<std::string> files;   // file names, sorted
  std::vector<std::string> tracking_ids;  // same order as files

  std::string instance_id() const { return dataset_id + "." + version; }
};

// Writes `spec.datasets` datasets × `spec.versions_per_dataset` versions ×
// `spec.files_per_version` files under `root` (the DRS root: CMIP6/… is created in
// it). Returns the version directories written (not those before `first_version`),
// oldest version of each dataset first.
Result<std::vector<SampleVersion>> write_sample_tree(const std::filesystem::path& root, std::uint64_t seed,
                                                     const SampleSpec& spec);

}  // namespace fedswarm
