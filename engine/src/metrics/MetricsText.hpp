// MetricsText: a writer for the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/), what `/metrics` serves.
//
// Usage: open a family with `counter`/`gauge` (name, help), then write its samples with
// `sample`; a family's samples follow it. `# HELP` and `# TYPE` are written once per
// family name: opening a family already opened adds samples to it only when it is still
// the current one, otherwise the call is ignored along with its samples (the format
// forbids a family in two places). Label values are escaped (\\, \", \n); HELP text
// escapes \\ and \n. Values: integers exactly, doubles in their shortest round-trip form,
// NaN and ±Inf as Prometheus spells them.
//
// Contract: a plain value; not thread-safe. Names and label names must already be valid
// Prometheus names ([a-zA-Z_:][a-zA-Z0-9_:]*): they are the program's, never input.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fedswarm {

using MetricLabels = std::vector<std::pair<std::string_view, std::string_view>>;

class MetricsText {
 public:
  // Content-Type of the format.
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

  MetricsText& counter(std::string_view name, std::string_view help) { return family(name, "counter", help); }
  MetricsText& gauge(std::string_view name, std::string_view help) { return family(name, "gauge", help); }

  MetricsText& sample(std::uint64_t value, const MetricLabels& labels = {});
  MetricsText& sample(std::int64_t value, const MetricLabels& labels = {});
  MetricsText& sample(double value, const MetricLabels& labels = {});

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

  static std::string escape_label_value(std::string_view v);

 private:
  MetricsText& family(std::string_view name, std::string_view type, std::string_view help);
  void begin_sample(const MetricLabels& labels);

  std::string out_;
  std::string current_;
  bool skipping_ = false;
  std::set<std::string, std::less<>> seen_;
};

}  // namespace fedswarm
