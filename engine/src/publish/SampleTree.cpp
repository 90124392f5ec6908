#include "fedswarm/engine/SampleTree.hpp"

#include <netcdf.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace fs = std::filesystem;

namespace fedswarm {

namespace {

// SplitMix64: a tiny generator whose output is the same on every platform and
// standard library (std::uniform_*_distribution is not), so trees are reproducible.
struct SplitMix {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  float unit() { return static_cast<float>(next() >> 40) / static_cast<float>(1ull << 24); }
};

struct Source {
  const char* institution;
  const char* source;
  const char* atmos_grid;
  const char* atmos_resolution;
  const char* ocean_resolution;
  const char* source_type;
};
// Real CMIP6 source_id entries (CMIP6_source_id.json) with their institution, native
// nominal resolutions and model components.
constexpr std::array<Source, 6> kSources{{
    {"IPSL", "IPSL-CM6A-LR", "gr", "250 km", "100 km", "AOGCM BGC"},
    {"NCAR", "CESM2", "gn", "100 km", "100 km", "AOGCM BGC AER"},
    {"MOHC", "UKESM1-0-LL", "gn", "250 km", "100 km", "AOGCM AER BGC CHEM"},
    {"MPI-M", "MPI-ESM1-2-HR", "gn", "100 km", "50 km", "AOGCM"},
    {"MIROC", "MIROC6", "gn", "250 km", "100 km", "AOGCM AER"},
    {"CNRM-CERFACS", "CNRM-CM6-1", "gr", "250 km", "100 km", "AOGCM"},
}};

struct Experiment {
  const char* activity;
  const char* experiment;
  int start_year;
};
constexpr std::array<Experiment, 3> kExperiments{{
    {"CMIP", "historical", 1850},
    {"ScenarioMIP", "ssp585", 2015},
    {"CMIP", "piControl", 1850},
}};

struct Variable {
  const char* table;
  const char* frequency;
  const char* realm;
  const char* variable;
  const char* standard_name;
  const char* long_name;
  const char* units;
  float base, spread;
};
constexpr std::array<Variable, 7> kVariables{{
    {"Amon", "mon", "atmos", "tas", "air_temperature", "Near-Surface Air Temperature", "K", 250.f, 60.f},
    {"Amon", "mon", "atmos", "pr", "precipitation_flux", "Precipitation", "kg m-2 s-1", 0.f, 1e-4f},
    {"Amon", "mon", "atmos", "psl", "air_pressure_at_mean_sea_level", "Sea Level Pressure", "Pa", 98000.f, 6000.f},
    {"Omon", "mon", "ocean", "tos", "sea_surface_temperature", "Sea Surface Temperature", "degC", -2.f, 32.f},
    {"Omon", "mon", "ocean", "sos", "sea_surface_salinity", "Sea Surface Salinity", "0.001", 30.f, 8.f},
    {"day", "day", "atmos", "tas", "air_temperature", "Near-Surface Air Temperature", "K", 250.f, 60.f},
    {"day", "day", "atmos", "pr", "precipitation_flux", "Precipitation", "kg m-2 s-1", 0.f, 1e-4f},
}};

constexpr std::size_t kCombos = kSources.size() * kExperiments.size() * kVariables.size();

// Days since 1970-01-01 <-> civil date (H. Hinnant's algorithms), for real version dates.
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * static_cast<unsigned>(m > 2 ? m - 3 : m + 9) + 2) / 5 + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::string version_for_day(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  char buf[16];
  std::snprintf(buf, sizeof buf, "v%04d%02u%02u", static_cast<int>(y + (m <= 2)), m, d);
  return buf;
}

std::string uuid4(SplitMix& rng) {
  std::uint64_t a = rng.next(), b = rng.next();
  a = (a & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
  b = (b & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // RFC 4122 variant
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>(a & 0xFFFF),
                static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFull));
  return buf;
}

std::string time_range(const Variable& v, int start_year, std::size_t file_index) {
  char buf[40];
  if (std::string_view(v.frequency) == "day") {
    int y0 = start_year + static_cast<int>(file_index) * 5;
    std::snprintf(buf, sizeof buf, "%04d0101-%04d1231", y0, y0 + 4);
  } else {
    int y0 = start_year + static_cast<int>(file_index) * 10;
    std::snprintf(buf, sizeof buf, "%04d01-%04d12", y0, y0 + 9);
  }
  return buf;
}

struct FileSpec {
  fs::path path;
  const Source* src;
  const Experiment* exp;
  const Variable* var;
  std::string member, grid, version, tracking_id, dataset_id;
  std::uint64_t size;
  std::uint64_t data_seed;
  int start_year;
};

Error nc_failure(const fs::path& path, int status, const char* what) {
  return make_error(Errc::io, "sample_write",
                    path.string() + ": " + what + ": " + nc_strerror(status) + "; check free space and permissions");
}

#define FEDSWARM_NC(call, what)                          \
  do {                                                   \
    int nc_status_ = (call);                             \
    if (nc_status_ != NC_NOERR) return nc_failure(spec.path, nc_status_, what); \
  } while (0)

Status put_text(int ncid, int varid, const char* name, const std::string& value, const FileSpec& spec) {
  FEDSWARM_NC(nc_put_att_text(ncid, varid, name, value.size(), value.data()), "cannot write an attribute");
  return {};
}

Status write_netcdf_body(int ncid, const FileSpec& spec) {
  const Variable& v = *spec.var;
  const bool ocean = std::string_view(v.realm) == "ocean";
  // Grid: small for small files so the header does not dominate, larger for big ones
  // so the number of write calls stays bounded.
  std::size_t nlat = 8, nlon = 16;
  if (spec.size >= (4u << 20)) nlat = 90, nlon = 180;
  else if (spec.size >= (256u << 10)) nlat = 32, nlon = 64;
  const std::size_t step_bytes = nlat * nlon * sizeof(float) + sizeof(double);
  constexpr std::uint64_t kHeaderBytes = 3000;  // attributes and coordinates, roughly
  const std::size_t ntime = static_cast<std::size_t>(
      std::max<std::uint64_t>(1, spec.size > kHeaderBytes ? (spec.size - kHeaderBytes) / step_bytes : 1));

  int dim_time, dim_lat, dim_lon, var_time, var_lat, var_lon, var_data;
  FEDSWARM_NC(nc_def_dim(ncid, "time", ntime, &dim_time), "cannot define a dimension");
  FEDSWARM_NC(nc_def_dim(ncid, "lat", nlat, &dim_lat), "cannot define a dimension");
  FEDSWARM_NC(nc_def_dim(ncid, "lon", nlon, &dim_lon), "cannot define a dimension");
  FEDSWARM_NC(nc_def_var(ncid, "time", NC_DOUBLE, 1, &dim_time, &var_time), "cannot define a variable");
  FEDSWARM_NC(nc_def_var(ncid, "lat", NC_DOUBLE, 1, &dim_lat, &var_lat), "cannot define a variable");
  FEDSWARM_NC(nc_def_var(ncid, "lon", NC_DOUBLE, 1, &dim_lon, &var_lon), "cannot define a variable");
  int dims[3] = {dim_time, dim_lat, dim_lon};
  FEDSWARM_NC(nc_def_var(ncid, v.variable, NC_FLOAT, 3, dims, &var_data), "cannot define a variable");

  char units[64];
  std::snprintf(units, sizeof units, "days since %04d-01-01 00:00:00", spec.start_year);
  FEDSWARM_TRY(put_text(ncid, var_time, "standard_name", "time", spec));
  FEDSWARM_TRY(put_text(ncid, var_time, "units", units, spec));
  FEDSWARM_TRY(put_text(ncid, var_time, "calendar", "standard", spec));
  FEDSWARM_TRY(put_text(ncid, var_time, "axis", "T", spec));
  FEDSWARM_TRY(put_text(ncid, var_lat, "standard_name", "latitude", spec));
  FEDSWARM_TRY(put_text(ncid, var_lat, "units", "degrees_north", spec));
  FEDSWARM_TRY(put_text(ncid, var_lon, "standard_name", "longitude", spec));
  FEDSWARM_TRY(put_text(ncid, var_lon, "units", "degrees_east", spec));
  FEDSWARM_TRY(put_text(ncid, var_data, "standard_name", v.standard_name, spec));
  FEDSWARM_TRY(put_text(ncid, var_data, "long_name", v.long_name, spec));
  FEDSWARM_TRY(put_text(ncid, var_data, "units", v.units, spec));

  const Source& s = *spec.src;
  const Experiment& e = *spec.exp;
  const std::string variant = spec.member;  // no sub-experiment: member_id == variant_label
  const std::string date = spec.version.substr(1, 4) + "-" + spec.version.substr(5, 2) + "-" + spec.version.substr(7, 2);
  const std::pair<const char*, std::string> globals[] = {
      {"Conventions", "CF-1.7 CMIP-6.2"},
      {"activity_id", e.activity},
      {"creation_date", date + "T00:00:00Z"},
      {"data_specs_version", "01.00.30"},
      {"experiment_id", e.experiment},
      {"frequency", v.frequency},
      {"further_info_url", std::string("https://furtherinfo.es-doc.org/CMIP6.") + s.institution + "." + s.source +
                               "." + e.experiment + ".none." + variant},
      {"grid_label", spec.grid},
      {"institution_id", s.institution},
      {"member_id", spec.member},
      {"mip_era", "CMIP6"},
      {"nominal_resolution", ocean ? s.ocean_resolution : s.atmos_resolution},
      {"realm", v.realm},
      {"source_id", s.source},
      {"source_type", s.source_type},
      {"sub_experiment_id", "none"},
      {"table_id", v.table},
      {"tracking_id", spec.tracking_id},
      {"variable_id", v.variable},
      {"variant_label", variant},
      {"title", std::string(s.source) + " output prepared for CMIP6 (fedswarm sample data)"},
  };
  for (const auto& [name, value] : globals) FEDSWARM_TRY(put_text(ncid, NC_GLOBAL, name, value, spec));
  FEDSWARM_NC(nc_enddef(ncid), "cannot finish the header");

  std::vector<double> lat(nlat), lon(nlon);
  for (std::size_t i = 0; i < nlat; ++i) lat[i] = -90.0 + (static_cast<double>(i) + 0.5) * 180.0 / static_cast<double>(nlat);
  for (std::size_t i = 0; i < nlon; ++i) lon[i] = (static_cast<double>(i) + 0.5) * 360.0 / static_cast<double>(nlon);
  FEDSWARM_NC(nc_put_var_double(ncid, var_lat, lat.data()), "cannot write latitudes");
  FEDSWARM_NC(nc_put_var_double(ncid, var_lon, lon.data()), "cannot write longitudes");

  // Writes time steps in batches of about 1 MiB to bound memory for large files.
  SplitMix rng{spec.data_seed};
  const double step_days = std::string_view(v.frequency) == "day" ? 1.0 : 30.4375;
  const std::size_t batch = std::max<std::size_t>(1, (1u << 20) / step_bytes);
  std::vector<float> values;
  std::vector<double> times;
  for (std::size_t t0 = 0; t0 < ntime; t0 += batch) {
    std::size_t n = std::min(batch, ntime - t0);
    times.resize(n);
    values.resize(n * nlat * nlon);
    for (std::size_t i = 0; i < n; ++i) times[i] = (static_cast<double>(t0 + i) + 0.5) * step_days;
    for (auto& x : values) x = v.base + v.spread * rng.unit();
    std::size_t start1[1] = {t0}, count1[1] = {n};
    FEDSWARM_NC(nc_put_vara_double(ncid, var_time, start1, count1, times.data()), "cannot write times");
    std::size_t start3[3] = {t0, 0, 0}, count3[3] = {n, nlat, nlon};
    FEDSWARM_NC(nc_put_vara_float(ncid, var_data, start3, count3, values.data()), "cannot write data");
  }
  return {};
}

#undef FEDSWARM_NC

Status write_netcdf(const FileSpec& spec) {
  int ncid = -1;
  int status = nc_create(spec.path.c_str(), NC_CLOBBER | NC_64BIT_OFFSET, &ncid);
  if (status != NC_NOERR) return nc_failure(spec.path, status, "cannot create");
  Status body = write_netcdf_body(ncid, spec);
  status = nc_close(ncid);
  if (body.ok() && status != NC_NOERR) body = nc_failure(spec.path, status, "cannot close");
  if (!body.ok()) {
    std::error_code ec;
    fs::remove(spec.path, ec);
  }
  return body;
}

}  // namespace

