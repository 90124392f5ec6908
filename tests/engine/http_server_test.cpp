// HttpServer and FileServer against a real catalog with a published version: every
// traversal form, Range, HEAD, ETag, retraction, never-served folders, limits, a
// slow-loris connection, over TLS (a self-signed certificate made by NodeHome::init)
// and plain HTTP.
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "TestFederation.hpp"
#include "Process.hpp"
#include "TestSupport.hpp"
#include "fedswarm/engine/NodeHome.hpp"
#include "fedswarm/engine/Publisher.hpp"
#include "http/FileServer.hpp"
#include "http/HttpServer.hpp"

using namespace fedswarm;
namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

const char* kDir = "CMIP6/CMIP/IPSL/IPSL-CM6A-LR/historical/r1i1p1f1/Amon/tas/gr";
const char* kId = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr";
const char* kBig = "tas_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_185001-189912.nc";
const char* kSmall = "tas_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_190001-194912.nc";

std::string sha256_hex(const std::string& data) {
  unsigned char md[32];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

struct Response {
  unsigned status = 0;
  std::map<std::string, std::string> fields;
  std::string body;
  bool closed = false;  // the server closed the connection instead of answering
  std::string field(const std::string& k) const {
    auto it = fields.find(k);
    return it == fields.end() ? std::string() : it->second;
  }
};

// A blocking client speaking raw request bytes, over TLS (certificate not verified: it
// is self-signed) or plain TCP.
class Client {
 public:
  Client(std::uint16_t port, bool tls) : tls_ctx_(asio::ssl::context::tls_client) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    if (tls) {
      tls_ctx_.set_verify_mode(asio::ssl::verify_none);
      secure_.emplace(io_, tls_ctx_);
      beast::get_lowest_layer(*secure_).connect(ep);
      secure_->handshake(asio::ssl::stream_base::client);
    } else {
      plain_.emplace(io_);
      plain_->connect(ep);
    }
  }

  void send(const std::string& bytes) {
    if (secure_) asio::write(*secure_, asio::buffer(bytes));
    else asio::write(*plain_, asio::buffer(bytes));
  }

  Response read(bool head = false) {
    http::response_parser<http::string_body> p;
    p.body_limit(64u << 20);
    p.skip(head);
    beast::error_code ec;
    if (secure_) http::read(*secure_, buffer_, p, ec);
    else http::read(*plain_, buffer_, p, ec);
    Response r;
    if (ec) {
      r.closed = true;
      return r;
    }
    auto& m = p.get();
    r.status = m.result_int();
    for (const auto& f : m) r.fields[std::string(f.name_string())] = std::string(f.value());
    r.body = m.body();
    return r;
  }

  Response get(const std::string& target, const std::string& extra = "", const std::string& method = "GET") {
    send(method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra + "\r\n");
    return read(method == "HEAD");
  }

  int native() { return secure_ ? beast::get_lowest_layer(*secure_).socket().native_handle() : plain_->socket().native_handle(); }

 private:
  asio::io_context io_;
  asio::ssl::context tls_ctx_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure_;
  std::optional<beast::tcp_stream> plain_;
  beast::flat_buffer buffer_;
};

// One request on a fresh connection.
Response fetch(std::uint16_t port, bool tls, const std::string& target, const std::string& extra = "",
               const std::string& method = "GET") {
  Client c(port, tls);
  return c.get(target, extra, method);
}

