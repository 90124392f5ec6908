// Hard limits on everything a peer or a publisher can make us store or allocate.
// Each bounds memory or disk that untrusted input can claim; a value over a limit is
// refused with the named reason before anything is allocated for it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fedswarm::limits {

// One encoded envelope (header + body + signature). Bounds the gossip frame allocator
// and a single LMDB value; a 20,000-file manifest is about 4 MiB.
inline constexpr std::size_t max_envelope_bytes = 8u << 20;
// Files per dataset version. Real CMIP6 versions have 1..~2,000 files.
inline constexpr std::size_t max_files = 20'000;
// A file path relative to its version directory, in bytes, and one component of it.
inline constexpr std::size_t max_path_bytes = 1024;
inline constexpr std::size_t max_path_component_bytes = 255;
// Directory depth below the version directory.
inline constexpr std::size_t max_path_depth = 8;
// A dataset id (DRS string without version).
inline constexpr std::size_t max_dataset_id_bytes = 512;
// Facets per manifest and values per facet, and one facet name or value.
inline constexpr std::size_t max_facets = 64;
inline constexpr std::size_t max_facet_values = 32;
inline constexpr std::size_t max_facet_text_bytes = 256;
// Free text: retraction reason, errata id, tracking id, site names.
inline constexpr std::size_t max_text_bytes = 4096;
inline constexpr std::size_t max_short_text_bytes = 256;
// The bencoded info dict: about 100 bytes per file plus headers.
inline constexpr std::size_t max_info_dict_bytes = 4u << 20;
// Bencode nesting: file trees are as deep as paths, plus a few levels.
inline constexpr std::size_t max_bencode_depth = 32;
// Roster members and publisher grants, endpoints per member.
inline constexpr std::size_t max_roster_members = 4096;
inline constexpr std::size_t max_roster_grants = 4096;
inline constexpr std::size_t max_endpoints = 8;
// One file, in bytes (16 TiB): protects size arithmetic from overflow.
inline constexpr std::uint64_t max_file_size = 1ull << 44;

}  // namespace fedswarm::limits