Result<std::vector<SampleVersion>> write_sample_tree(const fs::path& root, std::uint64_t seed, const SampleSpec& spec) {
  SplitMix rng{seed};
  // A stride coprime with the number of combinations visits each one once per cycle.
  // Strides well above the source count so consecutive datasets differ in experiment
  // and variable too, not only in model.
  constexpr std::array<std::size_t, 8> kStrides{23, 25, 37, 41, 47, 53, 55, 61};
  const std::size_t stride = kStrides[rng.below(kStrides.size())];
  const std::size_t offset = rng.below(kCombos);
  const std::int64_t base_day = days_from_civil(2019, 1, 1) + static_cast<std::int64_t>(rng.below(365));
  std::error_code ec;
  const fs::path abs_root = fs::absolute(root, ec);
  if (ec) return make_error(Errc::io, "sample_write", root.string() + ": " + ec.message());

  const std::size_t carried =
      spec.files_per_version == 0 ? 0 : std::min(spec.unchanged_files, spec.files_per_version - 1);
  std::vector<SampleVersion> out;
  for (std::size_t d = 0; d < spec.datasets; ++d) {
    std::size_t combo = (offset + d * stride) % kCombos;
    const Source& src = kSources[combo % kSources.size()];
    const Experiment& exp = kExperiments[(combo / kSources.size()) % kExperiments.size()];
    const Variable& var = kVariables[combo / (kSources.size() * kExperiments.size())];
    const std::string member = "r" + std::to_string(1 + d / kCombos) + "i1p1f1";
    const std::string grid = std::string_view(var.realm) == "ocean" ? "gn" : src.atmos_grid;
    const std::string dataset_id = std::string("CMIP6.") + exp.activity + "." + src.institution + "." + src.source +
                                   "." + exp.experiment + "." + member + "." + var.table + "." + var.variable + "." + grid;
    std::int64_t day = base_day + static_cast<std::int64_t>(rng.below(90));
    // Later versions draw from a stream of their own dataset, so the first versions of
    // every dataset are the same whatever versions_per_dataset is, and a second version
    // added by a later call never repeats the tracking ids or data of another dataset.
    SplitMix later{SplitMix{seed ^ (0xD1B54A32D192ED03ull * (d + 1))}.next()};
    std::vector<FileSpec> previous;  // the files of the version before, for carried-over files
    for (std::size_t k = 0; k < spec.versions_per_dataset; ++k) {
      SplitMix& draw = k == 0 ? rng : later;
      if (k > 0) day += 30 + static_cast<std::int64_t>(draw.below(60));
      const bool write = k >= spec.first_version;
      SampleVersion sv;
      sv.dataset_id = dataset_id;
      sv.version = version_for_day(day);
      sv.directory = abs_root / "CMIP6" / exp.activity / src.institution / src.source / exp.experiment / member /
                     var.table / var.variable / grid / sv.version;
      if (write) {
        if (fs::exists(sv.directory, ec))
          return make_error(Errc::conflict, "sample_exists",
                            sv.directory.string() + " already exists; choose an empty root or another seed");
        fs::create_directories(sv.directory, ec);
        if (ec) return make_error(Errc::io, "sample_write", sv.directory.string() + ": " + ec.message());
      }
      std::vector<FileSpec> current;
      for (std::size_t f = 0; f < spec.files_per_version; ++f) {
        FileSpec fsp;
        if (k > 0 && f < carried) {
          // Everything that goes into the bytes is the previous file's, its version
          // date (creation_date) included, so the file is identical byte for byte.
          fsp = previous[f];
        } else {
          fsp.src = &src;
          fsp.exp = &exp;
          fsp.var = &var;
          fsp.member = member;
          fsp.grid = grid;
          fsp.version = sv.version;
          fsp.dataset_id = dataset_id;
          fsp.size = spec.file_size;
          fsp.start_year = exp.start_year;
          fsp.tracking_id = "hdl:21.14100/" + uuid4(draw);
          fsp.data_seed = draw.next();
        }
        const std::string name = std::string(var.variable) + "_" + var.table + "_" + src.source + "_" + exp.experiment +
                                 "_" + member + "_" + grid + "_" + time_range(var, exp.start_year, f) + ".nc";
        fsp.path = sv.directory / name;
        if (write) FEDSWARM_TRY(write_netcdf(fsp));
        sv.files.push_back(name);
        sv.tracking_ids.push_back(fsp.tracking_id);
        current.push_back(std::move(fsp));
      }
      previous = std::move(current);
      if (write) out.push_back(std::move(sv));
    }
  }
  return out;
}

}  // namespace fedswarm
