// Functional: `/metrics` of real `fedswarm node run` processes scraped by a real
// Prometheus server (Debian `prometheus`), issue 13.
// Three Tier-2 nodes; IPSL and DKRZ serve /metrics on their HTTPS face, CEDA on a
// separate plain-HTTP [metrics] listen address (its HTTPS face then answers 404).
// - each scrape (curl, trusting the node's own certificate) passes `promtool check
//   metrics`; contrib/prometheus/fedswarm-alerts.yml passes `promtool check rules`;
// - Prometheus (its own config and data directory, loopback only, 1 s scrapes) sees
//   fedswarm_peers{state="up"} = 2 at each node; after a publish at IPSL the catalog's
//   records rose at all three and fedswarm_records_stored_total at the two others.
// Loopback net 127.0.83.x; Prometheus on 127.0.83.10.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include "GossipCluster.hpp"
#include "fedswarm/engine/SampleTree.hpp"

using namespace fedswarm;
using namespace fedswarm::test;
namespace fs = std::filesystem;

namespace {

struct Shell {
  int status = -1;
  std::string out;
};

// Runs `cmd` with /bin/sh, stdout and stderr captured.
Shell shell(const std::string& cmd) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  Shell s;
  char buf[4096];
  while (std::size_t k = std::fread(buf, 1, sizeof buf, p)) s.out.append(buf, k);
  const int rc = ::pclose(p);
  s.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return s;
}

// The instant vector `query` as {instance: value}, or nullopt if Prometheus does not answer.
std::optional<std::map<std::string, double>> query(const std::string& prom, const std::string& q) {
  auto r = shell("curl -sS --max-time 10 -G '" + prom + "/api/v1/query' --data-urlencode 'query=" + q + "'");
  if (r.status != 0) return std::nullopt;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded() || j.value("status", "") != "success") return std::nullopt;
  std::map<std::string, double> values;
  for (const auto& s : j["data"]["result"])
    values[s["metric"].value("instance", "")] = std::stod(s["value"][1].get<std::string>());
  return values;
}

}  // namespace

