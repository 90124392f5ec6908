// Functional: the dashboard and its JSON API on real `fedswarm node run` processes
// (issue 13). A federation of three serving HTTPS: IPSL (Tier-2) publishes, DKRZ (Tier-1)
// takes the Tier-1 copy by the rule, DARK (a dark repository) subscribes to everything.
// - curl: /api/v1/peers shows the two others up at every node; status, health,
//   compliance and transfers answer the control answers' JSON; an unknown name is a 404,
//   a bad page a 400, a POST a 405; `/` is HTML with no-store and a strict CSP.
// - headless Chromium (Debian `chromium`) loads DARK's page: the three sites are shown
//   up; after the subscription and a publish, the page shows the transfers, and after a
//   retraction the retraction; a screenshot is saved (copied to
//   $FEDSWARM_DASHBOARD_SCREENSHOT when set: docs/dashboard.png is made that way).
// Loopback net 127.0.84.x.
#include <cstdio>
#include <cstdlib>
#include <set>

#include "Curl.hpp"
#include "HttpTrio.hpp"
#include "SwarmKit.hpp"
#include "fedswarm/engine/ControlApi.hpp"
#include "fedswarm/engine/HealthReport.hpp"
#include "fedswarm/engine/SampleTree.hpp"

using namespace fedswarm;
using namespace fedswarm::test;
using namespace fedswarm::test::swarmkit;

