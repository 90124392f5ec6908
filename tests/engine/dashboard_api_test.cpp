// The dashboard's JSON API (/api/v1/<name>): names map to the node's control requests
// (the same handler as the control socket answers them), paging parameters are checked
// before the node is asked (400), an unknown name is a 404, control errors keep their
// meaning as HTTP statuses, and every answer is JSON that is not cached. Also the
// dashboard page's headers: no cache, a strict Content-Security-Policy, nothing external.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dashboard/DashboardApi.hpp"
#include "dashboard/DashboardPage.hpp"
#include "fedswarm/engine/ControlApi.hpp"

using namespace fedswarm;
using json = nlohmann::json;

namespace {

struct FakeNode {
  std::vector<json> requests;
  json reply = json{{"ok", true}};
  DashboardApi api() {
    return DashboardApi(
        [this](const json& r) {
          requests.push_back(r);
          return reply;
        },
        [](std::size_t limit) -> Result<json> { return json{{"retractions", json::array()}, {"limit", limit}}; });
  }
};

std::string header(const HttpAnswer& a, const std::string& name) {
  for (const auto& [n, v] : a.headers)
    if (n == name) return v;
  return {};
}

}  // namespace

TEST_CASE("dashboard api: each name is the control request of the same name") {
  FakeNode node;
  const auto api = node.api();
  for (std::string name : {"status", "peers", "health"}) {
    auto a = api.answer("/api/v1/" + name, "");
    CHECK(a.status == 200);
    CHECK(a.content_type == "application/json");
    CHECK(header(a, "Cache-Control") == "no-store");
    REQUIRE(!node.requests.empty());
    CHECK(node.requests.back() == json{{"cmd", name}});
    // The control handler's request parser takes what the API sends.
    CHECK(ControlRequest::from_json(node.requests.back()).ok());
  }
  auto a = api.answer("/api/v1/transfers", "offset=40&limit=20");
  CHECK(a.status == 200);
  auto t = ControlRequest::from_json(node.requests.back());
  REQUIRE(t.ok());
  CHECK(t->cmd == ControlCommand::transfers);
  CHECK(t->paged);
  CHECK(t->offset == 40);
  CHECK(t->limit == 20);

  a = api.answer("/api/v1/compliance", "status=violating&limit=0&_=123");
  CHECK(a.status == 200);
  auto c = ControlRequest::from_json(node.requests.back());
  REQUIRE(c.ok());
  CHECK(c->cmd == ControlCommand::compliance);
  CHECK(c->status_filter == TierOneStatus::violating);
  CHECK(c->limit == 0);
  CHECK(c->offset == 0);

  a = api.answer("/api/v1/compliance", "");
  c = ControlRequest::from_json(node.requests.back());
  REQUIRE(c.ok());
  CHECK(!c->status_filter);
  CHECK(c->limit == DashboardApi::kDefaultLimit);

  const auto before = node.requests.size();
  a = api.answer("/api/v1/retractions", "limit=7");
  CHECK(a.status == 200);
  CHECK(json::parse(a.body)["limit"] == 7);
  CHECK(node.requests.size() == before);
}

TEST_CASE("dashboard api: an unknown name is a 404 with a JSON error, and the node is not asked") {
  FakeNode node;
  const auto api = node.api();
  for (std::string path : {"/api/v1/", "/api/v1/nope", "/api/v1/status/extra", "/api/v1/notify", "/api/v1/resume",
                           "/api/v1/STATUS"}) {
    auto a = api.answer(path, "");
    CHECK_MESSAGE(a.status == 404, path);
    auto j = json::parse(a.body, nullptr, false);
    REQUIRE(j.is_object());
    CHECK(j["error"]["code"] == "not_found");
    CHECK(j["error"]["reason"] == "unknown_endpoint");
  }
  CHECK(node.requests.empty());
}

TEST_CASE("dashboard api: bad paging values are a 400 and the node is not asked") {
  FakeNode node;
  const auto api = node.api();
  for (std::string q : {"limit=-1", "limit=abc", "limit=", "limit=1001", "limit=1e3", "limit=+5", "limit=%35",
                        "offset=-3", "offset=x", "offset=99999999999999999999999", "offset= 1", "status=bad",
                        "status=", "limit=10&offset=1.5"}) {
    for (std::string name : {"transfers", "compliance", "retractions"}) {
      auto a = api.answer("/api/v1/" + name, q);
      CHECK_MESSAGE(a.status == 400, name << "?" << q);
      auto j = json::parse(a.body, nullptr, false);
      REQUIRE(j.is_object());
      CHECK(j["error"]["reason"] == "bad_parameter");
    }
  }
  CHECK(node.requests.empty());

  auto p = DashboardApi::parse_paging("offset=18446744073709551&limit=1000&status=pending&other=x");
  REQUIRE(p.ok());
  CHECK(p->offset == 18446744073709551ULL);
  CHECK(p->limit == 1000);
  CHECK(p->status == "pending");
}

TEST_CASE("dashboard api: control errors keep their meaning as HTTP statuses") {
  FakeNode node;
  const auto api = node.api();
  node.reply = control_error_json(make_error(Errc::unavailable, "node_busy", "busy"));
  CHECK(api.answer("/api/v1/status", "").status == 503);
  node.reply = control_error_json(make_error(Errc::invalid, "bad_request", "bad"));
  CHECK(api.answer("/api/v1/peers", "").status == 400);
  node.reply = control_error_json(make_error(Errc::io, "catalog", "disk"));
  auto a = api.answer("/api/v1/health", "");
  CHECK(a.status == 500);
  CHECK(json::parse(a.body)["error"]["reason"] == "catalog");
}

TEST_CASE("dashboard page: self-contained, not cached, strict Content-Security-Policy") {
  const HttpAnswer a = dashboard_page();
  CHECK(a.status == 200);
  CHECK(a.content_type == "text/html; charset=utf-8");
  CHECK(header(a, "Cache-Control") == "no-store");
  const std::string csp = header(a, "Content-Security-Policy");
  CHECK(csp.find("default-src 'self'") != std::string::npos);
  CHECK(csp.find("script-src 'self' 'unsafe-inline'") != std::string::npos);
  // Nothing from elsewhere: no absolute URL in the page at all.
  CHECK(a.body.find("http://") == std::string::npos);
  CHECK(a.body.find("https://") == std::string::npos);
  CHECK(a.body.find("//cdn") == std::string::npos);
  for (std::string name : {"status", "health", "compliance", "transfers", "retractions"})
    CHECK(a.body.find("api(\"" + name + "\"") != std::string::npos);
}
