// ProgressBar: a one-line progress bar on stderr for long work (hashing, transfers).
// Draws only when stderr is a terminal; otherwise it stays silent so logs and pipes
// stay clean. Redraws at most every 100 ms. Single-threaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace fedswarm::cli {

class ProgressBar {
 public:
  // `unit` empty: done/total are bytes (sizes and a rate are shown); otherwise they are
  // counts of `unit` ("1,204 / 2,747 versions").
  explicit ProgressBar(std::string label, std::string unit = {});
  ~ProgressBar();
  void update(std::uint64_t done, std::uint64_t total, const std::string& detail = "");
  void finish();

 private:
  std::string label_;
  std::string unit_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

// The bar itself, for tests and for `transfers`: "[#####.....]  42%".
std::string render_bar(std::uint64_t done, std::uint64_t total, int width);

}  // namespace fedswarm::cli
