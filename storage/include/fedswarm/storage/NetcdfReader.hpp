// NetcdfReader: the few netCDF attributes fedswarm records in a manifest — the file's
// PID (`tracking_id`) and the descriptive CMIP6 global attributes that become search
// facets — read with libnetcdf.
//
// Contract
// - A file libnetcdf cannot open (not netCDF, truncated, unreadable) has "no
//   attributes": the result is std::nullopt, not an error. Hashing reports unreadable
//   files; a README or a checksum file in a version directory is legitimate.
// - Missing attributes are empty strings. Text is returned as stored, with trailing
//   NULs and surrounding blanks removed; an attribute longer than
//   kMaxAttributeBytes is ignored (treated as missing) so a hostile file cannot make
//   us allocate without bound. NC_CHAR and NC_STRING (netCDF-4) attributes are read.
// - Thread-safe: libnetcdf has process-wide state, so calls are serialized by an
//   internal mutex. Every handle opened is closed before returning.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace fedswarm {

struct NetcdfAttributes {
  // Global attributes.
  std::string tracking_id;         // e.g. "hdl:21.14100/0b8f6c5e-…"
  std::string frequency;           // e.g. "mon"
  std::string realm;               // space-separated, e.g. "atmos land"
  std::string nominal_resolution;  // e.g. "250 km"
  std::string source_type;         // space-separated, e.g. "AOGCM BGC"
  std::string variant_label;       // e.g. "r1i1p1f1"
  std::string further_info_url;
  std::string variable_id;         // the global attribute, if present
  // Attributes of the data variable (see read_netcdf_attributes).
  std::string cf_standard_name;    // the variable's `standard_name`
  std::string long_name;           // the variable's `long_name`
};

// Largest attribute text read; longer values are treated as missing.
inline constexpr std::size_t kMaxAttributeBytes = 64 * 1024;

// Reads the attributes of `path`. The data variable is `variable` if given, else the
// one named by the global `variable_id`, else the first variable that is neither a
// coordinate (named like a dimension) nor referenced as bounds.
std::optional<NetcdfAttributes> read_netcdf_attributes(const std::filesystem::path& path,
                                                       std::string_view variable = {});

}  // namespace fedswarm
