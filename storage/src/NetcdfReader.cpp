#include "fedswarm/storage/NetcdfReader.hpp"

#include <netcdf.h>

#include <mutex>
#include <set>
#include <vector>

namespace fedswarm {

namespace {

// libnetcdf (and the HDF5 library under it) is not thread-safe unless built so;
// Debian's build makes no promise, so every call goes through this lock.
std::mutex& netcdf_mutex() {
  static std::mutex m;
  return m;
}

// Closes the dataset on every return path.
struct NcFile {
  int id = -1;
  ~NcFile() {
    if (id >= 0) nc_close(id);
  }
};

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\0' || s.back() == ' ' || s.back() == '\n' || s.back() == '\t' || s.back() == '\r'))
    s.pop_back();
  std::size_t start = 0;
  while (start < s.size() && (s[start] == ' ' || s[start] == '\n' || s[start] == '\t' || s[start] == '\r')) ++start;
  return s.substr(start);
}

// Text of attribute `name` of variable `varid` (NC_GLOBAL for global attributes), or
// an empty string if missing, not text, or over the size bound.
std::string read_text(int ncid, int varid, const char* name) {
  nc_type type = NC_NAT;
  std::size_t len = 0;
  if (nc_inq_att(ncid, varid, name, &type, &len) != NC_NOERR) return {};
  if (type == NC_CHAR) {
    if (len == 0 || len > kMaxAttributeBytes) return {};
    std::string out(len, '\0');
    if (nc_get_att_text(ncid, varid, name, out.data()) != NC_NOERR) return {};
    return trim(std::move(out));
  }
  if (type == NC_STRING) {
    // A string attribute is an array of strings; CMIP6 writers store one.
    if (len != 1) return {};
    char* value = nullptr;
    if (nc_get_att_string(ncid, varid, name, &value) != NC_NOERR) return {};
    std::string out;
    if (value) {
      std::string_view v(value);
      if (v.size() <= kMaxAttributeBytes) out.assign(v);
    }
    nc_free_string(1, &value);
    return trim(std::move(out));
  }
  return {};
}

// The data variable: named, or the first that is neither a coordinate variable nor
// listed as another variable's bounds (time_bnds, lat_bnds, …).
int find_data_variable(int ncid, std::string_view wanted) {
  int varid = -1;
  if (!wanted.empty() && wanted.size() <= NC_MAX_NAME) {
    std::string name(wanted);
    if (nc_inq_varid(ncid, name.c_str(), &varid) == NC_NOERR) return varid;
  }
  int nvars = 0;
  if (nc_inq_nvars(ncid, &nvars) != NC_NOERR || nvars <= 0) return -1;
  std::set<std::string> bounds;
  std::vector<std::string> names(static_cast<std::size_t>(nvars));
  for (int v = 0; v < nvars; ++v) {
    char name[NC_MAX_NAME + 1] = {};
    if (nc_inq_varname(ncid, v, name) != NC_NOERR) continue;
    names[static_cast<std::size_t>(v)] = name;
    std::string b = read_text(ncid, v, "bounds");
    if (!b.empty()) bounds.insert(b);
  }
  for (int v = 0; v < nvars; ++v) {
    const std::string& name = names[static_cast<std::size_t>(v)];
    if (name.empty() || bounds.count(name)) continue;
    int dimid = -1;
    if (nc_inq_dimid(ncid, name.c_str(), &dimid) == NC_NOERR) continue;  // coordinate variable
    return v;
  }
  return -1;
}

}  // namespace

std::optional<NetcdfAttributes> read_netcdf_attributes(const std::filesystem::path& path, std::string_view variable) {
  std::lock_guard<std::mutex> lock(netcdf_mutex());
  NcFile f;
  if (nc_open(path.c_str(), NC_NOWRITE, &f.id) != NC_NOERR) {
    f.id = -1;  // nc_open leaves the id unspecified on failure
    return std::nullopt;
  }
  NetcdfAttributes a;
  a.tracking_id = read_text(f.id, NC_GLOBAL, "tracking_id");
  a.frequency = read_text(f.id, NC_GLOBAL, "frequency");
  a.realm = read_text(f.id, NC_GLOBAL, "realm");
  a.nominal_resolution = read_text(f.id, NC_GLOBAL, "nominal_resolution");
  a.source_type = read_text(f.id, NC_GLOBAL, "source_type");
  a.variant_label = read_text(f.id, NC_GLOBAL, "variant_label");
  a.further_info_url = read_text(f.id, NC_GLOBAL, "further_info_url");
  a.variable_id = read_text(f.id, NC_GLOBAL, "variable_id");
  int varid = find_data_variable(f.id, !variable.empty() ? variable : std::string_view(a.variable_id));
  if (varid >= 0) {
    a.cf_standard_name = read_text(f.id, varid, "standard_name");
    a.long_name = read_text(f.id, varid, "long_name");
  }
  return a;
}

}  // namespace fedswarm