// A node home with one published version (a 1 MiB + file and a small one) and the files.
class Site {
 public:
  explicit Site(std::size_t big_bytes = (1u << 20) + 12345) {
    auto h = NodeHome::init(tmp_ / "home", Config::defaults("IPSL", Tier::tier2));
    REQUIRE_MESSAGE(h.ok(), h.error().message);
    home_.emplace(std::move(*h));
    auto c = home_->open_catalog();
    REQUIRE_MESSAGE(c.ok(), c.error().message);
    catalog_ = std::move(*c);
    auto st = fed_.admit(*catalog_, home_->key(), "IPSL");
    REQUIRE_MESSAGE(st.ok(), st.error().message);
    std::mt19937 rng(7);
    big.resize(big_bytes);
    for (auto& ch : big) ch = static_cast<char>(rng());
    small = "a small file\n";
    version_dir = tmp_ / "archive" / kDir / "v20200101";
    test::write_file(version_dir / kBig, big);
    test::write_file(version_dir / kSmall, small);
    PublishOptions o;
    o.paths = {tmp_ / "archive"};
    o.now = test::kTestNow + 1000;
    auto r = Publisher(*home_, *catalog_).run(o);
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    REQUIRE_MESSAGE(r->errors.empty(), r->errors.front().message);
    files_.emplace(*catalog_, home_->projects(),
                   FileServerOptions{{home_->staging_dir(), home_->quarantine_dir()}, false});
    files_retracted_.emplace(*catalog_, home_->projects(),
                             FileServerOptions{{home_->staging_dir(), home_->quarantine_dir()}, true});
  }

  std::unique_ptr<HttpServer> serve(HttpServerOptions o, bool serve_retracted = false) {
    o.listen = "127.0.0.1:0";
    o.certificate = home_->config().http.certificate;
    o.private_key = home_->config().http.private_key;
    auto s = HttpServer::start(
        o, [](std::string_view path, std::string_view query) {
          return HttpAnswer::text(200, std::string(path) + "?" + std::string(query));
        },
        serve_retracted ? &*files_retracted_ : &*files_);
    REQUIRE_MESSAGE(s.ok(), s.error().message);
    return std::move(*s);
  }

  static std::string url(const std::string& file, const std::string& version = "v20200101") {
    return std::string("/thredds/fileServer/") + kDir + "/" + version + "/" + file;
  }

  void retract() {
    Retraction r{kId, "v20200101", "wrong calendar", "2f6a7c4e-1d2b-4c3a-9e8f-0a1b2c3d4e5f", test::kTestNow + 3000};
    auto env = catalog_->append_local(home_->key(), RecordKind::retraction, r.encode(), test::kTestNow + 3000);
    REQUIRE_MESSAGE(env.ok(), env.error().message);
  }

  const fs::path& tmp() const { return tmp_.path(); }
  NodeHome& home() { return *home_; }
  Catalog& catalog() { return *catalog_; }

  std::string big, small;
  fs::path version_dir;

 private:
  test::TempDir tmp_{"fedswarm-http"};
  test::TestFederation fed_;
  std::optional<NodeHome> home_;
  std::unique_ptr<Catalog> catalog_;
  std::optional<FileServer> files_, files_retracted_;
};

}  // namespace

