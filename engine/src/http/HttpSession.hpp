// HttpSession: one HTTP/1.1 connection of HttpServer, plain (beast::tcp_stream) or TLS
// (beast::ssl_stream<beast::tcp_stream>): handshake, then requests read one at a time
// (keep-alive), answered from the search handler, the dashboard handler, the FileServer
// or with an error.
//
// Contract
// - Private to HttpServer.cpp. Runs on the server's worker threads, serialised by the
//   connection's strand; owned by the shared_ptrs in its pending operations, so it dies
//   with its last operation (at the latest when the server's io_context is destroyed).
// - Deadlines (tcp_stream's timer, which bounds all reads/writes started after it is
//   set until it is set again): the TLS handshake; the whole request header from its
//   first byte; the wait for a kept-alive connection's next request; each write.
// - `HttpSessionContext` outlives every session (HttpServer::Impl owns it and destroys
//   the io_context first).
#pragma once

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <limits>
#include <stdexcept>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "http/ByteRange.hpp"
#include "http/FileServer.hpp"
#include "http/HttpServer.hpp"
#include "http/TlsBulkWriter.hpp"

namespace fedswarm {

struct HttpSessionContext {
  HttpServerOptions options;
  HttpServer::Handler search;
  HttpServer::Handler dashboard;
  const FileServer* files = nullptr;
  HttpServer::Log log;
  HttpServer::Routes routes;

  std::atomic<std::uint64_t> accepted{0}, refused{0}, open{0}, timeouts{0};
  std::atomic<std::uint64_t> r2xx{0}, r3xx{0}, r4xx{0}, r5xx{0}, traversals{0}, file_bytes{0};

