// Functional: the HTTP face of real `fedswarm node run` processes (DESIGN §9, issue 12),
// driven the way ESGF users drive an ESGF index and data node.
// A federation of three: IPSL (Tier-2) publishes, DKRZ (Tier-1) takes the Tier-1 copy by
// the rule, DARK (a dark repository) subscribes to everything. Every node serves HTTPS
// with the certificate `init` made.
// - The real pyesgf client (tests/clients/esgf-pyclient) against the dark repository's
//   node, with distrib=True and False: hit_count and facet_counts equal `fedswarm
//   search`; file_context() lists every file with checksum, size and tracking id;
//   download_url downloads a byte-identical file; get_download_script() downloads and
//   verifies every file (tests/functional/esgf_client_check.py).
// - curl: replica records (DKRZ's copy everywhere, DARK's only at DARK), a download from
//   the Tier-1 copy by its url, the error cases (unknown parameter, empty value, limit too
//   big), Range and HEAD, every path traversal form, a retracted version answering 410,
//   and slow clients that never finish their request not stopping others being served.
// Loopback net 127.0.82.x.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <set>

#include "Curl.hpp"
#include "HttpTrio.hpp"
#include "SwarmKit.hpp"
#include "fedswarm/engine/SampleTree.hpp"

using namespace fedswarm;
using namespace fedswarm::test;
using namespace fedswarm::test::swarmkit;

