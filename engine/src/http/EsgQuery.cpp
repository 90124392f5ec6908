#include "http/EsgQuery.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "http/TrimBlanks.hpp"

namespace fedswarm {

namespace {

Error bad(std::string message) { return make_error(Errc::invalid, "esg_query", std::move(message)); }

Error unknown(std::string_view name) {
  // The exact text pyesgf parses (`Invalid HTTP query parameter=(\w+)`).
  return bad("Invalid HTTP query parameter=" + std::string(name));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Comma lists ("a, b,c"); an empty item is an error.
Result<std::vector<std::string>> split_list(std::string_view name, std::string_view value) {
  std::vector<std::string> out;
  for (std::size_t pos = 0;;) {
    std::size_t comma = value.find(',', pos);
    std::string_view item =
        trim_blanks(value.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    if (item.empty()) return bad("Empty value in the list of HTTP query parameter " + std::string(name));
    out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

Result<std::size_t> parse_count(std::string_view name, std::string_view value) {
  std::size_t n = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || p != value.data() + value.size())
    return bad("Invalid value of HTTP query parameter " + std::string(name) + "=" + std::string(value) +
               ": expected a non-negative integer");
  return n;
}

Result<bool> parse_bool(std::string_view name, std::string_view value) {
  std::string v = lower(value);
  if (v == "true") return true;
  if (v == "false") return false;
  return bad("Invalid value of HTTP query parameter " + std::string(name) + "=" + std::string(value) +
             ": expected true or false");
}

bool is_field_name(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
  });
}

bool is_geospatial(std::string_view name) {
  return name == "bbox" || name == "lat" || name == "lon" || name == "location" || name == "radius" ||
         name == "polygon";
}

// Howard Hinnant's days_from_civil.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<std::string> EsgQuery::decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::optional<std::int64_t> EsgQuery::parse_time(std::string_view s) {
  unsigned y, mo, d, h = 0, mi = 0, sec = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' || !digits(s, 8, 2, d))
    return std::nullopt;
  std::size_t pos = 10;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
    if (!digits(s, pos + 1, 2, h) || s.size() < pos + 9 || s[pos + 3] != ':' || !digits(s, pos + 4, 2, mi) ||
        s[pos + 6] != ':' || !digits(s, pos + 7, 2, sec))
      return std::nullopt;
    pos += 9;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      std::size_t first = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
      if (pos == first) return std::nullopt;
    }
  }
  if (pos < s.size() && s[pos] == 'Z') ++pos;
  if (pos != s.size()) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
}

