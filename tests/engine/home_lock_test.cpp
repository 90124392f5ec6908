// HomeLock: one node per home. A second taker is refused with `conflict` naming the
// holder's pid and what to do; the lock is free again once the holder is gone; a home
// that cannot hold the lock file is an `io` error.
#include <doctest/doctest.h>
#include <unistd.h>

#include "TestSupport.hpp"
#include "node/HomeLock.hpp"

using namespace fedswarm;

TEST_CASE("home lock: a second node in the same home is refused until the first is gone") {
  test::TempDir dir;
  auto first = HomeLock::take(dir.path());
  REQUIRE_MESSAGE(first.ok(), first.error().message);
  auto second = HomeLock::take(dir.path());
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().code == Errc::conflict);
  CHECK(second.error().reason == "node_running");
  CHECK(second.error().message.find("pid " + std::to_string(::getpid())) != std::string::npos);
  CHECK(second.error().message.find("stop it first") != std::string::npos);
  first->reset();
  auto again = HomeLock::take(dir.path());
  CHECK_MESSAGE(again.ok(), again.error().message);
}

TEST_CASE("home lock: a home that does not exist is an io error naming the file") {
  test::TempDir dir;
  auto r = HomeLock::take(dir.path() / "missing" / "home");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::io);
  CHECK(r.error().message.find("node.lock") != std::string::npos);
}