TEST_CASE("metrics - promtool checks a scrape of each node, Prometheus scrapes three nodes and sees a publish") {
  REQUIRE_MESSAGE(shell("promtool --version").status == 0, "promtool (Debian package prometheus) is needed");
  CliWorld w;
  GossipCluster c(w, 83, 0);
  const int http_port = c.port() + 2, metrics_port = c.port() + 3;
  const std::vector<std::string> sites = {"IPSL", "DKRZ", "CEDA"};
  for (std::size_t i = 0; i < sites.size(); ++i)
    c.add_member(sites[i], "2", {}, {"--http-listen", c.address(i) + ":" + std::to_string(http_port)});
  c.issue_roster();
  // CEDA: /metrics on its own plain-HTTP listener.
  {
    const fs::path cfg = fs::path(c.home(2)) / "config.toml";
    std::string text = read_file(cfg);
    const std::string from = "[metrics]";
    const auto at = text.find("listen = \"\"", text.find(from));
    REQUIRE(at != std::string::npos);
    text.replace(at, std::string("listen = \"\"").size(),
                 "listen = \"" + c.address(2) + ":" + std::to_string(metrics_port) + "\"");
    write_file(cfg, text);
  }
  auto ca = [&](std::size_t i) { return (fs::path(c.home(i)) / "tls" / "cert.pem").string(); };
  auto metrics_url = [&](std::size_t i) {
    return i == 2 ? "http://" + c.address(i) + ":" + std::to_string(metrics_port) + "/metrics"
                  : "https://" + c.address(i) + ":" + std::to_string(http_port) + "/metrics";
  };
  c.start_all();
  REQUIRE(wait_until(
      [&] {
        for (std::size_t i = 0; i < c.size(); ++i)
          if (c.status(i)["peers"].value("up", 0) != 2) return false;
        return true;
      },
      std::chrono::seconds(60)));

  const fs::path work = w.dir() / "metrics";
  fs::create_directories(work);
  for (std::size_t i = 0; i < c.size(); ++i) {
    const fs::path scrape = work / ("scrape-" + sites[i] + ".txt");
    auto got = shell("curl -sS --max-time 30 --cacert '" + ca(i) + "' -o '" + scrape.string() +
                     "' -w '%{http_code} %{content_type}' '" + metrics_url(i) + "'");
    INFO(sites[i] << ": curl printed " << got.out);
    REQUIRE(got.status == 0);
    CHECK(got.out.rfind("200 text/plain; version=0.0.4", 0) == 0);
    const std::string text = read_file(scrape);
    CHECK(text.find("fedswarm_build_info{version=\"") != std::string::npos);
    CHECK(text.find("fedswarm_peers{state=\"up\"} 2\n") != std::string::npos);
    CHECK(text.find("fedswarm_node_info{site=\"" + sites[i] + "\",tier=\"tier2\"} 1\n") != std::string::npos);
    for (const char* family : {"fedswarm_records_stored_total", "fedswarm_gossip_bytes_total", "fedswarm_catalog_versions",
                               "fedswarm_peer_lag_records", "fedswarm_compliance_versions", "fedswarm_swarm_hash_failures_total",
                               "fedswarm_data_root_free_bytes", "fedswarm_process_resident_memory_bytes",
                               "fedswarm_process_cpu_seconds_total", "fedswarm_process_open_fds",
                               "fedswarm_http_responses_total"})
      CHECK_MESSAGE(text.find(std::string("# TYPE ") + family + " ") != std::string::npos, family);
    auto lint = shell("promtool check metrics < '" + scrape.string() + "'");
    INFO("promtool check metrics: " << lint.out);
    CHECK(lint.status == 0);
  }
  // With [metrics] listen set, the HTTPS face does not serve /metrics.
  auto on_https = shell("curl -sS --max-time 30 --cacert '" + ca(2) + "' -o /dev/null -w '%{http_code}' 'https://" +
                        c.address(2) + ":" + std::to_string(http_port) + "/metrics'");
  CHECK(on_https.out == "404");

  auto rules = shell("promtool check rules '" + std::string(FEDSWARM_SOURCE_DIR) + "/contrib/prometheus/fedswarm-alerts.yml'");
  INFO("promtool check rules: " << rules.out);
  CHECK(rules.status == 0);

  // Prometheus, scraping every second: HTTPS nodes through their own certificates.
  const std::string prom_ip = "127.0.83.10";
  int prom_port = c.port() + 4;
  while (!port_free(prom_ip, prom_port)) ++prom_port;
  const std::string prom = "http://" + prom_ip + ":" + std::to_string(prom_port);
  {
    std::ofstream cas(work / "nodes.pem");
    for (std::size_t i = 0; i < 2; ++i) cas << read_file(ca(i));
  }
  auto target = [&](std::size_t i) {
    return c.address(i) + ":" + std::to_string(i == 2 ? metrics_port : http_port);
  };
  write_file(work / "prometheus.yml",
             "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
             "rule_files: ['" + std::string(FEDSWARM_SOURCE_DIR) + "/contrib/prometheus/fedswarm-alerts.yml']\n"
             "scrape_configs:\n"
             "  - job_name: fedswarm\n    scheme: https\n    tls_config:\n      ca_file: '" + (work / "nodes.pem").string() +
             "'\n    static_configs:\n      - targets: ['" + target(0) + "', '" + target(1) + "']\n"
             "  - job_name: fedswarm-metrics\n    scheme: http\n    static_configs:\n      - targets: ['" + target(2) +
             "']\n");
  Process prometheus({"/usr/bin/prometheus", "--config.file=" + (work / "prometheus.yml").string(),
                      "--storage.tsdb.path=" + (work / "data").string(),
                      "--web.listen-address=" + prom_ip + ":" + std::to_string(prom_port), "--log.level=warn"},
                     w.logs() / "prometheus");
  auto all_equal = [&](const std::string& q, double v) {
    auto r = query(prom, q);
    if (!r || r->size() != 3) return false;
    for (std::size_t i = 0; i < c.size(); ++i)
      if (auto it = r->find(target(i)); it == r->end() || it->second != v) return false;
    return true;
  };
  const bool scraped = wait_until([&] { return all_equal("fedswarm_peers{state=\"up\"}", 2); }, std::chrono::seconds(60),
                                  std::chrono::milliseconds(250));
  INFO("prometheus stderr: " << prometheus.err());
  INFO("targets: " << shell("curl -sS --max-time 10 '" + prom + "/api/v1/targets'").out);
  REQUIRE(scraped);
  CHECK(all_equal("up", 1));

  auto before = query(prom, "fedswarm_catalog_records");
  auto stored_before = query(prom, "fedswarm_records_stored_total");
  REQUIRE(before);
  REQUIRE(stored_before);
  SampleSpec spec;
  spec.datasets = 2;
  spec.versions_per_dataset = 1;
  spec.files_per_version = 1;
  spec.file_size = 8 * 1024;
  REQUIRE(write_sample_tree(w.dir() / "archive", test_seed(), spec).ok());
  w.must({"--home", c.home(0), "publish", (w.dir() / "archive").string()});
  const bool rose = wait_until(
      [&] {
        auto now = query(prom, "fedswarm_catalog_records");
        auto stored = query(prom, "fedswarm_records_stored_total");
        if (!now || !stored) return false;
        for (std::size_t i = 0; i < c.size(); ++i) {
          const std::string t = target(i);
          if (!now->count(t) || !before->count(t) || (*now)[t] <= (*before)[t]) return false;
          if (i > 0 && (!stored->count(t) || !stored_before->count(t) || (*stored)[t] <= (*stored_before)[t]))
            return false;
        }
        return true;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(250));
  CHECK(rose);
  CHECK(all_equal("fedswarm_catalog_versions", 2));
  prometheus.kill(SIGTERM);
  CHECK(prometheus.wait(std::chrono::seconds(20)).has_value());
}
