#include "dashboard/DashboardApi.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include "fedswarm/policy/TierOneDecision.hpp"

namespace fedswarm {

namespace {

using json = nlohmann::json;

Error bad_parameter(std::string_view name, std::string_view value, std::string_view what) {
  return make_error(Errc::invalid, "bad_parameter",
                    std::string(name) + "='" + std::string(value.substr(0, 64)) + "' " + std::string(what));
}

// Only digits: no sign, no blanks, no percent escapes (a number never needs them).
std::optional<std::uint64_t> parse_number(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

unsigned status_of(const json& error) {
  const std::string code = error.value("code", std::string());
  if (code == "invalid") return 400;
  if (code == "not_found") return 404;
  if (code == "unavailable") return 503;
  return 500;
}

}  // namespace

HttpAnswer DashboardApi::json_answer(unsigned status, const json& body) {
  HttpAnswer a{status, "application/json", body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n", {}};
  a.headers.emplace_back("Cache-Control", "no-store");
  a.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return a;
}

HttpAnswer DashboardApi::error_answer(unsigned status, std::string_view reason, const std::string& message) {
  const std::string code = status == 404 ? "not_found" : status == 503 ? "unavailable" : status < 500 ? "invalid" : "io";
  return json_answer(status, {{"error", {{"code", code}, {"reason", std::string(reason)}, {"message", message}}}});
}

Result<DashboardPaging> DashboardApi::parse_paging(std::string_view query) {
  DashboardPaging p;
  p.limit = kDefaultLimit;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = pair.find('=');
    const std::string_view name = pair.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (name == "offset") {
      auto v = parse_number(value);
      if (!v) return bad_parameter(name, value, "is not a non-negative integer");
      p.offset = *v;
    } else if (name == "limit") {
      auto v = parse_number(value);
      if (!v || *v > kMaxLimit)
        return bad_parameter(name, value, "is not an integer from 0 to " + std::to_string(kMaxLimit));
      p.limit = *v;
    } else if (name == "status") {
      if (!tier_one_status_from(value))
        return bad_parameter(name, value, "is not one of compliant, pending, violating, exempt");
      p.status = std::string(value);
    }
  }
  return p;
}

HttpAnswer DashboardApi::answer(std::string_view path, std::string_view query) const {
  const std::string_view name = path.substr(std::min(path.size(), kPrefix.size()));
  json request;
  const bool paged_name = name == "transfers" || name == "compliance" || name == "retractions";
  if (name == "status" || name == "peers" || name == "health") {
    request = {{"cmd", std::string(name)}};
  } else if (paged_name) {
    auto paging = parse_paging(query);
    if (!paging) return error_answer(400, paging.error().reason, paging.error().message);
    if (name == "retractions") {
      auto r = retractions_ ? retractions_(static_cast<std::size_t>(paging->limit))
                            : Result<json>(json{{"retractions", json::array()}});
      if (!r) return error_answer(500, r.error().reason, r.error().message);
      return json_answer(200, *r);
    }
    request = {{"cmd", std::string(name)}, {"offset", paging->offset}, {"limit", paging->limit}};
    if (name == "compliance") request["status"] = paging->status.empty() ? json(nullptr) : json(paging->status);
  } else {
    return error_answer(404, "unknown_endpoint",
                        "no API endpoint '" + std::string(name.substr(0, 64)) +
                            "'; there are status, peers, transfers, compliance, health, retractions");
  }
  const json a = control_(request);
  if (auto e = a.find("error"); e != a.end() && e->is_object()) return json_answer(status_of(*e), a);
  return json_answer(200, a);
}

}  // namespace fedswarm
