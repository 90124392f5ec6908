#include "metrics/MetricsText.hpp"

#include <charconv>
#include <cmath>

namespace fedswarm {

std::string MetricsText::escape_label_value(std::string_view v) {
  std::string o;
  o.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': o += "\\\\"; break;
      case '"': o += "\\\""; break;
      case '\n': o += "\\n"; break;
      default: o += c;
    }
  }
  return o;
}

MetricsText& MetricsText::family(std::string_view name, std::string_view type, std::string_view help) {
  if (current_ == name) {
    skipping_ = false;
    return *this;
  }
  // A family split in two would make the whole scrape invalid: the second part is dropped.
  if (seen_.count(name) > 0) {
    skipping_ = true;
    return *this;
  }
  skipping_ = false;
  current_ = std::string(name);
  seen_.insert(current_);
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  for (char c : help) {
    if (c == '\\') out_ += "\\\\";
    else if (c == '\n') out_ += "\\n";
    else out_ += c;
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
  return *this;
}

void MetricsText::begin_sample(const MetricLabels& labels) {
  out_ += current_;
  if (!labels.empty()) {
    out_ += '{';
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out_ += ',';
      first = false;
      out_ += k;
      out_ += "=\"";
      out_ += escape_label_value(v);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
}

MetricsText& MetricsText::sample(std::uint64_t value, const MetricLabels& labels) {
  if (skipping_ || current_.empty()) return *this;
  begin_sample(labels);
  out_ += std::to_string(value);
  out_ += '\n';
  return *this;
}

MetricsText& MetricsText::sample(std::int64_t value, const MetricLabels& labels) {
  if (skipping_ || current_.empty()) return *this;
  begin_sample(labels);
  out_ += std::to_string(value);
  out_ += '\n';
  return *this;
}

MetricsText& MetricsText::sample(double value, const MetricLabels& labels) {
  if (skipping_ || current_.empty()) return *this;
  begin_sample(labels);
  if (std::isnan(value)) out_ += "NaN";
  else if (std::isinf(value)) out_ += value > 0 ? "+Inf" : "-Inf";
  else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);  // shortest round-trip form
    out_.append(buf, ec == std::errc() ? end : buf);
  }
  out_ += '\n';
  return *this;
}

}  // namespace fedswarm