TEST_CASE("HTTPS file download: whole file, HEAD, Range, ETag, keep-alive") {
  Site site;
  auto server = site.serve({});
  REQUIRE(server->port() != 0);
  Client c(server->port(), true);

  Response r = c.get(Site::url(kBig));
  REQUIRE(r.status == 200);
  CHECK(r.body == site.big);
  CHECK(r.field("ETag") == "\"" + sha256_hex(site.big) + "\"");
  CHECK(r.field("Content-Length") == std::to_string(site.big.size()));
  CHECK(r.field("Accept-Ranges") == "bytes");
  CHECK(r.field("Content-Type") == "application/netcdf");
  CHECK(r.field("Last-Modified").find(" GMT") != std::string::npos);

  // The same connection, kept alive.
  Response h = c.get(Site::url(kBig), "", "HEAD");
  CHECK(h.status == 200);
  CHECK(h.body.empty());
  CHECK(h.field("Content-Length") == std::to_string(site.big.size()));
  CHECK(h.field("ETag") == r.field("ETag"));

  Response p = c.get(Site::url(kBig), "Range: bytes=1000-300000\r\n");
  CHECK(p.status == 206);
  CHECK(p.field("Content-Range") == "bytes 1000-300000/" + std::to_string(site.big.size()));
  CHECK(p.body == site.big.substr(1000, 299001));

  Response suffix = c.get(Site::url(kBig), "Range: bytes=-10\r\n");
  CHECK(suffix.status == 206);
  CHECK(suffix.body == site.big.substr(site.big.size() - 10));

  Response open_end = c.get(Site::url(kSmall), "Range: bytes=2-\r\n");
  CHECK(open_end.status == 206);
  CHECK(open_end.body == site.small.substr(2));

  Response beyond = c.get(Site::url(kSmall), "Range: bytes=100-200\r\n");
  CHECK(beyond.status == 416);
  CHECK(beyond.field("Content-Range") == "bytes */" + std::to_string(site.small.size()));

  Response several = c.get(Site::url(kSmall), "Range: bytes=0-1,4-5\r\n");
  CHECK(several.status == 200);
  CHECK(several.body == site.small);

  Response cached = c.get(Site::url(kSmall), "If-None-Match: \"" + sha256_hex(site.small) + "\"\r\n");
  CHECK(cached.status == 304);

  const HttpStats s = server->stats();
  CHECK(s.responses_2xx == 6);
  CHECK(s.responses_4xx == 1);
  CHECK(s.file_bytes_sent >= site.big.size());
}

TEST_CASE("every traversal form is 404 and counted, staging and quarantine are never served") {
  Site site;
  auto server = site.serve({});
  const std::uint16_t port = server->port();
  const std::string base = std::string("/thredds/fileServer/") + kDir + "/v20200101/";
  for (const std::string& target : {std::string("/thredds/fileServer/../../../../etc/passwd"),
                                    std::string("/thredds/fileServer/%2e%2e/%2e%2e/etc/passwd"),
                                    std::string("/thredds/fileServer/%2E%2E/%2E%2E/etc/passwd"),
                                    std::string("/thredds/fileServer/..%2f..%2fetc%2fpasswd"),
                                    std::string("/thredds/fileServer//etc/passwd"),
                                    std::string("/thredds/fileServer/%2fetc%2fpasswd"),
                                    base + "..%5c..%5c" + kBig,
                                    base + kBig + "%00.txt",
                                    base + "./" + kBig,
                                    base + "../v20200101/" + kBig}) {
    Response r = fetch(port, true, target);
    CHECK_MESSAGE(r.status == 404, target);
  }
  CHECK(server->stats().traversals_rejected == 10);

  // A file of the version replaced by a symlink leaving the version directory.
  test::write_file(site.tmp() / "outside" / "secret", std::string(site.small.size(), 'S'));
  fs::remove(site.version_dir / kSmall);
  fs::create_symlink(site.tmp() / "outside" / "secret", site.version_dir / kSmall);
  Response sym = fetch(port, true, Site::url(kSmall));
  CHECK(sym.status == 404);
  CHECK(sym.body.find('S') == std::string::npos);
  CHECK(server->stats().traversals_rejected == 11);

  // A file that is not in the manifest, though in the directory.
  test::write_file(site.version_dir / "extra.nc", "x");
  CHECK(fetch(port, true, Site::url("extra.nc")).status == 404);
  CHECK(fetch(port, true, "/thredds/fileServer/CMIP6/nothing/here.nc").status == 404);
  CHECK(fetch(port, true, "/thredds/fileServer/%zz").status == 400);

  // The local copy moved into quarantine (and staging): its row says complete, yet the
  // folder is never served.
  for (const fs::path& root : {site.home().quarantine_dir(), site.home().staging_dir()}) {
    const fs::path moved = root / "v20200101";
    fs::create_directories(root);
    fs::rename(fs::exists(site.version_dir) ? site.version_dir : site.home().quarantine_dir() / "v20200101", moved);
    auto local = site.catalog().local(std::string(kId) + ".v20200101");
    REQUIRE(local.ok());
    REQUIRE(local->has_value());
    LocalReplica l = **local;
    l.path = moved.string();
    REQUIRE(site.catalog().put_local(l).ok());
    CHECK(fetch(port, true, Site::url(kBig)).status == 404);
  }
}

