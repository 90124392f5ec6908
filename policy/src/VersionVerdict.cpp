#include "fedswarm/policy/VersionVerdict.hpp"

namespace fedswarm {

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::current: return "current";
    case Verdict::superseded: return "superseded";
    case Verdict::retracted: return "retracted";
    case Verdict::unknown: return "unknown";
  }
  return "unknown";
}

namespace {
// UTC calendar date of a unix time, without touching the C library's time zone state.
std::string utc_date(std::int64_t t) {
  std::int64_t days = t / 86400;
  if (t % 86400 < 0) --days;
  // Howard Hinnant's civil_from_days.
  days += 719468;
  std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  std::int64_t doe = days - era * 146097;
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = yoe + era * 400;
  std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::int64_t mp = (5 * doy + 2) / 153;
  std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  std::int64_t m = mp + (mp < 10 ? 3 : -9);
  if (m <= 2) ++y;
  auto pad = [](std::int64_t n, std::size_t width) {
    std::string s = std::to_string(n);
    return std::string(s.size() < width ? width - s.size() : 0, '0') + s;
  };
  return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2);
}
}  // namespace

VersionVerdict decide_verdict(std::string_view instance_id, const std::optional<VersionInfo>& version,
                              const std::vector<VersionInfo>& all_versions) {
  VersionVerdict v;
  v.instance_id = std::string(instance_id);
  for (auto it = all_versions.rbegin(); it != all_versions.rend(); ++it)
    if (it->status != VersionStatus::retracted) {
      v.latest_version = it->version;
      break;
    }
  if (!version) {
    v.verdict = Verdict::unknown;
    v.summary = "not in this node's catalog";
    return v;
  }
  if (version->retraction) {
    v.verdict = Verdict::retracted;
    v.retraction = version->retraction;
    v.summary = "retracted on " + utc_date(version->retraction->retracted_at) + ": " + version->retraction->reason;
    if (!version->retraction->errata_id.empty()) v.summary += " (errata " + version->retraction->errata_id + ")";
    if (!v.latest_version.empty() && v.latest_version > version->version)
      v.summary += "; use " + version->dataset_id + "." + v.latest_version;
    return v;
  }
  for (const auto& other : all_versions)
    if (other.version > version->version) {
      v.verdict = Verdict::superseded;
      v.superseded_by = other.version;
      v.summary = "superseded by " + other.version;
      if (v.latest_version == version->version)
        v.summary += ", but every later version is retracted: this is still the newest usable version";
      else if (!v.latest_version.empty() && v.latest_version != other.version)
        v.summary += "; the newest usable version is " + v.latest_version;
      return v;
    }
  v.verdict = Verdict::current;
  v.summary = "current: the latest version of " + version->dataset_id;
  return v;
}

}  // namespace fedswarm
