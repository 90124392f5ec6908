#include "control/ControlServer.hpp"

#include <sys/stat.h>

#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

namespace fedswarm {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

// One request/answer exchange; owns its socket until the answer is written.
struct ControlSession : std::enable_shared_from_this<ControlSession> {
  local::socket socket;
  asio::steady_timer timer;
  asio::streambuf in{64 * 1024};
  std::string out;
  const ControlServer::Handler& handler;

  ControlSession(local::socket s, const ControlServer::Handler& h)
      : socket(std::move(s)), timer(socket.get_executor()), handler(h) {}

  void start() {
    timer.expires_after(std::chrono::seconds(5));
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->socket.close();
    });
    asio::async_read_until(socket, in, '\n', [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
      if (ec) return self->stop();
      std::string line((std::istreambuf_iterator<char>(&self->in)), std::istreambuf_iterator<char>());
      auto request = nlohmann::json::parse(line, nullptr, false);
      nlohmann::json answer;
      if (request.is_discarded() || !request.is_object())
        answer = {{"error", {{"code", "invalid"}, {"reason", "bad_request"}, {"message", "the request is not a JSON object"}}}};
      else
        answer = self->handler(request);
      self->out = answer.dump() + "\n";
      asio::async_write(self->socket, asio::buffer(self->out),
                        [self](const boost::system::error_code&, std::size_t) { self->stop(); });
    });
  }
  void stop() {
    boost::system::error_code ec;
    timer.cancel();
    socket.close(ec);
  }
};

}  // namespace

ControlServer::ControlServer(std::filesystem::path path, Handler handler)
    : path_(std::move(path)), handler_(std::move(handler)), acceptor_(io_) {}

ControlServer::~ControlServer() { close(); }

Result<std::unique_ptr<ControlServer>> ControlServer::open(const std::filesystem::path& path, Handler handler) {
  std::unique_ptr<ControlServer> s(new ControlServer(path, std::move(handler)));
  std::error_code fec;
  std::filesystem::remove(path, fec);
  boost::system::error_code ec;
  s->acceptor_.open(local(), ec);
  // Created 0600 from the start (umask), not chmod-ed after a window where others could connect.
  mode_t old = ::umask(0177);
  if (!ec) s->acceptor_.bind(local::endpoint(path.string()), ec);
  ::umask(old);
  if (!ec) s->acceptor_.listen(16, ec);
  if (ec)
    return make_error(Errc::io, "control_socket",
                      "cannot create the control socket " + path.string() + ": " + ec.message() +
                          " (is the home on a file system without Unix sockets, or its path over 107 bytes?)");
  ::chmod(path.c_str(), 0600);
  s->open_ = true;
  s->accept();
  for (int i = 0; i < kThreads; ++i) s->threads_.emplace_back([srv = s.get()] { srv->io_.run(); });
  return s;
}

void ControlServer::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, local::socket socket) {
    if (!open_) return;
    if (!ec) std::make_shared<ControlSession>(std::move(socket), handler_)->start();
    accept();
  });
}

void ControlServer::close() {
  if (open_.exchange(false)) {
    asio::post(io_, [this] {
      boost::system::error_code ec;
      acceptor_.close(ec);
    });
    std::error_code fec;
    std::filesystem::remove(path_, fec);
  }
  // Sessions in progress finish (each is bounded by its 5 s timer); then the threads end.
  io_.stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace fedswarm
