#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "metrics/MetricsText.hpp"
#include "metrics/NodeMetrics.hpp"

using namespace fedswarm;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("MetricsText: HELP and TYPE, then the samples, labels in order") {
  MetricsText m;
  m.counter("fedswarm_x_total", "Things counted.").sample(std::uint64_t{3}).sample(std::uint64_t{4}, {{"a", "b"}, {"c", "d"}});
  m.gauge("fedswarm_y_bytes", "Bytes.").sample(std::int64_t{-2});
  CHECK(m.text() ==
        "# HELP fedswarm_x_total Things counted.\n"
        "# TYPE fedswarm_x_total counter\n"
        "fedswarm_x_total 3\n"
        "fedswarm_x_total{a=\"b\",c=\"d\"} 4\n"
        "# HELP fedswarm_y_bytes Bytes.\n"
        "# TYPE fedswarm_y_bytes gauge\n"
        "fedswarm_y_bytes -2\n");
}

TEST_CASE("MetricsText: label values and HELP are escaped") {
  CHECK(MetricsText::escape_label_value("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  CHECK(MetricsText::escape_label_value("IPSL Paris é") == "IPSL Paris é");
  MetricsText m;
  m.gauge("g", "line one\nback\\slash").sample(std::uint64_t{1}, {{"site", "x\"y"}});
  CHECK(m.text() == "# HELP g line one\\nback\\\\slash\n# TYPE g gauge\ng{site=\"x\\\"y\"} 1\n");
}

TEST_CASE("MetricsText: a family's HELP and TYPE once, a family reopened elsewhere is dropped") {
  MetricsText m;
  m.gauge("a", "A.").sample(std::uint64_t{1}, {{"k", "1"}});
  m.gauge("a", "A.").sample(std::uint64_t{2}, {{"k", "2"}});  // still current: joins it
  m.gauge("b", "B.").sample(std::uint64_t{3});
  m.gauge("a", "A.").sample(std::uint64_t{4}, {{"k", "3"}});  // would split the family
  m.gauge("b", "B.").sample(std::uint64_t{5}, {{"k", "x"}});  // nothing written since b: joins it
  m.gauge("c", "C.").sample(std::uint64_t{6});
  m.gauge("b", "B.").sample(std::uint64_t{7}, {{"k", "y"}});  // would split b
  const std::string t = m.text();
  CHECK(count(t, "# HELP a ") == 1);
  CHECK(count(t, "# TYPE a ") == 1);
  CHECK(count(t, "# TYPE b ") == 1);
  CHECK(t.find("a{k=\"2\"} 2\n") != std::string::npos);
  CHECK(t.find("k=\"3\"") == std::string::npos);
  CHECK(t.find("b{k=\"x\"} 5\n# HELP c ") != std::string::npos);
  CHECK(t.find("k=\"y\"") == std::string::npos);
}

TEST_CASE("MetricsText: doubles, NaN and infinities") {
  MetricsText m;
  m.gauge("d", "D.")
      .sample(0.5, {{"v", "half"}})
      .sample(1e20, {{"v", "big"}})
      .sample(std::nan(""), {{"v", "nan"}})
      .sample(std::numeric_limits<double>::infinity(), {{"v", "inf"}})
      .sample(-std::numeric_limits<double>::infinity(), {{"v", "-inf"}});
  const std::string t = m.text();
  CHECK(t.find("d{v=\"half\"} 0.5\n") != std::string::npos);
  CHECK(t.find("d{v=\"big\"} 1e+20\n") != std::string::npos);
  CHECK(t.find("d{v=\"nan\"} NaN\n") != std::string::npos);
  CHECK(t.find("d{v=\"inf\"} +Inf\n") != std::string::npos);
  CHECK(t.find("d{v=\"-inf\"} -Inf\n") != std::string::npos);
}

TEST_CASE("render_node_metrics: every state of fedswarm_peers, per-site lag, build info") {
  NodeMetricsInputs in;
  in.version = "1.2.3";
  in.commit = "abc";
  in.site = "IPSL";
  in.peers.push_back({"DKRZ", "up", true, 0, 5, 10, 20});
  in.peers.push_back({"CEDA", "down", false, std::nullopt, std::nullopt, 0, 0});
  in.records_refused["bad_signature"] = 2;
  in.process = read_process_metrics();
  const std::string t = render_node_metrics(in);
  CHECK(t.find("fedswarm_build_info{version=\"1.2.3\",commit=\"abc\"} 1\n") != std::string::npos);
  CHECK(t.find("fedswarm_peers{state=\"up\"} 1\n") != std::string::npos);
  CHECK(t.find("fedswarm_peers{state=\"suspect\"} 0\n") != std::string::npos);
  CHECK(t.find("fedswarm_peers{state=\"down\"} 1\n") != std::string::npos);
  CHECK(t.find("fedswarm_peer_lag_records{site=\"DKRZ\"} 5\n") != std::string::npos);
  CHECK(t.find("fedswarm_peer_lag_records{site=\"CEDA\"}") == std::string::npos);
  CHECK(t.find("fedswarm_records_refused_total{reason=\"bad_signature\"} 2\n") != std::string::npos);
  CHECK(t.find("fedswarm_process_resident_memory_bytes ") != std::string::npos);
  CHECK(t.find("fedswarm_process_open_fds ") != std::string::npos);
  CHECK(t.find("fedswarm_process_cpu_seconds_total ") != std::string::npos);
}
