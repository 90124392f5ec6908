// Shared helpers for doctest tests: temporary directories, fixture paths, seeds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace fedswarm::test {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction
// unless FEDSWARM_KEEP_TEST_DIRS is set (then its path is printed).
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "fedswarm-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& p) const { return path_ / p; }

 private:
  std::filesystem::path path_;
};

// tests/fixtures: real ESGF records with their provenance (configured at build time).
std::filesystem::path fixtures_dir();
// protocol/projects/cmip6: the CMIP6 controlled vocabularies compiled into the binary.
std::filesystem::path cv_dir();
std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, const std::string& contents);

// The seed for randomized tests: FEDSWARM_SEED if set, else a fresh one. Printed via
// doctest's MESSAGE by the caller so any failure reproduces.
std::uint64_t test_seed();

}  // namespace fedswarm::test
