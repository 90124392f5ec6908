#include <doctest/doctest.h>
#include <netcdf.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "TestSupport.hpp"
#include "fedswarm/storage/NetcdfReader.hpp"

using namespace fedswarm;
namespace fs = std::filesystem;

namespace {

void put(int ncid, int varid, const char* name, const std::string& value) {
  REQUIRE(nc_put_att_text(ncid, varid, name, value.size(), value.data()) == NC_NOERR);
}

struct VarSpec {
  std::string name;
  std::string standard_name;
  std::string long_name;
  bool coordinate = false;  // named like its dimension
  std::string bounds_of;    // non-empty: this variable is referenced as bounds
};

// Writes a small netCDF file: dimension "time" (+ "bnds"), the given variables and
// global attributes. `format` is NC_64BIT_OFFSET or NC_NETCDF4.
void write_nc(const fs::path& path, const std::vector<std::pair<std::string, std::string>>& globals,
              const std::vector<VarSpec>& vars, int format = NC_64BIT_OFFSET) {
  int ncid = -1;
  REQUIRE(nc_create(path.c_str(), NC_CLOBBER | format, &ncid) == NC_NOERR);
  int time = -1, bnds = -1;
  REQUIRE(nc_def_dim(ncid, "time", 2, &time) == NC_NOERR);
  REQUIRE(nc_def_dim(ncid, "bnds", 2, &bnds) == NC_NOERR);
  for (const auto& v : vars) {
    int varid = -1;
    int dims[2] = {time, bnds};
    std::string name = v.coordinate ? "time" : v.name;
    REQUIRE(nc_def_var(ncid, name.c_str(), NC_FLOAT, v.bounds_of.empty() ? 1 : 2, dims, &varid) == NC_NOERR);
    if (!v.standard_name.empty()) put(ncid, varid, "standard_name", v.standard_name);
    if (!v.long_name.empty()) put(ncid, varid, "long_name", v.long_name);
  }
  // Coordinates reference their bounds, as CF writers do.
  for (const auto& v : vars)
    if (!v.bounds_of.empty()) {
      int owner = -1;
      REQUIRE(nc_inq_varid(ncid, v.bounds_of.c_str(), &owner) == NC_NOERR);
      put(ncid, owner, "bounds", v.name);
    }
  for (const auto& [k, val] : globals) put(ncid, NC_GLOBAL, k.c_str(), val);
  REQUIRE(nc_close(ncid) == NC_NOERR);
}

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

}  // namespace

TEST_CASE("NetcdfReader: CMIP6 global attributes and the data variable's names") {
  test::TempDir dir;
  write_nc(dir / "tas.nc",
           {{"tracking_id", "hdl:21.14100/0b8f6c5e-1f3a-4d2e-9a77-3c1de2f0a001"},
            {"frequency", "mon"},
            {"realm", "atmos"},
            {"nominal_resolution", "250 km"},
            {"source_type", "AOGCM BGC"},
            {"variant_label", "r1i1p1f1"},
            {"further_info_url", "https://furtherinfo.es-doc.org/CMIP6.IPSL.IPSL-CM6A-LR.historical.none.r1i1p1f1"},
            {"variable_id", "tas"}},
           {{"time", "time", "time", true, ""},
            {"time_bnds", "", "", false, "time"},
            {"tas", "air_temperature", "Near-Surface Air Temperature", false, ""}});
  auto a = read_netcdf_attributes(dir / "tas.nc");
  REQUIRE(a.has_value());
  CHECK(a->tracking_id == "hdl:21.14100/0b8f6c5e-1f3a-4d2e-9a77-3c1de2f0a001");
  CHECK(a->frequency == "mon");
  CHECK(a->realm == "atmos");
  CHECK(a->nominal_resolution == "250 km");
  CHECK(a->source_type == "AOGCM BGC");
  CHECK(a->variant_label == "r1i1p1f1");
  CHECK(a->further_info_url.find("IPSL-CM6A-LR") != std::string::npos);
  CHECK(a->variable_id == "tas");
  CHECK(a->cf_standard_name == "air_temperature");
  CHECK(a->long_name == "Near-Surface Air Temperature");
}

TEST_CASE("NetcdfReader: without variable_id the first non-coordinate, non-bounds variable is used") {
  test::TempDir dir;
  write_nc(dir / "pr.nc", {{"tracking_id", "hdl:21.14100/x"}},
           {{"time", "time", "time", true, ""},
            {"time_bnds", "", "", false, "time"},
            {"pr", "precipitation_flux", "Precipitation", false, ""}});
  auto a = read_netcdf_attributes(dir / "pr.nc");
  REQUIRE(a.has_value());
  CHECK(a->cf_standard_name == "precipitation_flux");
  // An explicitly named variable wins.
  auto t = read_netcdf_attributes(dir / "pr.nc", "time");
  REQUIRE(t.has_value());
  CHECK(t->cf_standard_name == "time");
}

TEST_CASE("NetcdfReader: missing attributes are empty and netCDF-4 string attributes are read") {
  test::TempDir dir;
  write_nc(dir / "bare.nc", {}, {{"tas", "", "", false, ""}});
  auto bare = read_netcdf_attributes(dir / "bare.nc");
  REQUIRE(bare.has_value());
  CHECK(bare->tracking_id.empty());
  CHECK(bare->cf_standard_name.empty());

  int ncid = -1;
  REQUIRE(nc_create((dir / "nc4.nc").c_str(), NC_CLOBBER | NC_NETCDF4, &ncid) == NC_NOERR);
  const char* value = "hdl:21.14100/netcdf4-string  ";
  REQUIRE(nc_put_att_string(ncid, NC_GLOBAL, "tracking_id", 1, &value) == NC_NOERR);
  put(ncid, NC_GLOBAL, "frequency", std::string("day\0", 4));  // trailing NUL as some writers store
  REQUIRE(nc_close(ncid) == NC_NOERR);
  auto nc4 = read_netcdf_attributes(dir / "nc4.nc");
  REQUIRE(nc4.has_value());
  CHECK(nc4->tracking_id == "hdl:21.14100/netcdf4-string");
  CHECK(nc4->frequency == "day");
}

TEST_CASE("NetcdfReader: an oversized attribute is treated as missing") {
  test::TempDir dir;
  write_nc(dir / "big.nc", {{"tracking_id", std::string(kMaxAttributeBytes + 1, 'x')}, {"frequency", "mon"}}, {});
  auto a = read_netcdf_attributes(dir / "big.nc");
  REQUIRE(a.has_value());
  CHECK(a->tracking_id.empty());
  CHECK(a->frequency == "mon");
}

TEST_CASE("NetcdfReader: files that are not netCDF have no attributes, and no handle leaks") {
  test::TempDir dir;
  test::write_file(dir / "README.txt", "not a netCDF file\n");
  test::write_file(dir / "fake.nc", "CDF\x01 truncated header");
  write_nc(dir / "ok.nc", {{"tracking_id", "hdl:21.14100/ok"}}, {{"tas", "air_temperature", "", false, ""}});
  std::size_t before = open_fds();
  for (int i = 0; i < 50; ++i) {
    CHECK_FALSE(read_netcdf_attributes(dir / "README.txt").has_value());
    CHECK_FALSE(read_netcdf_attributes(dir / "fake.nc").has_value());
    CHECK_FALSE(read_netcdf_attributes(dir / "missing.nc").has_value());
    CHECK(read_netcdf_attributes(dir / "ok.nc").has_value());
  }
  CHECK(open_fds() == before);
}
