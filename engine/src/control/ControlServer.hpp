// ControlServer: the node's side of the control socket (ControlClient.hpp has the
// protocol). Private to engine/.
//
// Contract
// - `open` removes a stale socket file (the caller holds the home's node lock, so no
//   other node can be using it), binds with mode 0600 and starts accepting.
// - Requests are handled on the io thread that runs the io_context; `handler` returns
//   the answer object. A request line over 64 KiB or silent for 5 s is dropped.
// - `close` stops accepting and removes the socket file.
#pragma once

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

  static Result<std::unique_ptr<ControlServer>> open(boost::asio::io_context& io, const std::filesystem::path& path,
                                                     Handler handler);
  ~ControlServer();
  void close();

 private:
  ControlServer(boost::asio::io_context& io, std::filesystem::path path, Handler handler);
  void accept();

  std::filesystem::path path_;
  Handler handler_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  bool open_ = false;
};

}  // namespace fedswarm