std::optional<std::string> EsgQuery::normalize_version(std::string_view s) {
  if (!s.empty() && (s.front() == 'v' || s.front() == 'V')) s.remove_prefix(1);
  if (s.empty() || s.size() > 16 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return "v" + std::string(s);
}

Result<EsgRequest> EsgQuery::parse(std::string_view qs, const ConstraintNames& is_constraint, std::size_t default_limit) {
  EsgRequest r;
  r.limit = default_limit;
  for (std::size_t pos = 0; pos <= qs.size();) {
    std::size_t amp = qs.find('&', pos);
    std::string_view piece = qs.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    pos = amp == std::string_view::npos ? qs.size() + 1 : amp + 1;
    if (piece.empty()) continue;
    std::size_t eq = piece.find('=');
    std::string_view raw_key = piece.substr(0, eq);
    std::string_view raw_value = eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
    bool negate = false;
    if (!raw_key.empty() && raw_key.back() == '!') {
      negate = true;
      raw_key.remove_suffix(1);
    }
    auto key = decode(raw_key);
    auto value = decode(raw_value);
    if (!key || !value) return bad("Malformed percent-encoding in the query string near: " + std::string(piece.substr(0, 200)));
    const std::string& name = *key;
    if (name.empty()) return bad("Empty HTTP query parameter name");
    if (!is_field_name(name)) return unknown(name);
    std::string_view v = *value;
    if (trim_blanks(v).empty()) return bad("Empty value of HTTP query parameter " + name);
    r.raw.emplace_back(negate ? name + "!" : name, *value);

    static constexpr std::array<std::string_view, 19> kParams = {
        "type", "format", "limit", "offset", "query", "facets", "fields", "distrib", "shards", "latest",
        "replica", "retracted", "sort", "from", "to", "start", "end", "min_version", "max_version"};
    const bool param = std::find(kParams.begin(), kParams.end(), name) != kParams.end();
    if (param && negate) return bad("HTTP query parameter " + name + " does not take !=");
    if (!param) {
      if (is_geospatial(name))
        return bad("HTTP query parameter " + name +
                   " is not supported: this node indexes no geospatial coverage; constrain by facets instead");
      if (!is_constraint(name)) return unknown(name);
      FEDSWARM_ASSIGN_OR_RETURN(auto values, split_list(name, v));
      for (auto& item : values) (negate ? r.exclusions : r.constraints).emplace_back(name, std::move(item));
      continue;
    }
    if (name == "type") {
      std::string t = lower(trim_blanks(v));
      if (t == "dataset") r.type = EsgType::dataset;
      else if (t == "file") r.type = EsgType::file;
      else return bad("Invalid value of HTTP query parameter type=" + std::string(v) + ": this node serves Dataset and File");
    } else if (name == "format") {
      std::string f = lower(trim_blanks(v));
      std::replace(f.begin(), f.end(), ' ', '+');  // an unencoded '+' arrives as a space
      if (f == "application/solr+json") r.format = EsgFormat::json;
      else if (f == "application/solr+xml") r.format = EsgFormat::xml;
      else return bad("Invalid value of HTTP query parameter format=" + std::string(v) +
                      ": use application/solr+json or application/solr+xml");
    } else if (name == "limit") {
      FEDSWARM_ASSIGN_OR_RETURN(r.limit, parse_count(name, trim_blanks(v)));
      if (r.limit > kEsgMaxLimit)
        return bad("Invalid value of HTTP query parameter limit=" + std::string(v) + ": the maximum is " +
                   std::to_string(kEsgMaxLimit) + "; page with offset");
    } else if (name == "offset") {
      FEDSWARM_ASSIGN_OR_RETURN(r.offset, parse_count(name, trim_blanks(v)));
    } else if (name == "query") {
      r.query = std::string(trim_blanks(v));
    } else if (name == "facets" || name == "fields") {
      FEDSWARM_ASSIGN_OR_RETURN(auto list, split_list(name, v));
      auto& out = name == "facets" ? r.facets : r.fields;
      for (auto& item : list)
        if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(std::move(item));
    } else if (name == "distrib") {
      FEDSWARM_ASSIGN_OR_RETURN(r.distrib, parse_bool(name, trim_blanks(v)));
    } else if (name == "shards") {
      r.shards = std::string(v);
    } else if (name == "latest" || name == "replica" || name == "retracted") {
      FEDSWARM_ASSIGN_OR_RETURN(bool b, parse_bool(name, trim_blanks(v)));
      (name == "latest" ? r.latest : name == "replica" ? r.replica : r.retracted) = b;
    } else if (name == "sort") {
      std::string_view s = trim_blanks(v);
      std::size_t sp = s.find(' ');
      std::string_view field = s.substr(0, sp);
      std::string dir = sp == std::string_view::npos ? std::string("asc") : lower(trim_blanks(s.substr(sp)));
      if (!is_field_name(field) || (dir != "asc" && dir != "desc"))
        return bad("Invalid value of HTTP query parameter sort=" + std::string(v) + ": expected \"<field> asc\" or \"<field> desc\"");
      r.sort = {std::string(field), dir == "desc"};
    } else if (name == "from" || name == "to") {
      auto t = parse_time(trim_blanks(v));
      if (!t)
        return bad("Invalid value of HTTP query parameter " + name + "=" + std::string(v) +
                   ": expected an ISO 8601 UTC time such as 2019-01-01T00:00:00Z");
      (name == "from" ? r.from : r.to) = *t;
    } else if (name == "start" || name == "end") {
      (name == "start" ? r.start : r.end) = std::string(trim_blanks(v));
    } else if (name == "min_version" || name == "max_version") {
      auto ver = normalize_version(trim_blanks(v));
      if (!ver)
        return bad("Invalid value of HTTP query parameter " + name + "=" + std::string(v) + ": expected YYYYMMDD");
      (name == "min_version" ? r.min_version : r.max_version) = *ver;
    }
  }
  return r;
}

}  // namespace fedswarm
