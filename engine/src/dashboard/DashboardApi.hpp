// DashboardApi: the node's read-only JSON API under `/api/v1/<name>` (the dashboard's
// data, DESIGN §9). Each answer is a typed control answer (ControlApi.hpp), produced by
// the very handler that answers the control socket: this class only turns the URL into
// a control request and the control answer into an HTTP answer.
//
//   status, peers, health             the control answers as they are
//   transfers?offset=&limit=          a page of transfers (fetches first) with `total`
//   compliance?status=&offset=&limit= the compliance summary and a page of versions
//                                     (status: compliant, pending, violating, exempt;
//                                     limit=0: the summary only)
//   retractions?limit=                the node's recent retractions (RecentRetractions)
//
// Paging: offset is a decimal integer, limit one in [0, kMaxLimit] (defaults:
// offset 0, limit kDefaultLimit); anything else in them — or an unknown status — is a
// 400 with a JSON error. Other query parameters are ignored (a browser's cache buster).
// An unknown name is a 404 with a JSON error; a control error maps to 400 (invalid),
// 404 (not_found), 503 (unavailable: the node is busy) or 500.
//
// Contract: `answer` is called on the HTTP worker threads, concurrently; it may block
// as long as the control handler does (bounded by the node's control waits) and never
// runs on the node's io thread. Every answer carries Cache-Control: no-store.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fedswarm/protocol/Result.hpp"
#include "http/HttpAnswer.hpp"

namespace fedswarm {

struct DashboardPaging {
  std::uint64_t offset = 0;
  std::uint64_t limit = 0;
  std::string status;  // compliance filter; empty: none
};

class DashboardApi {
 public:
  static constexpr std::string_view kPrefix = "/api/v1/";
  // Rows of one page at most: bounds an answer's size whatever the catalog's.
  static constexpr std::uint64_t kMaxLimit = 1000;
  static constexpr std::uint64_t kDefaultLimit = 50;

  // The node's control handler: a control request object in, its answer (or
  // {"error": …}) out.
  using Control = std::function<nlohmann::json(const nlohmann::json& request)>;
  // The recent retractions, at most `limit`.
  using Retractions = std::function<Result<nlohmann::json>(std::size_t limit)>;

  DashboardApi(Control control, Retractions retractions)
      : control_(std::move(control)), retractions_(std::move(retractions)) {}

  // `path` starts with kPrefix; `query` is the raw query string.
  HttpAnswer answer(std::string_view path, std::string_view query) const;

  // The paging parameters of `query`, or `invalid` (reason bad_parameter) naming the bad one.
  static Result<DashboardPaging> parse_paging(std::string_view query);

  static HttpAnswer json_answer(unsigned status, const nlohmann::json& body);
  static HttpAnswer error_answer(unsigned status, std::string_view reason, const std::string& message);

 private:
  Control control_;
  Retractions retractions_;
};

}  // namespace fedswarm
