#include "http/HttpServer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mutex>
#include <thread>
#include <vector>

#include "http/HttpSession.hpp"

namespace fedswarm {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

HttpServerOptions HttpServerOptions::from(const HttpConfig& c) {
  HttpServerOptions o;
  o.listen = c.listen;
  o.tls = c.tls;
  o.certificate = c.certificate;
  o.private_key = c.private_key;
  o.threads = c.threads;
  o.max_connections = c.max_connections;
  o.max_target_bytes = c.max_target_bytes;
  o.max_header_bytes = c.max_header_bytes;
  o.tls_handshake_timeout_ms = c.tls_handshake_timeout_ms;
  o.header_timeout_ms = c.header_timeout_ms;
  o.idle_timeout_ms = c.idle_timeout_ms;
  return o;
}

// Destruction order matters: the io_context (and with it every session) goes before the
// TLS context and the session context the sessions refer to.
struct HttpServer::Impl {
  HttpSessionContext ctx;
  std::optional<ssl::context> tls;
  std::unique_ptr<asio::io_context> io;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::vector<std::thread> workers;
  tcp::endpoint bound;
  std::mutex stop_mutex;
  bool stopped = false;

  void accept() {
    acceptor->async_accept(asio::make_strand(*io), [this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
      if (ec) {
        // Out of descriptors and the like: report, and keep accepting a moment later.
        if (ctx.log) ctx.log("HTTP accept failed: " + ec.message());
        auto timer = std::make_shared<asio::steady_timer>(*io, std::chrono::milliseconds(100));
        timer->async_wait([this, timer](const boost::system::error_code&) { accept(); });
        return;
      }
      if (ctx.open.load(std::memory_order_relaxed) >= ctx.options.max_connections) {
        ctx.refused.fetch_add(1, std::memory_order_relaxed);
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        ctx.accepted.fetch_add(1, std::memory_order_relaxed);
        if (tls)
          std::make_shared<HttpSession<beast::ssl_stream<beast::tcp_stream>>>(ctx, std::move(socket), *tls)->run();
        else
          std::make_shared<HttpSession<beast::tcp_stream>>(ctx, std::move(socket))->run();
      }
      accept();
    });
  }
};

namespace {

Error listen_error(const std::string& listen, const std::string& what) {
  return make_error(Errc::io, "http_listen", "cannot listen for HTTP on " + listen + ": " + what);
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::start(const HttpServerOptions& options, Handler search,
                                                       const FileServer* files, Log log, Handler dashboard, Routes routes) {
  auto impl = std::make_unique<Impl>();
  impl->ctx.options = options;
  impl->ctx.search = std::move(search);
  impl->ctx.dashboard = std::move(dashboard);
  impl->ctx.files = files;
  impl->ctx.log = std::move(log);
  impl->ctx.routes = std::move(routes);
  if (impl->ctx.options.threads == 0) impl->ctx.options.threads = 1;
  if (impl->ctx.options.file_chunk_bytes < 4096) impl->ctx.options.file_chunk_bytes = 4096;

  if (options.tls) {
    impl->tls.emplace(ssl::context::tls_server);
    auto& t = *impl->tls;
    boost::system::error_code ec;
    t.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                  ec);
    t.use_certificate_chain_file(options.certificate.string(), ec);
    if (ec)
      return make_error(Errc::io, "http_tls", "cannot load the HTTPS certificate " + options.certificate.string() + ": " +
                                                   ec.message() + " (see [http] certificate)");
    t.use_private_key_file(options.private_key.string(), ssl::context::pem, ec);
    if (ec)
      return make_error(Errc::io, "http_tls", "cannot load the HTTPS private key " + options.private_key.string() + ": " +
                                                   ec.message() + " (see [http] private_key)");
    if (SSL_CTX_check_private_key(t.native_handle()) != 1)
      return make_error(Errc::io, "http_tls", "the HTTPS private key " + options.private_key.string() +
                                                   " does not belong to the certificate " + options.certificate.string());
  }

  const auto colon = options.listen.rfind(':');
  if (colon == std::string::npos) return listen_error(options.listen, "not host:port");
  std::string host = options.listen.substr(0, colon);
  const std::string port = options.listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);

  impl->io = std::make_unique<asio::io_context>(static_cast<int>(impl->ctx.options.threads));
  boost::system::error_code ec;
  tcp::resolver resolver(*impl->io);
  auto endpoints = resolver.resolve(host, port, tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) return listen_error(options.listen, ec ? ec.message() : "no address");
  const tcp::endpoint ep = endpoints.begin()->endpoint();
  impl->acceptor = std::make_unique<tcp::acceptor>(asio::make_strand(*impl->io));
  auto& a = *impl->acceptor;
  if (a.open(ep.protocol(), ec); ec) return listen_error(options.listen, ec.message());
  a.set_option(asio::socket_base::reuse_address(true), ec);
  if (a.bind(ep, ec); ec) return listen_error(options.listen, ec.message());
  if (a.listen(asio::socket_base::max_listen_connections, ec); ec) return listen_error(options.listen, ec.message());
  impl->bound = a.local_endpoint(ec);

  impl->accept();
  for (unsigned i = 0; i < impl->ctx.options.threads; ++i)
    impl->workers.emplace_back([io = impl->io.get(), ctx = &impl->ctx] {
      for (;;) {
        try {
          io->run();
          return;
        } catch (const std::exception& e) {
          // A handler must not throw; if one does, its connection is lost and the worker
          // carries on.
          if (ctx->log) ctx->log(std::string("HTTP worker: ") + e.what());
        }
      }
    });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::stop() {
  std::lock_guard lock(impl_->stop_mutex);
  if (impl_->stopped) return;
  impl_->stopped = true;
  asio::post(impl_->acceptor->get_executor(), [a = impl_->acceptor.get()] {
    boost::system::error_code ignored;
    a->close(ignored);
  });
  impl_->io->stop();
  for (auto& t : impl_->workers) t.join();
  impl_->workers.clear();
  impl_->acceptor.reset();
  // Destroys every session with the operations that own it.
  impl_->io.reset();
}

std::uint16_t HttpServer::port() const { return impl_->bound.port(); }

std::string HttpServer::local_address() const {
  const auto addr = impl_->bound.address();
  return (addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string()) + ":" + std::to_string(impl_->bound.port());
}

HttpStats HttpServer::stats() const {
  const auto& c = impl_->ctx;
  auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  HttpStats s;
  s.connections_accepted = get(c.accepted);
  s.connections_refused = get(c.refused);
  s.connections_open = get(c.open);
  s.timeouts = get(c.timeouts);
  s.responses_2xx = get(c.r2xx);
  s.responses_3xx = get(c.r3xx);
  s.responses_4xx = get(c.r4xx);
  s.responses_5xx = get(c.r5xx);
  s.traversals_rejected = get(c.traversals);
  s.file_bytes_sent = get(c.file_bytes);
  return s;
}

}  // namespace fedswarm
