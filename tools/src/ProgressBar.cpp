#include "ProgressBar.hpp"

#include <iostream>

#include "Output.hpp"

namespace fedswarm::cli {

std::string render_bar(std::uint64_t done, std::uint64_t total, int width) {
  double frac = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
  if (frac > 1) frac = 1;
  int filled = static_cast<int>(frac * width + 0.5);
  std::string bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
  int pct = static_cast<int>(frac * 100);
  return bar + " " + (pct < 10 ? "  " : pct < 100 ? " " : "") + std::to_string(pct) + "%";
}

ProgressBar::ProgressBar(std::string label, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), enabled_(stderr_is_terminal()), start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(std::uint64_t done, std::uint64_t total, const std::string& detail) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100) && done < total) return;
  last_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  std::string d = detail.size() > 40 ? "…" + detail.substr(detail.size() - 39) : detail;
  std::string amounts;
  if (unit_.empty()) {
    std::string rate = secs > 0.5 ? "  " + human_bytes(static_cast<std::uint64_t>(done / secs)) + "/s" : "";
    amounts = human_bytes(done) + " / " + human_bytes(total) + rate;
  } else {
    amounts = std::to_string(done) + " / " + std::to_string(total) + " " + unit_;
  }
  std::cerr << "\r\033[K" << label_ << " " << render_bar(done, total, 30) << "  " << amounts << "  " << d << std::flush;
  drawn_ = true;
}

void ProgressBar::finish() {
  if (enabled_ && drawn_) std::cerr << "\r\033[K" << std::flush;
  drawn_ = false;
}

}  // namespace fedswarm::cli
