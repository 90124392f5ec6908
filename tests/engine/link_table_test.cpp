// LinkTable dials. Loopback 127.0.0.1 (a plain acceptor that never answers the handshake).
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <thread>

#include "fedswarm/protocol/SigningKey.hpp"
#include "links/LinkTable.hpp"

using namespace fedswarm;
namespace asio = boost::asio;

// Regression (60-minute chaos run, seed 60: SIGABRT in a node): the connect completed and
// moved its socket into a PeerLink while the handshake timer's expiry was already queued;
// the timer's handler then cancelled the moved-from socket with the throwing overload.
// A stalled io thread makes both completions ready in one reactor pass, connect first.
TEST_CASE("LinkTable: a dial whose connect and handshake timer complete together does not throw") {
  asio::io_context io;
  asio::ip::tcp::acceptor listener(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = listener.local_endpoint().port();

  const SigningKey me = SigningKey::generate();
  const SigningKey them = SigningKey::generate();
  PeerLink::Settings settings;
  settings.handshake_timeout_ms = 20;
  std::vector<std::string> failures;
  LinkTable::Callbacks cb;
  cb.admit = [](const PeerId&) { return true; };
  cb.dial_failed = [&](const PeerId&, const std::string& why) { failures.push_back(why); };
  LinkTable table(io, me, settings, cb);

  RosterMember member;
  member.key = them.public_key();
  member.site = "THEM";
  member.endpoints = {"127.0.0.1:" + std::to_string(port)};
  table.dial(them.public_key(), member);

  // The resolve completes first; its handler opens the socket, starts the connect and arms
  // the timer. Then the io thread stalls: until the connection is established (the
  // listener accepts it) and the timer's deadline has passed.
  REQUIRE(io.run_one_for(std::chrono::seconds(10)) == 1);
  const auto timer_due = std::chrono::steady_clock::now() + std::chrono::milliseconds(settings.handshake_timeout_ms);
  asio::ip::tcp::socket accepted = listener.accept();
  CHECK(accepted.is_open());
  std::this_thread::sleep_until(timer_due + std::chrono::milliseconds(5));
  CHECK_NOTHROW(io.run_for(std::chrono::milliseconds(200)));
  // The connect won the race (the case that threw); the link's handshake then timed out.
  REQUIRE(failures.size() == 1);
  CHECK(failures.front().find("handshake") != std::string::npos);
  table.close_all(make_error(Errc::unavailable, "shutdown", "test over"));
  io.poll();
}
