#include <doctest/doctest.h>

#include <random>

#include "TestSupport.hpp"
#include "fedswarm/storage/FileHasher.hpp"
#include "fedswarm/storage/Xxh3File.hpp"

using namespace fedswarm;

TEST_CASE("xxh3_file gives FileHasher's xxh3-128, with progress, and refuses what it cannot read") {
  test::TempDir dir("fedswarm-xxh3");
  const std::uint64_t seed = test::test_seed();
  MESSAGE("seed " << seed);
  std::mt19937_64 rng(seed);
  FileHasher hasher;
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{16384}, std::size_t{(1u << 20) + 3}, std::size_t{3u << 20}}) {
    CAPTURE(size);
    std::string data(size, '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    auto path = dir / ("f" + std::to_string(size));
    test::write_file(path, data);
    std::uint64_t last = 0;
    auto fast = xxh3_file(path, [&](std::uint64_t done) { last = done; });
    REQUIRE(fast.ok());
    auto full = hasher.hash(path, 0);
    REQUIRE(full.ok());
    CHECK(*fast == full->xxh3);
    CHECK(last == size);
  }
  auto missing = xxh3_file(dir / "nope");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().reason == "unreadable_file");
  CHECK(missing.error().message.find("nope") != std::string::npos);
  auto directory = xxh3_file(dir.path());
  REQUIRE_FALSE(directory.ok());
  CHECK(directory.error().reason == "unreadable_file");
}
