// http_bench: the HTTP face of a node at federation scale (issue 12). Generates N signed
// dataset versions with the catalog bench's workload (15 publishers, a Tier-1 copy of
// every version) into node A's catalog, publishes one large file at A, starts `fedswarm
// node run` with HTTPS, and measures, against the comparisons:
//   - the portal query (type=Dataset, project=CMIP6, latest, 15 facet counts, limit 10,
//     Solr JSON) over HTTPS with keep-alive: p50/p99 and requests/s with 1 and 16
//     concurrent clients (ESGF's production index: QTime 2,595 ms for the same query,
//     tests/fixtures/esgf_search/cmip6_datasets_latest_with_facets.json);
//   - a File query by dataset_id (what pyesgf's file_context() sends), 1 client;
//   - a /metrics scrape (issue 13's target: ≤ 10 ms at 1 M versions) and the dashboard's
//     /api/v1/status, 1 client;
//   - a file download 1 → 1 over loopback with curl: A's /thredds/fileServer against
//     nginx serving the same file with the same certificate in the same run (target ≥
//     0.9× nginx's throughput), median of 3 alternating runs.
// Prints a Markdown table and the command line. Not a test: no assertions on time.
//
// Usage: http_bench [--n N] [--dir DIR] [--keep] [--fedswarm PATH] [--file-mib M] [--requests R]
// Needs nginx (Debian nginx-light) and curl; installs neither.
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "BenchProcess.hpp"
#include "BenchStats.hpp"
#include "CatalogWorkload.hpp"
#include "Process.hpp"
#include "fedswarm/engine/NodeHome.hpp"

using namespace fedswarm;
using namespace fedswarm::bench;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

struct Options {
  std::uint64_t n = 1'000'000;
  std::filesystem::path dir;
  bool keep = false;
  std::string fedswarm = FEDSWARM_BIN;
  std::uint64_t file_mib = 1024;
  int requests = 200;
};

// One keep-alive HTTPS connection (certificate not checked: the bench's own).
class HttpsClient {
 public:
  HttpsClient(const std::string& ip, int port) : ssl_(asio::ssl::context::tls_client), stream_(io_, ssl_) {
    ssl_.set_verify_mode(asio::ssl::verify_none);
    asio::ip::tcp::endpoint ep(asio::ip::make_address(ip), static_cast<unsigned short>(port));
    beast::get_lowest_layer(stream_).connect(ep);
    stream_.handshake(asio::ssl::stream_base::client);
    host_ = ip + ":" + std::to_string(port);
  }
  // GET `target`; returns the status and the body.
  std::pair<unsigned, std::string> get(const std::string& target) {
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, host_);
    req.keep_alive(true);
    http::write(stream_, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 30);
    http::read(stream_, buffer_, parser);
    auto res = parser.release();
    return {res.result_int(), std::move(res.body())};
  }

 private:
  asio::io_context io_;
  asio::ssl::context ssl_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::string host_;
};

std::string portal_target() {
  std::string facets;
  for (const auto& f : kFacets) facets += (facets.empty() ? "" : ",") + f;
  return "/esg-search/search?type=Dataset&project=CMIP6&latest=true&limit=10&format=application%2Fsolr%2Bjson&facets=" +
         facets;
}

struct LoadFigures {
  Percentiles ms;
  double per_second = 0;
  std::uint64_t failures = 0;
};

// `clients` threads, each with its own connection, each sending `per_client` requests.
LoadFigures load(const std::string& ip, int port, int clients, int per_client,
                 const std::function<std::string(int, int)>& target) {
  std::vector<std::vector<double>> ms(static_cast<std::size_t>(clients));
  std::atomic<std::uint64_t> failures{0};
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      try {
        HttpsClient client(ip, port);
        for (int i = 0; i < per_client; ++i) {
          const auto s = Clock::now();
          auto [status, body] = client.get(target(c, i));
          if (status != 200) ++failures;
          ms[static_cast<std::size_t>(c)].push_back(seconds_since(s) * 1e3);
        }
      } catch (const std::exception& e) {
        std::cerr << "client " << c << ": " << e.what() << "\n";
        ++failures;
      }
    });
  for (auto& t : threads) t.join();
  LoadFigures f;
  std::vector<double> all;
  for (auto& v : ms) all.insert(all.end(), v.begin(), v.end());
  f.per_second = static_cast<double>(all.size()) / seconds_since(t0);
  f.ms = percentiles(std::move(all));
  f.failures = failures;
  return f;
}

