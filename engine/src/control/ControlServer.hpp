// ControlServer: the node's side of the control socket (ControlClient.hpp has the
// protocol). Private to engine/.
//
// Contract
// - `open` removes a stale socket file (the caller holds the home's node lock, so no
//   other node can be using it), binds with mode 0600 and starts accepting on its own
//   threads (kThreads): nothing of it runs on the node's io thread.
// - `handler` runs on one of those threads, may block (it gathers the answer from the
//   node's threads) and returns the answer object; a slow request holds one thread,
//   not the others. A request line over 64 KiB or silent for 5 s is dropped.
// - `close` stops accepting, waits for the threads and removes the socket file.
#pragma once

#include <atomic>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

class ControlServer {
 public:
  using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;

  // Requests answered at once.
  static constexpr int kThreads = 2;

  static Result<std::unique_ptr<ControlServer>> open(const std::filesystem::path& path, Handler handler);
  ~ControlServer();
  void close();

 private:
  ControlServer(std::filesystem::path path, Handler handler);
  void accept();

  std::filesystem::path path_;
  Handler handler_;
  boost::asio::io_context io_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::vector<std::thread> threads_;
  std::atomic<bool> open_{false};
};

}  // namespace fedswarm