namespace {

namespace fs = std::filesystem;

using Answer = CurlAnswer;

nlohmann::json json_of(const Answer& a) {
  INFO("status " << a.status << " body " << a.body.substr(0, 2000));
  REQUIRE(a.status == 200);
  auto j = nlohmann::json::parse(a.body, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

// A TCP connection that opens and then sends `trickle` one byte at a time (or nothing).
class SlowClient {
 public:
  SlowClient(const std::string& ip, int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~SlowClient() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool send_byte(char c) { return ::send(fd_, &c, 1, MSG_NOSIGNAL) == 1; }
  // True once the server closed the connection (read returns 0 or an error).
  bool closed_by_server() {
    timeval tv{0, 100'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[256];
    ssize_t k = ::recv(fd_, buf, sizeof buf, 0);
    return k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::string sha256_hex_of(const std::string& bytes) {
  const fs::path p = fs::temp_directory_path() / ("fedswarm-sha-" + std::to_string(::getpid()));
  write_file(p, bytes);
  const std::string out = run_capture("sha256sum '" + p.string() + "'");
  fs::remove(p);
  return out.substr(0, 64);
}

}  // namespace

TEST_CASE("http - pyesgf, curl and wget scripts against a federation's nodes over HTTPS") {
  CliWorld w;
  HttpTrio trio(w, 82);
  GossipCluster& c = trio.c;
  const auto& sites = trio.sites;
  auto base = [&](std::size_t i) { return trio.base(i); };
  auto ca = [&](std::size_t i) { return trio.ca(i); };
  for (std::size_t i = 0; i < c.size(); ++i) REQUIRE(fs::exists(ca(i)));

  SampleSpec spec;
  spec.datasets = 3;
  spec.versions_per_dataset = 1;
  spec.files_per_version = 2;
  spec.file_size = 200 * 1024;
  auto sample = write_sample_tree(w.dir() / "archive", test_seed(), spec);
  REQUIRE(sample.ok());
  c.start_all();
  w.must({"--home", c.home(2), "subscribe", "add", "project=CMIP6", "--name", "all"});
  w.must({"--home", c.home(0), "publish", (w.dir() / "archive").string()});

  // DKRZ holds the Tier-1 copy of every version and DARK its own, and both replica
  // records have reached DARK.
  auto complete_at = [&](std::size_t i, const std::string& id) {
    auto t = transfer(w, c.home(i), id);
    return t && (*t)["kind"] == "seed";
  };
  const bool placed = wait_until(
      [&] {
        for (const auto& v : *sample)
          for (std::size_t i : {1u, 2u})
            if (!complete_at(i, v.instance_id())) return false;
        auto shown = w.run({"--json", "--home", c.home(2), "show", sample->front().instance_id()});
        auto j = nlohmann::json::parse(shown.out, nullptr, false);
        return !j.is_discarded() && j["replicas"].size() == 1 && j["dark_copies"].size() == 1;
      },
      std::chrono::seconds(120), std::chrono::milliseconds(200));
  INFO("DKRZ log:\n" << log_tail(c.home(1)) << "\nDARK log:\n" << log_tail(c.home(2)));
  REQUIRE(placed);

  SUBCASE("pyesgf: search, file_context, download_url and the wget script, distrib True and False") {
    const std::vector<std::string> facets = {"source_id", "variable_id", "experiment_id"};
    auto searched = w.json({"--home", c.home(2), "search", "project=CMIP6", "--facets", "source_id,variable_id,experiment_id"});
    nlohmann::json expect_counts = nlohmann::json::object();
    for (const auto& f : facets) {
      nlohmann::json m = nlohmann::json::object();
      const auto& flat = searched["facet_counts"]["facet_fields"][f];
      for (std::size_t k = 0; k + 1 < flat.size(); k += 2) m[flat[k].get<std::string>()] = flat[k + 1];
      expect_counts[f] = m;
    }
    nlohmann::json files = nlohmann::json::object();
    for (const auto& v : *sample) {
      auto shown = w.json({"--home", c.home(2), "show", v.instance_id()});
      nlohmann::json list = nlohmann::json::array();
      for (const auto& f : shown["files"])
        list.push_back({{"name", f["path"]}, {"size", f["size"]}, {"sha256", f["sha256"]}, {"tracking_id", f["tracking_id"]}});
      files[v.instance_id()] = list;
    }
    const fs::path work = w.dir() / "pyesgf";
    fs::create_directories(work);
    nlohmann::json check{{"url", base(2) + "/esg-search"},
                         {"ca", ca(2)},
                         {"constraints", nlohmann::json::object()},
                         {"facets", facets},
                         {"hit_count", searched["response"]["numFound"]},
                         {"facet_counts", expect_counts},
                         {"files", files},
                         {"workdir", work.string()}};
    // Every node's certificate is self-signed: the wget script and downloads from the
    // holders' nodes trust all three.
    std::string bundle;
    for (std::size_t i = 0; i < c.size(); ++i) bundle += read_file(ca(i));
    write_file(work / "ca-bundle.pem", bundle);
    check["ca"] = (work / "ca-bundle.pem").string();
    write_file(work / "spec.json", check.dump(2));
    Process py({"/usr/bin/python3", FEDSWARM_SOURCE_DIR "/tests/functional/esgf_client_check.py", (work / "spec.json").string()},
               w.logs() / "pyesgf");
    auto r = py.wait(std::chrono::seconds(600));
    REQUIRE(r.has_value());
    INFO("pyesgf check stdout:\n" << r->out << "\nstderr:\n" << r->err);
    CHECK(r->exit_code == 0);
  }

  SUBCASE("curl: replica records, a download from the Tier-1 copy, errors, Range, traversal, 410, slow clients") {
    const fs::path work = w.dir() / "curl";
    fs::create_directories(work);
    const SampleVersion& v = sample->front();
    const std::string id = v.instance_id();
    auto search = [&](std::size_t i, const std::string& q) {
      return curl(work, ca(i), base(i) + "/esg-search/search?format=application%2Fsolr%2Bjson&" + q);
    };

    // Replica records: DKRZ's copy is listed by every node; DARK's only by DARK itself.
    for (std::size_t i = 0; i < c.size(); ++i) {
      INFO("asking " << sites[i]);
      auto j = json_of(search(i, "replica=true&instance_id=" + id));
      std::set<std::string> nodes;
      for (const auto& d : j["response"]["docs"]) {
        CHECK(d["replica"] == true);
        nodes.insert(d["data_node"].get<std::string>());
      }
      CHECK(j["response"]["numFound"] == j["response"]["docs"].size());
      CHECK(nodes == (i == 2 ? std::set<std::string>{"DKRZ", "DARK"} : std::set<std::string>{"DKRZ"}));
      auto primary = json_of(search(i, "replica=False&instance_id=" + id));
      REQUIRE(primary["response"]["docs"].size() == 1);
      CHECK(primary["response"]["docs"][0]["data_node"] == "IPSL");
      CHECK(primary["response"]["docs"][0]["id"] == id + "|IPSL");
    }

    // A file of the Tier-1 copy, found and downloaded by its url from the dark repository.
    auto files = json_of(search(2, "type=File&dataset_id=" + id + "%7CDKRZ"));
    REQUIRE(files["response"]["numFound"] == v.files.size());
    const auto& doc = files["response"]["docs"][0];
    const std::string url = doc["url"][0].get<std::string>();
    INFO("file url " << url);
    CHECK(url.rfind(base(1) + "/thredds/fileServer/", 0) == 0);
    const std::string suffix = "|application/netcdf|HTTPServer";
    CHECK(url.size() > suffix.size());
    CHECK(url.substr(url.size() - suffix.size()) == suffix);
    const std::string file_url = url.substr(0, url.find('|'));
    auto got = curl(work, ca(1), file_url);
    REQUIRE(got.status == 200);
    CHECK(sha256_hex_of(got.body) == doc["checksum"][0].get<std::string>());
    const std::string original = read_file(v.directory / doc["title"].get<std::string>());
    CHECK(got.body == original);
    CHECK(got.headers.find(doc["checksum"][0].get<std::string>()) != std::string::npos);  // ETag

    // Range and HEAD.
    auto part = curl(work, ca(1), file_url, {"-r", "100-199"});
    CHECK(part.status == 206);
    CHECK(part.body == original.substr(100, 100));
    auto tail = curl(work, ca(1), file_url, {"-r", "-10"});
    CHECK(tail.status == 206);
    CHECK(tail.body == original.substr(original.size() - 10));
    CHECK(curl(work, ca(1), file_url, {"-r", std::to_string(original.size() + 10) + "-"}).status == 416);
    auto head = curl(work, ca(1), file_url, {"-I"});
    CHECK(head.status == 200);
    CHECK(head.headers.find("Content-Length: " + std::to_string(original.size())) != std::string::npos);

    // The errors real clients parse.
    auto unknown = search(2, "projetc=CMIP6");
    CHECK(unknown.status == 400);
    CHECK(unknown.body.find("Invalid HTTP query parameter=projetc") != std::string::npos);
    CHECK(search(2, "limit=10001").status == 400);
    CHECK(search(2, "experiment_id=").status == 400);
    CHECK(json_of(search(2, "limit=10000"))["response"]["numFound"] == sample->size());

    // Traversal: never a file outside the DRS tree, whatever the spelling.
    const std::string fsv = base(1) + "/thredds/fileServer/";
    const std::string rel = file_url.substr(fsv.size());
    for (const std::string& bad :
         {std::string("../../../../etc/passwd"), std::string("%2e%2e/%2e%2e/%2e%2e/etc/passwd"),
          std::string("%2E%2E%2F%2E%2E%2Fconfig.toml"), std::string("..%2f..%2fconfig.toml"),
          std::string("/etc/passwd"), std::string("%2fetc%2fpasswd"), rel + "/../../../../../../config.toml",
          std::string(".staging/") + id, std::string(".quarantine/") + id, std::string("CMIP6/..%5c..%5cconfig.toml")}) {
      INFO("path " << bad);
      CHECK(curl(work, ca(1), fsv + bad).status == 404);
    }

    // Slow clients: one connection that never sends, one that trickles a byte every
    // 200 ms; a normal search is answered meanwhile, and the server drops both.
    SlowClient silent(c.address(1), trio.http_port), trickle(c.address(1), trio.http_port);
    REQUIRE(silent.connected());
    REQUIRE(trickle.connected());
    trickle.send_byte('\x16');
    CHECK(json_of(search(1, "limit=1"))["response"]["numFound"] == sample->size());
    bool trickle_dropped = false;
    const bool dropped = wait_until(
        [&] {
          trickle_dropped = trickle_dropped || !trickle.send_byte('\x03') || trickle.closed_by_server();
          return trickle_dropped && silent.closed_by_server();
        },
        std::chrono::seconds(90), std::chrono::milliseconds(200));
    CHECK(dropped);

    // A retracted version answers 410 with its reason and errata id.
    w.must({"--home", c.home(0), "retract", id, "--reason", "wrong calendar", "--errata", "ERR-410"});
    REQUIRE(wait_until([&] { return curl(work, ca(1), file_url).status == 410; }, std::chrono::seconds(60)));
    auto gone = curl(work, ca(1), file_url);
    CHECK(gone.body.find("wrong calendar") != std::string::npos);
    CHECK(gone.body.find("ERR-410") != std::string::npos);
  }
}
