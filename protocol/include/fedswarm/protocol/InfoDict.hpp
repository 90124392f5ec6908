// InfoDict: the parts of a BitTorrent v2 info dict (BEP 52) that fedswarm checks.
//
// A manifest carries the info dict built by the publisher with libtorrent; receivers
// never rebuild it from files (libtorrent versions differ in padding layout). They
// only check that it lists exactly the manifest's files and sizes, and read each
// file's merkle root ("pieces root") to recognise unchanged files between versions.
//
// Contract: pure, no I/O. `parse` takes untrusted bytes; reasons: bad_bencode,
// info_dict_too_large, info_dict_not_v2, info_dict_bad_piece_length,
// info_dict_bad_file_tree, info_dict_bad_path (from PathRules), info_dict_too_many_files,
// info_dict_mismatch (from `matches`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

struct Manifest;

struct InfoDictFile {
  std::string path;       // relative to the torrent's root directory, '/'-separated
  std::uint64_t size = 0;
  Sha256 pieces_root;     // zero for empty files (BEP 52 omits it)
};

// The torrent name (root directory) a publisher gives a version's info dict: its
// instance id, "<dataset_id>.<version>", so a torrent exported to any BitTorrent client
// downloads into a folder that names the dataset. Manifests published before carry the
// bare version ("v20190419"); both are valid (`InfoDict::matches`), and nodes place
// files by the manifest's DRS path and version, never by this name.
std::string torrent_name(const Manifest& manifest);

struct InfoDict {
  std::string name;               // the torrent's root directory name (see torrent_name)
  std::int64_t piece_length = 0;  // power of two, >= 16 KiB
  bool is_private = false;
  std::vector<InfoDictFile> files;  // in file-tree (byte) order

  static Result<InfoDict> parse(ByteView bencoded);
  // Checks that the name is the manifest's torrent_name or (older manifests) its
  // version, and that the file set and sizes equal the manifest's exactly (order ignored).
  Status matches(const Manifest& manifest) const;
};

}  // namespace fedswarm
