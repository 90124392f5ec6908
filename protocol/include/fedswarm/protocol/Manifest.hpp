// Manifest: the signed description of one immutable dataset version (DESIGN §1).
//
// Contract: value type, no I/O. `encode` yields canonical bytes (the envelope body);
// `decode` takes untrusted bytes and returns `invalid` on anything malformed or over a
// limit (see Limits.hpp). Semantic checks that need the project template (DRS id,
// vocabulary terms, file names) are in ManifestValidator.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

struct Facet {
  std::string name;
  std::vector<std::string> values;
  bool operator==(const Facet&) const = default;
};

struct ManifestFile {
  std::string path;  // relative to the version directory, '/'-separated
  std::uint64_t size = 0;
  Sha256 sha256;
  Xxh128 xxh3;
  std::string tracking_id;  // PID or empty
  bool operator==(const ManifestFile&) const = default;
};

struct Manifest {
  std::string project;     // e.g. "CMIP6"
  std::string dataset_id;  // DRS id without the version
  std::string version;     // vYYYYMMDD
  std::vector<Facet> facets;
  std::vector<ManifestFile> files;
  Bytes info_dict;         // bencoded BitTorrent v2 info dict
  std::string supersedes;  // earlier version this one replaces, or empty
  std::int64_t published_at = 0;  // unix seconds

  // dataset_id + "." + version: ESGF's instance_id.
  std::string instance_id() const { return dataset_id + "." + version; }
  std::uint64_t total_size() const;
  // Values of facet `name`, or an empty list.
  const std::vector<std::string>* facet(std::string_view name) const;
  // SHA-256 of info_dict: the torrent's v2 info-hash.
  Sha256 info_hash() const;

  Bytes encode() const;
  static Result<Manifest> decode(ByteView body);

  bool operator==(const Manifest&) const = default;
};

}  // namespace fedswarm