TEST_CASE("a retracted version is 410 with its reason, or served with serve_retracted") {
  Site site;
  site.retract();
  auto server = site.serve({});
  Response r = fetch(server->port(), true, Site::url(kSmall));
  CHECK(r.status == 410);
  CHECK(r.body.find("wrong calendar") != std::string::npos);
  CHECK(r.body.find("2f6a7c4e-1d2b-4c3a-9e8f-0a1b2c3d4e5f") != std::string::npos);

  auto lenient = site.serve({}, true);
  Response ok = fetch(lenient->port(), true, Site::url(kSmall));
  CHECK(ok.status == 200);
  CHECK(ok.body == site.small);
}

TEST_CASE("routes, methods and malformed requests, the server keeps serving") {
  Site site;
  HttpServerOptions o;
  o.tls = false;
  auto server = site.serve(o);
  const std::uint16_t port = server->port();
  Response s = fetch(port, false, "/esg-search/search?project=CMIP6&limit=0");
  CHECK(s.status == 200);
  CHECK(s.body == "/esg-search/search?project=CMIP6&limit=0");
  CHECK(fetch(port, false, "/esg-search/wget?x=1").body == "/esg-search/wget?x=1");
  CHECK(fetch(port, false, "/nothing").status == 404);
  CHECK(fetch(port, false, "/").status == 404);
  Response post = fetch(port, false, "/esg-search/search", "Content-Length: 0\r\n", "POST");
  CHECK(post.status == 405);
  CHECK(post.field("Allow") == "GET, HEAD");

  Client bad(port, false);
  bad.send("THIS IS NOT HTTP\r\n\r\n");
  CHECK(bad.read().status == 400);
  Client bad2(port, false);
  bad2.send("GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: zz\r\n\r\n");
  CHECK(bad2.read().status == 400);

  // intake-esgf's long URLs pass; past max_target_bytes they are 414, however long.
  const std::string long_query(60000, 'a');
  CHECK(fetch(port, false, "/esg-search/search?" + long_query).status == 200);
  CHECK(fetch(port, false, "/esg-search/search?" + std::string(70000, 'a')).status == 414);
  CHECK(fetch(port, false, "/esg-search/search?" + std::string(400000, 'a')).status == 414);
  CHECK(fetch(port, false, "/x", "X-Big: " + std::string(100000, 'b') + "\r\n").status == 431);

  // Plain HTTP serves files too.
  Response f = fetch(port, false, Site::url(kBig));
  CHECK(f.status == 200);
  CHECK(f.body == site.big);
  CHECK(server->stats().responses_4xx >= 8);
}

TEST_CASE("a slow-loris connection is dropped after the header timeout and blocks nobody") {
  Site site;
  for (bool tls : {true, false}) {
    CAPTURE(tls);
    HttpServerOptions o;
    o.tls = tls;
    o.threads = 1;  // even a single worker serves others meanwhile
    o.header_timeout_ms = 5000;  // long next to a request on a loaded machine
    auto server = site.serve(o);
    Client slow(server->port(), tls);
    const auto start = std::chrono::steady_clock::now();
    std::atomic<bool> dropped{false};
    std::chrono::steady_clock::duration dropped_after{};
    std::thread trickle([&] {
      const std::string request = "GET /esg-search/search?q=1 HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
      for (std::size_t i = 0; std::chrono::steady_clock::now() - start < std::chrono::seconds(30); ++i) {
        try {
          slow.send(std::string(1, i < request.size() ? request[i] : 'z'));
        } catch (const std::exception&) {
        }
        pollfd pfd{slow.native(), POLLIN, 0};
        if (::poll(&pfd, 1, 200) > 0) {
          char b[256];
          const ssize_t n = ::recv(slow.native(), b, sizeof b, 0);
          if (n <= 0) {
            dropped_after = std::chrono::steady_clock::now() - start;
            dropped = true;
            return;
          }
        }
      }
    });
    // Meanwhile, normal requests are answered while the slow one is still connected (the
    // single worker is not held by it).
    REQUIRE(fedswarm::test::wait_until([&] { return server->stats().connections_accepted >= 1; }, std::chrono::seconds(10)));
    for (int i = 0; i < 3; ++i) {
      CHECK(fetch(server->port(), tls, Site::url(kSmall)).status == 200);
      if (i == 0) CHECK_FALSE(dropped.load());
    }
    trickle.join();
    REQUIRE(dropped);
    // Never before its header timeout (the server's own timer; an upper bound would only
    // measure the machine's load).
    CHECK(dropped_after >= std::chrono::milliseconds(4900));
    CHECK(fedswarm::test::wait_until([&] { return server->stats().timeouts >= 1; }, std::chrono::seconds(10)));
  }
}

