#include "fedswarm/protocol/Version.hpp"

#include <string>

namespace fedswarm {

namespace {

// Version strings travel in untrusted records and land in log lines; a hostile one
// must not flood the message, and control bytes must not reach a terminal.
std::string printable_excerpt(std::string_view s) {
  constexpr std::size_t max_shown = 32;
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max_shown; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (s.size() > max_shown) out += "...";
  return out;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

}  // namespace

Result<VersionDate> parse_version(std::string_view version) {
  bool digits = version.size() == 9 && version[0] == 'v';
  for (std::size_t i = 1; digits && i < version.size(); ++i) digits = version[i] >= '0' && version[i] <= '9';
  if (!digits)
    return make_error(Errc::invalid, "version_format",
                      "version \"" + printable_excerpt(version) +
                          "\" is not of the form vYYYYMMDD (a lower-case 'v' and 8 digits, e.g. v20190308)");

  auto num = [&](std::size_t pos, std::size_t len) {
    int n = 0;
    for (std::size_t i = pos; i < pos + len; ++i) n = n * 10 + (version[i] - '0');
    return n;
  };
  VersionDate d{num(1, 4), num(5, 2), num(7, 2)};
  // 1900..2999 brackets every real publication date with room to spare; anything
  // outside is a typo or a hostile value, not a version.
  if (d.year < 1900 || d.year > 2999)
    return make_error(Errc::invalid, "version_date",
                      "version " + std::string(version) + " has year " + std::to_string(d.year) +
                          "; a version date must lie in the years 1900..2999");
  if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > days_in_month(d.year, d.month))
    return make_error(Errc::invalid, "version_date",
                      "version " + std::string(version) + " is not a calendar date (" +
                          std::string(version.substr(1, 4)) + "-" + std::string(version.substr(5, 2)) + "-" +
                          std::string(version.substr(7, 2)) + " does not exist)");
  return d;
}

}  // namespace fedswarm