namespace {

namespace fs = std::filesystem;

using Answer = CurlAnswer;

std::optional<nlohmann::json> json_if_ok(const Answer& a) {
  if (a.status != 200) return std::nullopt;
  auto j = nlohmann::json::parse(a.body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

// Headless Chromium with its own profile; `what` is e.g. "--dump-dom" or
// "--screenshot=<path>". Returns what it printed on stdout.
std::string chromium(const fs::path& dir, const std::string& url, const std::string& what) {
  static int n = 0;
  const fs::path profile = dir / ("chromium-profile-" + std::to_string(++n));
  fs::create_directories(profile);
  const std::string cmd = "timeout 90 chromium --headless=new --no-sandbox --disable-gpu --no-first-run "
                          "--disable-extensions --disable-background-networking --disable-dev-shm-usage "
                          "--ignore-certificate-errors --user-data-dir='" +
                          profile.string() + "' --virtual-time-budget=10000 --window-size=1400,1000 " + what + " '" +
                          url + "' 2>'" + (dir / ("chromium-" + std::to_string(n) + ".err")).string() + "'";
  return run_capture(cmd);
}

bool site_row(const std::string& dom, const std::string& site, const std::string& state) {
  return dom.find("data-site=\"" + site + "\" data-state=\"" + state + "\"") != std::string::npos;
}

}  // namespace

TEST_CASE("dashboard - the JSON API and the page in headless Chromium on a live federation") {
  REQUIRE_MESSAGE(std::system("command -v chromium >/dev/null 2>&1") == 0, "Debian package chromium is required");
  CliWorld w;
  HttpTrio trio(w, 84);
  GossipCluster& c = trio.c;
  const auto& sites = trio.sites;
  auto base = [&](std::size_t i) { return trio.base(i); };
  auto ca = [&](std::size_t i) { return trio.ca(i); };
  const fs::path work = w.dir() / "dashboard";
  fs::create_directories(work);
  auto api = [&](std::size_t i, const std::string& name) { return curl(work, ca(i), base(i) + "/api/v1/" + name); };

  c.start_all();

  // Every node sees the two others up, through the API.
  const bool all_up = wait_until(
      [&] {
        for (std::size_t i = 0; i < c.size(); ++i) {
          auto j = json_if_ok(api(i, "peers"));
          if (!j || (*j)["peers"].size() != 2) return false;
          for (const auto& p : (*j)["peers"])
            if (p["state"] != "up") return false;
        }
        return true;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(300));
  REQUIRE(all_up);

  // The API's answers are the control answers.
  for (std::size_t i = 0; i < c.size(); ++i) {
    INFO("asking " << sites[i]);
    auto peers = json_if_ok(api(i, "peers"));
    REQUIRE(peers);
    std::set<std::string> names;
    for (const auto& p : (*peers)["peers"]) names.insert(p["site"].get<std::string>());
    std::set<std::string> others(sites.begin(), sites.end());
    others.erase(sites[i]);
    CHECK(names == others);
    auto status = json_if_ok(api(i, "status"));
    REQUIRE(status);
    CHECK((*status)["site"] == sites[i]);
    CHECK((*status)["peers"]["up"] == 2);
    CHECK(StatusAnswer::from_json(*status).ok());
    auto health = json_if_ok(api(i, "health"));
    REQUIRE(health);
    CHECK((*health)["sites"].size() == 3);
    CHECK(HealthReport::from_json(*health).ok());
  }
  auto compliance = json_if_ok(api(1, "compliance?status=violating&limit=5"));
  REQUIRE(compliance);
  CHECK(compliance->contains("summary"));
  CHECK((*compliance)["status"] == "violating");
  auto transfers = json_if_ok(api(2, "transfers?offset=0&limit=10"));
  REQUIRE(transfers);
  CHECK((*transfers)["total"] == 0);

  // Errors: JSON, with their status.
  auto unknown = api(0, "nope");
  CHECK(unknown.status == 404);
  CHECK(nlohmann::json::parse(unknown.body, nullptr, false)["error"]["reason"] == "unknown_endpoint");
  CHECK(api(0, "transfers?limit=abc").status == 400);
  CHECK(api(0, "compliance?offset=-1").status == 400);
  CHECK(api(0, "compliance?limit=100000").status == 400);
  CHECK(curl(work, ca(0), base(0) + "/api/v1/status", {"-X", "POST"}).status == 405);
  auto page = curl(work, ca(0), base(0) + "/");
  CHECK(page.status == 200);
  CHECK(page.headers.find("Cache-Control: no-store") != std::string::npos);
  CHECK(page.headers.find("Content-Security-Policy: default-src 'self'") != std::string::npos);
  CHECK(page.body.find("<!DOCTYPE html>") == 0);

  // The page in a real browser: the three sites up.
  std::string dom;
  const bool shown_up = wait_until(
      [&] {
        dom = chromium(work, base(2) + "/", "--dump-dom");
        for (const auto& s : sites)
          if (!site_row(dom, s, "up")) return false;
        return true;
      },
      std::chrono::seconds(120), std::chrono::milliseconds(500));
  INFO("DOM:\n" << dom.substr(0, 6000));
  REQUIRE(shown_up);
  CHECK(dom.find("fedswarm · DARK") != std::string::npos);

  // A subscription at DARK and a publish at IPSL: DARK's page shows the transfers.
  SampleSpec spec;
  spec.datasets = 4;
  spec.versions_per_dataset = 1;
  spec.files_per_version = 2;
  spec.file_size = 1024 * 1024;
  auto sample = write_sample_tree(w.dir() / "archive", test_seed(), spec);
  REQUIRE(sample.ok());
  w.must({"--home", c.home(2), "subscribe", "add", "project=CMIP6", "--name", "all"});
  w.must({"--home", c.home(0), "publish", (w.dir() / "archive").string()});
  const std::string first = sample->front().instance_id();
  const bool transfer_shown = wait_until(
      [&] {
        dom = chromium(work, base(2) + "/", "--dump-dom");
        return dom.find("data-instance=\"" + first + "\"") != std::string::npos;
      },
      std::chrono::seconds(120), std::chrono::milliseconds(500));
  INFO("DOM:\n" << dom.substr(0, 8000) << "\nDARK log:\n" << log_tail(c.home(2)));
  REQUIRE(transfer_shown);

  // Every copy placed (the page then shows the federation settled), one version retracted:
  // the retraction reaches DARK by gossip and its page lists it.
  const bool placed = wait_until(
      [&] {
        for (const auto& v : *sample)
          for (std::size_t i : {1u, 2u}) {
            auto t = transfer(w, c.home(i), v.instance_id());
            if (!t || (*t)["kind"] != "seed") return false;
          }
        return true;
      },
      std::chrono::seconds(120), std::chrono::milliseconds(300));
  CHECK(placed);
  const std::string retracted = sample->back().instance_id();
  w.must({"--home", c.home(0), "retract", retracted, "--reason", "wrong calendar", "--errata", "ERR-84"});
  const bool retraction_listed = wait_until(
      [&] {
        auto r = json_if_ok(api(2, "retractions?limit=5"));
        return r && !(*r)["retractions"].empty() && (*r)["retractions"][0]["instance_id"] == retracted;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(300));
  CHECK(retraction_listed);
  auto tr = json_if_ok(api(2, "transfers?offset=0&limit=2"));
  REQUIRE(tr);
  CHECK((*tr)["transfers"].size() == 2);
  // Every version's seed (DARK may have let the retracted one go already).
  CHECK((*tr)["total"].get<std::uint64_t>() >= sample->size() - 1);

  dom = chromium(work, base(2) + "/", "--dump-dom");
  CHECK(dom.find("wrong calendar") != std::string::npos);
  CHECK(dom.find("data-instance=\"" + first + "\"") != std::string::npos);
  const fs::path shot = work / "dashboard.png";
  chromium(work, base(2) + "/", "--screenshot='" + shot.string() + "'");
  REQUIRE(fs::exists(shot));
  CHECK(fs::file_size(shot) > 10000);
  if (const char* out = std::getenv("FEDSWARM_DASHBOARD_SCREENSHOT"); out && *out)
    fs::copy_file(shot, out, fs::copy_options::overwrite_existing);
}