  void count(unsigned status) {
    auto& c = status >= 500 ? r5xx : status >= 400 ? r4xx : status >= 300 ? r3xx : r2xx;
    c.fetch_add(1, std::memory_order_relaxed);
  }
};

// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 IMF-fixdate), independent of the locale.
inline std::string http_date(std::int64_t unix_seconds) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7], tm.tm_mday,
                kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, boost::beast::tcp_stream>;

  template <class... Args>
  HttpSession(HttpSessionContext& ctx, Args&&... args) : ctx_(ctx), stream_(std::forward<Args>(args)...) {
    ctx_.open.fetch_add(1, std::memory_order_relaxed);
  }
  ~HttpSession() { ctx_.open.fetch_sub(1, std::memory_order_relaxed); }

  void run() {
    // Start on the connection's strand: the acceptor's completion ran elsewhere.
    boost::asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->begin(); });
  }

 private:
  using Request = boost::beast::http::request_parser<boost::beast::http::string_body>;
  // A GET or HEAD carries no body; a few bytes are tolerated, then 413.
  static constexpr std::uint64_t kMaxBody = 4096;
  // Bytes asked of the socket per read while a request arrives.
  static constexpr std::size_t kReadBytes = 16 * 1024;

  boost::beast::tcp_stream& tcp() { return boost::beast::get_lowest_layer(stream_); }
  void expire(std::uint32_t ms) { tcp().expires_after(std::chrono::milliseconds(ms)); }

  void begin() {
    boost::system::error_code ec;
    tcp().socket().set_option(boost::asio::ip::tcp::no_delay(true), ec);
    if constexpr (kTls) {
      expire(ctx_.options.tls_handshake_timeout_ms);
      stream_.async_handshake(boost::asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](const boost::system::error_code& e) {
                                if (e) return self->fail(e);
                                self->read_request(true);
                              });
    } else {
      read_request(true);
    }
  }

  void fail(const boost::system::error_code& ec) {
    if (ec == boost::beast::error::timeout) ctx_.timeouts.fetch_add(1, std::memory_order_relaxed);
    boost::system::error_code ignored;
    tcp().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    tcp().close();
  }

  // The first request's header must arrive within header_timeout_ms of the connection's
  // start; a kept-alive connection may idle, but once a byte arrives the same bound holds.
  void read_request(bool first) {
    parser_.emplace();
    parser_->header_limit(std::numeric_limits<std::uint32_t>::max());  // checked in parse()
    parser_->body_limit(kMaxBody);
    parser_->eager(true);
    if (first || buffer_.size() > 0) {
      expire(ctx_.options.header_timeout_ms);
      return buffer_.size() > 0 ? parse() : read_more();
    }
    expire(ctx_.options.idle_timeout_ms);
    stream_.async_read_some(buffer_.prepare(kReadBytes), [self = this->shared_from_this()](
                                                             const boost::system::error_code& ec, std::size_t n) {
      if (ec) return self->fail(ec);
      self->buffer_.commit(n);
      self->expire(self->ctx_.options.header_timeout_ms);
      self->parse();
    });
  }

  void read_more() {
    stream_.async_read_some(buffer_.prepare(kReadBytes), [self = this->shared_from_this()](
                                                             const boost::system::error_code& ec, std::size_t n) {
      if (ec) return self->fail(ec);
      self->buffer_.commit(n);
      self->parse();
    });
  }

  // Feeds what arrived to the parser here rather than through http::async_read: Beast
  // 1.74's fields throw std::length_error on a field over 64 KiB, which must become a 431
  // for this request, not an exception through the worker.
  void parse() {
    namespace http = boost::beast::http;
    boost::system::error_code ec;
    try {
      while (buffer_.size() > 0 && !parser_->is_done()) {
        const std::size_t used = parser_->put(buffer_.data(), ec);
        buffer_.consume(used);
        if (ec == http::error::need_more) {
          ec = {};
          break;
        }
        if (ec || used == 0) break;
      }
    } catch (const std::length_error&) {
      return answer(HttpAnswer::text(431, "Request Header Fields Too Large\n"), false, false);
    }
    if (!ec && !parser_->is_header_done() && buffer_.size() > ctx_.options.max_target_bytes + ctx_.options.max_header_bytes)
      ec = http::error::header_limit;
    if (ec) return on_error(ec);
    if (!parser_->is_done()) return read_more();
    const auto& req = parser_->get();
    std::size_t field_bytes = 0;
    for (const auto& f : req) field_bytes += f.name_string().size() + f.value().size() + 4;
    if (field_bytes > ctx_.options.max_header_bytes)
      return answer(HttpAnswer::text(431, "Request Header Fields Too Large\n"), false, false);
    handle(req);
  }

  void on_error(const boost::system::error_code& ec) {
    namespace http = boost::beast::http;
    if (ec == http::error::header_limit) {
      // No line end in what arrived: the request line (its target) itself is too long.
      const auto data = buffer_.cdata();
      const std::string_view seen(static_cast<const char*>(data.data()), data.size());
      const auto eol = seen.find('\n');
      if (eol == std::string_view::npos || eol > ctx_.options.max_target_bytes)
        return answer(HttpAnswer::text(414, "URI Too Long\n"), false, false);
      return answer(HttpAnswer::text(431, "Request Header Fields Too Large\n"), false, false);
    }
    if (ec == http::error::body_limit) return answer(HttpAnswer::text(413, "Payload Too Large\n"), false, false);
    if (ec.category() == http::make_error_code(http::error::bad_target).category())
      return answer(HttpAnswer::text(400, "Bad Request\n"), false, false);
    fail(ec);
  }

  void handle(const boost::beast::http::request<boost::beast::http::string_body>& req) {
    namespace http = boost::beast::http;
    const bool keep = req.keep_alive();
    const bool head = req.method() == http::verb::head;
    if (req.method() != http::verb::get && !head) {
      HttpAnswer a = HttpAnswer::text(405, "Method Not Allowed: this server is read-only (GET, HEAD)\n");
      a.headers.emplace_back("Allow", "GET, HEAD");
      return answer(std::move(a), false, keep);
    }
    const std::string_view target(req.target().data(), req.target().size());
    if (target.size() > ctx_.options.max_target_bytes) return answer(HttpAnswer::text(414, "URI Too Long\n"), head, false);
    const auto q = target.find('?');
    const std::string_view path = target.substr(0, q);
    const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    constexpr std::string_view kFiles = "/thredds/fileServer/";
    try {
      if (path == "/esg-search/search" || path == "/esg-search/wget") {
        if (!ctx_.search) return answer(HttpAnswer::text(404, "Not Found\n"), head, keep);
        return answer(ctx_.search(path, query), head, keep);
      }
      if (ctx_.dashboard && (path == "/" || path.starts_with("/api/")))
        return answer(ctx_.dashboard(path, query), head, keep);
      if (ctx_.files && path.size() > kFiles.size() && path.substr(0, kFiles.size()) == kFiles) {
        FileLookup found = ctx_.files->open(path.substr(kFiles.size()));
        if (found.traversal) ctx_.traversals.fetch_add(1, std::memory_order_relaxed);
        if (found.refusal) return answer(std::move(*found.refusal), head, keep);
        return send_file(std::move(found.file), req, head, keep);
      }
      if (auto it = ctx_.routes.find(path); it != ctx_.routes.end()) return answer(it->second(path, query), head, keep);
    } catch (const std::exception& e) {
      if (ctx_.log) ctx_.log(std::string("HTTP request ") + std::string(path) + " failed: " + e.what());
      return answer(HttpAnswer::text(500, "Internal Server Error\n"), head, false);
    }
    answer(HttpAnswer::text(404, "Not Found\n"), head, keep);
  }

  template <class Message>
  void common_fields(Message& m, unsigned status, bool keep) {
    m.result(status);
    m.version(11);
    m.set(boost::beast::http::field::server, "fedswarm");
    m.keep_alive(keep);
  }

  void answer(HttpAnswer a, bool head, bool keep) {
    namespace http = boost::beast::http;
    ctx_.count(a.status);
    if (head) {
      auto res = std::make_shared<http::response<http::empty_body>>();
      common_fields(*res, a.status, keep);
      res->set(http::field::content_type, a.content_type);
      for (const auto& [k, v] : a.headers) res->set(k, v);
      res->content_length(a.body.size());
      return write_message(std::move(res), keep);
    }
    auto res = std::make_shared<http::response<http::string_body>>();
    common_fields(*res, a.status, keep);
    res->set(http::field::content_type, a.content_type);
    for (const auto& [k, v] : a.headers) res->set(k, v);
    res->body() = std::move(a.body);
    res->prepare_payload();
    write_message(std::move(res), keep);
  }

  template <class Message>
  void write_message(std::shared_ptr<Message> res, bool keep) {
    expire(ctx_.options.idle_timeout_ms);
    boost::beast::http::async_write(
        stream_, *res, [self = this->shared_from_this(), res, keep](const boost::system::error_code& ec, std::size_t) {
          if (ec) return self->fail(ec);
          self->finished(keep);
        });
  }

  void finished(bool keep) {
    file_.close();
    if (!keep) return close();
    read_request(false);
  }

  void close() {
    if constexpr (kTls) {
      expire(1000);
      stream_.async_shutdown([self = this->shared_from_this()](const boost::system::error_code&) {
        self->fail(boost::system::error_code());
      });
    } else {
      // Lingering close: what the client still sends is read and dropped for a moment, so
      // that closing with unread data (an RST) does not destroy the answer in flight.
      boost::system::error_code ignored;
      tcp().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
      expire(2000);
      drain();
    }
  }

  void drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(kReadBytes), [self = this->shared_from_this()](
                                                             const boost::system::error_code& ec, std::size_t) {
      if (ec) return self->fail(boost::system::error_code());
      self->drain();
    });
  }

  void send_file(ServedFile file, const boost::beast::http::request<boost::beast::http::string_body>& req, bool head,
                 bool keep) {
    namespace http = boost::beast::http;
    auto res = std::make_shared<http::response<http::empty_body>>();
    const auto if_none_match = req[http::field::if_none_match];
    if (!if_none_match.empty() && (if_none_match == "*" || if_none_match.find(file.etag) != boost::string_view::npos)) {
      ctx_.count(304);
      common_fields(*res, 304, keep);
      res->set(http::field::etag, file.etag);
      return write_message(std::move(res), keep);
    }
    ByteRange range;
    range.last = file.size ? file.size - 1 : 0;
    const auto range_header = req[http::field::range];
    const auto if_range = req[http::field::if_range];
    if (!range_header.empty() && (if_range.empty() || if_range == file.etag))
      range = ByteRange::parse(std::string_view(range_header.data(), range_header.size()), file.size);
    if (range.kind == ByteRange::Kind::unsatisfiable) {
      HttpAnswer a = HttpAnswer::text(416, "Range Not Satisfiable\n");
      a.headers.emplace_back("Content-Range", "bytes */" + std::to_string(file.size));
      a.headers.emplace_back("Accept-Ranges", "bytes");
      return answer(std::move(a), head, keep);
    }
    const bool partial = range.kind == ByteRange::Kind::partial;
    const unsigned status = partial ? 206 : 200;
    ctx_.count(status);
    common_fields(*res, status, keep);
    res->set(http::field::content_type, file.content_type);
    res->set(http::field::etag, file.etag);
    res->set(http::field::last_modified, http_date(file.mtime));
    res->set(http::field::accept_ranges, "bytes");
    const std::uint64_t length = file.size == 0 ? 0 : range.length();
    if (partial)
      res->set(http::field::content_range, "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) +
                                               "/" + std::to_string(file.size));
    res->content_length(length);
    file_ = std::move(file);
    offset_ = range.first;
    remain_ = head ? 0 : length;
    expire(ctx_.options.idle_timeout_ms);
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res, keep](const boost::system::error_code& ec, std::size_t) {
                        if (ec) return self->fail(ec);
                        if constexpr (!kTls) {
                          if (self->use_sendfile_) return self->send_plain(keep);
                        }
                        self->write_chunk(keep);
                      });
  }

  // Plain HTTP: the kernel copies from the page cache to the socket (sendfile), as
  // nginx does. Waits for room in the socket with its own deadline (tcp_stream's timer
  // covers only its own operations); yields to other connections every few MiB.
  void send_plain(bool keep) {
    constexpr std::size_t kPerCall = 16u << 20, kPerTurn = 8u << 20;
    const int sock = tcp().socket().native_handle();
    boost::system::error_code ignored;
    tcp().socket().native_non_blocking(true, ignored);
    std::size_t this_turn = 0;
    while (remain_ > 0) {
      off_t off = static_cast<off_t>(offset_);
      const ssize_t n = ::sendfile(sock, file_.fd, &off, static_cast<std::size_t>(std::min<std::uint64_t>(remain_, kPerCall)));
      if (n > 0) {
        offset_ += static_cast<std::uint64_t>(n);
        remain_ -= static_cast<std::uint64_t>(n);
        ctx_.file_bytes.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
        if ((this_turn += static_cast<std::size_t>(n)) >= kPerTurn && remain_ > 0)
          return boost::asio::post(stream_.get_executor(), [self = this->shared_from_this(), keep] { self->send_plain(keep); });
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        wait_timer_.expires_after(std::chrono::milliseconds(ctx_.options.idle_timeout_ms));
        wait_timer_.async_wait([self = this->shared_from_this()](const boost::system::error_code& ec) {
          if (!ec) self->fail(boost::beast::error::timeout);
        });
        tcp().socket().async_wait(boost::asio::ip::tcp::socket::wait_write,
                                  [self = this->shared_from_this(), keep](const boost::system::error_code& ec) {
                                    self->wait_timer_.cancel();
                                    if (ec) return self->fail(ec);
                                    self->send_plain(keep);
                                  });
        return;
      }
      if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
        use_sendfile_ = false;  // a file system without sendfile: read and write instead
        return write_chunk(keep);
      }
      if (ctx_.log && n == 0) ctx_.log("HTTP file ended early mid-response; connection closed");
      return fail(boost::system::error_code());
    }
    finished(keep);
  }

  // pread into the connection's one buffer, then one write; no allocation per chunk.
  // Over TLS the chunk is encrypted in one go (TlsBulkWriter) and its records written to
  // the socket at once.
  void write_chunk(bool keep) {
    if (remain_ == 0) return finished(keep);
    const std::size_t cap = ctx_.options.file_chunk_bytes;
    if (!chunk_) chunk_ = std::make_unique<char[]>(cap);
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(remain_, cap));
    ssize_t got;
    do got = ::pread(file_.fd, chunk_.get(), want, static_cast<off_t>(offset_));
    while (got < 0 && errno == EINTR);
    if (got <= 0) {
      // The header promised these bytes: the only honest end is closing the connection.
      if (ctx_.log) ctx_.log("HTTP file read failed mid-response; connection closed");
      return fail(boost::system::error_code());
    }
    const std::size_t n = static_cast<std::size_t>(got);
    auto done = [self = this->shared_from_this(), keep, n](const boost::system::error_code& ec, std::size_t) {
      if (ec) return self->fail(ec);
      self->offset_ += n;
      self->remain_ -= n;
      self->ctx_.file_bytes.fetch_add(n, std::memory_order_relaxed);
      self->write_chunk(keep);
    };
    expire(ctx_.options.idle_timeout_ms);
    if constexpr (kTls) {
      if (!bulk_) bulk_ = std::make_unique<TlsBulkWriter>();
      if (!bulk_->encrypt(stream_.native_handle(), chunk_.get(), n)) {
        if (ctx_.log) ctx_.log("HTTP TLS encryption failed mid-response; connection closed");
        return fail(boost::system::error_code());
      }
      boost::asio::async_write(tcp(), boost::asio::buffer(bulk_->output()), std::move(done));
    } else {
      boost::asio::async_write(stream_, boost::asio::buffer(chunk_.get(), n), std::move(done));
    }
  }

  HttpSessionContext& ctx_;
  Stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<Request> parser_;
  ServedFile file_;
  std::uint64_t offset_ = 0, remain_ = 0;
  std::unique_ptr<char[]> chunk_;
  std::unique_ptr<TlsBulkWriter> bulk_;
  bool use_sendfile_ = !kTls;
  boost::asio::steady_timer wait_timer_{stream_.get_executor()};
};

}  // namespace fedswarm
