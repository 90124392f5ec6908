// Table: aligned text tables for human output (the default of every listing command).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace fedswarm::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  // Columns are padded to their widest cell (UTF-8 aware); the last column is not padded.
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// Display width of a UTF-8 string (code points; no East Asian wide handling).
std::size_t display_width(const std::string& s);

}  // namespace fedswarm::cli