// curl's HTTP status and average download speed (bytes/s) for `url`; status 0 when
// nothing answered.
std::pair<int, double> curl_get(const std::string& url) {
  const std::string cmd = "curl -sk -o /dev/null -w '%{http_code} %{speed_download}' '" + url + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {0, 0.0};
  char buf[256] = {};
  std::size_t k = std::fread(buf, 1, sizeof buf - 1, p);
  ::pclose(p);
  std::istringstream in(std::string(buf, k));
  int code = 0;
  double speed = 0;
  in >> code >> speed;
  return {code, speed};
}
double curl_speed(const std::string& url) {
  auto [code, speed] = curl_get(url);
  return code == 200 ? speed : 0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

NodeHome make_home(const std::filesystem::path& dir, const std::string& ip, int port) {
  Config c = Config::defaults("A", Tier::tier2);
  c.listen = ip + ":" + std::to_string(port);
  c.swarm_port = static_cast<std::uint16_t>(port + 1);
  c.data_root = dir / "data";
  c.http.listen = ip + ":" + std::to_string(port + 2);
  auto h = NodeHome::init(dir, c);
  if (!h) throw std::runtime_error(h.error().message);
  return std::move(*h);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  std::string cmdline;
  for (int i = 0; i < argc; ++i) cmdline += (i ? " " : "") + std::string(argv[i]);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--n") opt.n = std::stoull(value());
    else if (a == "--dir") opt.dir = value();
    else if (a == "--keep") opt.keep = true;
    else if (a == "--fedswarm") opt.fedswarm = value();
    else if (a == "--file-mib") opt.file_mib = std::stoull(value());
    else if (a == "--requests") opt.requests = std::stoi(value());
    else {
      std::cerr << "usage: http_bench [--n N] [--dir DIR] [--keep] [--fedswarm PATH] [--file-mib M] [--requests R]\n";
      return 2;
    }
  }
  if (std::system("test -x /usr/sbin/nginx && command -v curl >/dev/null") != 0) {
    std::cerr << "http_bench needs nginx and curl: apt-get install nginx-light curl\n";
    return 2;
  }
  if (!crypto_init()) return 1;
  opt.dir = work_dir(opt.dir, "fedswarm-http-bench");
  std::filesystem::create_directories(opt.dir);
  const int port = 20000 + static_cast<int>(getpid() % 20000);
  const std::string ip = "127.0.81.2", nginx_ip = "127.0.81.3";
  const int http_port = port + 2;

  // --- the catalog -------------------------------------------------------------------------
  NodeHome a = make_home(opt.dir / "a", ip, port);
  WorkloadOptions wo;
  wo.n = opt.n;
  wo.tier1_copies = true;
  RosterMember ma = test::member(SigningKey::from_seed(SigningKey::Seed{}), "A", Tier::tier2);
  ma.key = a.key().public_key();
  ma.endpoints = {ip + ":" + std::to_string(port)};
  ma.swarm_port = static_cast<std::uint16_t>(port + 1);
  ma.http_url = "https://" + ip + ":" + std::to_string(http_port);
  wo.extra_members = {ma};
  PublisherGrant ga;
  ga.key = a.key().public_key();
  ga.projects = {"CMIP6"};
  wo.extra_grants = {ga};
  const std::filesystem::path fixtures = FEDSWARM_FIXTURES_DIR;
  auto counts = nlohmann::json::parse(std::ifstream(fixtures / "esgf_search" / "cmip6_facet_counts.json"))["facets"];
  test::ManifestFactory factory{std::filesystem::path(FEDSWARM_CV_DIR)};
  Workload work(wo, counts, factory);
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  {
    auto cat = a.open_catalog(false);
    if (!cat) throw std::runtime_error(cat.error().message);
    if (auto s = (*cat)->pin_authority(work.authority().public_key()); !s) throw std::runtime_error(s.error().message);
    std::uint64_t total = 0;
    const auto t0 = Clock::now();
    work.stream(100'000, [&](const std::vector<Envelope>& chunk) {
      if (chunk.size() == 1 && chunk[0].kind == RecordKind::roster)
        if (auto s = (*cat)->import_roster(chunk[0], now); !s) throw std::runtime_error(s.error().message);
      for (std::size_t i = 0; i < chunk.size(); i += 10'000) {
        std::span<const Envelope> part(chunk.data() + i, std::min<std::size_t>(10'000, chunk.size() - i));
        if (auto r = (*cat)->ingest_batch(part, now, true); !r) throw std::runtime_error(r.error().message);
      }
      total += chunk.size();
      std::fprintf(stderr, "\rwriting A's catalog: %llu records, %.0f records/s", static_cast<unsigned long long>(total),
                   static_cast<double>(total) / seconds_since(t0));
    });
    std::fprintf(stderr, "\n");
  }

  // --- one large file, published by A --------------------------------------------------------
  const std::string rel = "CMIP6/CMIP/IPSL/IPSL-CM6A-LR/historical/r1i1p1f1/Amon/tas/gr/v20300101";
  const std::string name = "tas_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_185001-201412.nc";
  const auto archive = opt.dir / "archive";
  std::filesystem::create_directories(archive / rel);
  {
    std::ofstream f(archive / rel / name, std::ios::binary);
    std::mt19937_64 rng(7);
    std::vector<std::uint64_t> block(1 << 17);
    for (std::uint64_t m = 0; m < opt.file_mib; ++m) {
      for (auto& x : block) x = rng();
      f.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(block.size() * 8));
    }
  }
  const auto logs = opt.dir / "logs";
  auto published = test::run_fedswarm({"--home", (opt.dir / "a").string(), "publish", archive.string()}, logs / "publish",
                                      {}, std::chrono::minutes(30));
  if (published.exit_code != 0) throw std::runtime_error("publish failed: " + published.err);

  // --- the node and nginx --------------------------------------------------------------------
  test::Process node({opt.fedswarm, "--home", (opt.dir / "a").string(), "node", "run", "--log-level", "info"}, logs / "a");
  const bool up = test::wait_until(
      [&] {
        try {
          HttpsClient c(ip, http_port);
          return c.get("/esg-search/search?limit=0").first == 200;
        } catch (const std::exception&) {
          return false;
        }
      },
      std::chrono::minutes(5), std::chrono::milliseconds(200));
  if (!up) throw std::runtime_error("node A's HTTPS face did not answer: " + node.err());
  const auto conf = opt.dir / "nginx.conf";
  {
    std::ofstream f(conf);
    f << "daemon off; user root root; worker_processes 1; pid " << (opt.dir / "nginx.pid").string() << ";\n"
      << "error_log " << (opt.dir / "nginx-error.log").string() << ";\nevents {}\n"
      << "http { access_log off; sendfile on; tcp_nopush on;\n"
      << "  server { listen " << nginx_ip << ":" << http_port << " ssl;\n"
      << "    ssl_certificate " << (opt.dir / "a" / "tls" / "cert.pem").string() << ";\n"
      << "    ssl_certificate_key " << (opt.dir / "a" / "tls" / "key.pem").string() << ";\n"
      << "    location /thredds/fileServer/ { alias " << archive.string() << "/; } } }\n";
  }
  test::Process nginx({"/usr/sbin/nginx", "-c", conf.string(), "-p", opt.dir.string()}, logs / "nginx");
  const std::string nginx_base = "https://" + nginx_ip + ":" + std::to_string(http_port);
  if (!test::wait_until([&] { return curl_get(nginx_base + "/").first != 0 || !nginx.running(); }, std::chrono::seconds(30)) ||
      !nginx.running())
    throw std::runtime_error("nginx did not start: " + nginx.err() + "; see " + (opt.dir / "nginx-error.log").string());

  // --- measurements --------------------------------------------------------------------------
  const std::string portal = portal_target();
  auto first = HttpsClient(ip, http_port).get(portal);
  auto portal_json = nlohmann::json::parse(first.second, nullptr, false);
  const std::uint64_t num_found = portal_json.is_discarded() ? 0 : portal_json["response"].value("numFound", std::uint64_t{0});
  const auto one = load(ip, http_port, 1, opt.requests, [&](int, int) { return portal; });
  const auto sixteen = load(ip, http_port, 16, std::max(1, opt.requests / 4), [&](int, int) { return portal; });

  // File queries by dataset_id: ids from a few pages of the portal query.
  std::vector<std::string> ids;
  {
    HttpsClient c(ip, http_port);
    for (int page = 0; ids.size() < 200 && page < 40; ++page) {
      auto [st, body] = c.get("/esg-search/search?type=Dataset&latest=true&format=application%2Fsolr%2Bjson&limit=10&offset=" +
                              std::to_string(page * 997));
      auto j = nlohmann::json::parse(body, nullptr, false);
      if (j.is_discarded()) break;
      for (const auto& d : j["response"]["docs"]) ids.push_back(d.value("id", ""));
    }
  }
  auto escape = [](const std::string& s) {
    std::string out;
    for (unsigned char ch : s) {
      if (std::isalnum(ch) || ch == '.' || ch == '-' || ch == '_') out += static_cast<char>(ch);
      else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", ch);
        out += buf;
      }
    }
    return out;
  };
  const auto files = load(ip, http_port, 1, static_cast<int>(ids.size()), [&](int, int i) {
    return "/esg-search/search?type=File&format=application%2Fsolr%2Bjson&dataset_id=" +
           escape(ids[static_cast<std::size_t>(i)]);
  });

  // The operator's pages: a Prometheus scrape and the dashboard's status call, 1 client.
  const auto metrics = load(ip, http_port, 1, 50, [&](int, int) { return std::string("/metrics"); });
  const auto status = load(ip, http_port, 1, 50, [&](int, int) { return std::string("/api/v1/status"); });

  const std::string path = "/thredds/fileServer/" + rel + "/" + name;
  std::vector<double> ours, theirs;
  for (int run = 0; run < 3; ++run) {
    ours.push_back(curl_speed("https://" + ip + ":" + std::to_string(http_port) + path));
    theirs.push_back(curl_speed(nginx_base + path));
  }
  const double ours_bps = median(ours), nginx_bps = median(theirs);

  // --- the table -----------------------------------------------------------------------------
  auto ms = [](const Percentiles& p) { return fmt(p.p50, "%.2f") + " / " + fmt(p.p99, "%.2f") + " ms"; };
  std::printf("\nhttp_bench: %llu dataset versions (numFound of the portal query: %llu), HTTPS, keep-alive\n\n",
              static_cast<unsigned long long>(opt.n), static_cast<unsigned long long>(num_found));
  std::printf("| figure | fedswarm | comparison |\n|---|---|---|\n");
  std::printf("| portal query, 1 client (p50 / p99) | %s, %s req/s | ESGF production index: QTime 2,595 ms |\n",
              ms(one.ms).c_str(), fmt(one.per_second).c_str());
  std::printf("| portal query, 16 clients (p50 / p99) | %s, %s req/s | ESGF production index: QTime 2,595 ms |\n",
              ms(sixteen.ms).c_str(), fmt(sixteen.per_second).c_str());
  std::printf("| File query by dataset_id, 1 client (p50 / p99) | %s over %zu datasets | — |\n", ms(files.ms).c_str(),
              files.ms.n);
  std::printf("| /metrics scrape, 1 client (p50 / p99) | %s | target ≤ 10 ms at 1 M versions |\n", ms(metrics.ms).c_str());
  std::printf("| /api/v1/status (dashboard), 1 client (p50 / p99) | %s | — |\n", ms(status.ms).c_str());
  std::printf("| download %s, 1 → 1, TLS (median of 3) | %s/s | nginx: %s/s (ratio %.2f×, target ≥ 0.9×) |\n",
              human(static_cast<double>(opt.file_mib) * 1048576.0).c_str(), human(ours_bps).c_str(),
              human(nginx_bps).c_str(), nginx_bps > 0 ? ours_bps / nginx_bps : 0.0);
  std::printf("| failed requests | %llu | — |\n",
              static_cast<unsigned long long>(one.failures + sixteen.failures + files.failures + metrics.failures + status.failures));
  std::printf("\ncommand: %s\n", cmdline.c_str());

  nginx.kill(SIGTERM);
  node.kill(SIGTERM);
  node.wait(std::chrono::seconds(60));
  nginx.wait(std::chrono::seconds(10));
  if (!opt.keep) std::filesystem::remove_all(opt.dir);
  return 0;
}
