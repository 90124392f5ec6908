// HttpServer: the node's HTTP face (DESIGN §9) — HTTPS (Boost.Beast over Boost.Asio SSL,
// OpenSSL) or plain HTTP behind a reverse proxy, on its own io_context and worker
// threads, never the node's io thread.
//
// Routes: `/esg-search/search` and `/esg-search/wget` go to the search handler (path and
// raw query string); `/thredds/fileServer/<DRS path>` to the FileServer, streamed in
// large chunks with Range, HEAD, ETag, Last-Modified; `/` and `/api/…` to the dashboard
// handler (the page and its JSON API); the exact paths of `routes` (e.g. `/metrics`) to
// their handlers; anything else is 404. Only GET and
// HEAD exist (others: 405); bodies are refused past a few bytes (413).
//
// Limits (HttpServerOptions): a request target over max_target_bytes gets 414, header
// fields over max_header_bytes 431; a whole request header must arrive within
// header_timeout_ms however slowly it trickles (slow-loris), a TLS handshake within
// tls_handshake_timeout_ms, a kept-alive connection's next request begins within
// idle_timeout_ms and a stalled reader is dropped after idle_timeout_ms; connections
// beyond max_connections are closed at once. A malformed request gets 400 and its
// connection is closed; other connections are not affected.
//
// Contract
// - `start` binds and listens before returning (port 0: any free port, see `port()`);
//   errors: `io` with reason http_listen (bind/listen failed, e.g. the port is in use) or
//   http_tls (the certificate or key cannot be loaded), the message naming the address
//   or file.
// - The handler and the FileServer are called on the worker threads, concurrently; they
//   must be thread-safe and outlive the server. A handler's exception becomes a 500.
// - `stop` (also the destructor) closes the listener and every connection and joins the
//   workers; callable from any thread but a worker, idempotent.
// - `stats` may be called from any thread (relaxed atomic counters).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "fedswarm/engine/Config.hpp"
#include "fedswarm/protocol/Result.hpp"
#include "http/FileServer.hpp"
#include "http/HttpAnswer.hpp"

namespace fedswarm {

struct HttpServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port
  bool tls = true;
  std::filesystem::path certificate, private_key;
  unsigned threads = 2;
  std::uint32_t max_connections = 512;
  std::uint32_t max_target_bytes = 64 * 1024;
  std::uint32_t max_header_bytes = 80 * 1024;
  std::uint32_t tls_handshake_timeout_ms = 10000;
  std::uint32_t header_timeout_ms = 10000;
  std::uint32_t idle_timeout_ms = 60000;
  // Bytes read from a file and handed to the socket (or TLS) at once, per connection:
  // large enough that per-chunk costs vanish next to the copy, small enough for many
  // concurrent downloads.
  std::size_t file_chunk_bytes = 256 * 1024;

  static HttpServerOptions from(const HttpConfig& config);
};

struct HttpStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_refused = 0;  // over max_connections
  std::uint64_t connections_open = 0;
  std::uint64_t timeouts = 0;             // handshake, header, idle or write deadlines missed
  std::uint64_t responses_2xx = 0, responses_3xx = 0, responses_4xx = 0, responses_5xx = 0;
  std::uint64_t traversals_rejected = 0;  // fileServer paths leaving the DRS tree
  std::uint64_t file_bytes_sent = 0;
};

class HttpServer {
 public:
  using Handler = std::function<HttpAnswer(std::string_view path, std::string_view query)>;
  // Diagnostics the server reports (a failed accept, a handler's exception); may be empty.
  using Log = std::function<void(const std::string&)>;
  // Exact paths (no query) and their handlers.
  using Routes = std::map<std::string, Handler, std::less<>>;

  // `files` may be null (no fileServer route); `search` and `dashboard` may be empty (404).
  static Result<std::unique_ptr<HttpServer>> start(const HttpServerOptions& options, Handler search,
                                                   const FileServer* files, Log log = {}, Handler dashboard = {},
                                                   Routes routes = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void stop();
  std::uint16_t port() const;
  // "host:port" actually bound.
  std::string local_address() const;
  HttpStats stats() const;

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fedswarm