TEST_CASE("a reader that stops reading is dropped after the idle timeout") {
  Site site(48u << 20);  // more than the loopback socket buffers hold
  for (bool tls : {false, true}) {
    CAPTURE(tls);
    HttpServerOptions o;
    o.tls = tls;
    o.idle_timeout_ms = 1000;
    auto server = site.serve(o);
    Client stalled(server->port(), tls);
    stalled.send("GET " + Site::url(kBig) + " HTTP/1.1\r\nHost: a\r\n\r\n");
    const auto start = std::chrono::steady_clock::now();
    while (server->stats().timeouts == 0 && std::chrono::steady_clock::now() - start < std::chrono::seconds(10))
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(server->stats().timeouts == 1);
    CHECK(server->stats().file_bytes_sent < site.big.size());
    CHECK(fetch(server->port(), tls, Site::url(kSmall)).body == site.small);
  }
}

TEST_CASE("connections beyond max_connections are closed at once") {
  Site site;
  HttpServerOptions o;
  o.tls = false;
  o.max_connections = 1;
  auto server = site.serve(o);
  Client first(server->port(), false);
  CHECK(first.get("/nothing").status == 404);  // accepted and open
  Client second(server->port(), false);
  second.send("GET /nothing HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(second.read().closed);
  CHECK(server->stats().connections_refused == 1);
  CHECK(first.get("/nothing").status == 404);
}

TEST_CASE("the listen address in use is an http_listen error") {
  Site site;
  auto server = site.serve({});
  HttpServerOptions o;
  o.listen = server->local_address();
  o.tls = false;
  auto again = HttpServer::start(o, {}, nullptr);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().reason == "http_listen");
  CHECK(again.error().message.find(server->local_address()) != std::string::npos);
}

TEST_CASE("exact-path routes (/metrics): their handler's answer, a routes-only server serves nothing else") {
  HttpServerOptions o;
  o.tls = false;
  HttpServer::Routes routes{{"/metrics", [](std::string_view path, std::string_view query) {
                               return HttpAnswer{200, "text/plain; version=0.0.4", std::string(path) + "|" + std::string(query), {}};
                             }}};
  auto server = HttpServer::start(o, {}, nullptr, {}, {}, routes);
  REQUIRE(server.ok());
  const std::uint16_t port = (*server)->port();
  Response m = fetch(port, false, "/metrics?x=1");
  CHECK(m.status == 200);
  CHECK(m.body == "/metrics|x=1");
  CHECK(m.field("Content-Type") == "text/plain; version=0.0.4");
  CHECK(fetch(port, false, "/metrics", "", "HEAD").status == 200);
  CHECK(fetch(port, false, "/metrics/x").status == 404);
  CHECK(fetch(port, false, "/esg-search/search").status == 404);
  CHECK(fetch(port, false, "/thredds/fileServer/a/b.nc").status == 404);
  CHECK((*server)->stats().responses_2xx == 2);
}
