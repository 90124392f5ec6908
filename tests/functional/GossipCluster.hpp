// GossipCluster: real `fedswarm node run` processes for functional tests, each on its own
// loopback address (127.0.<net>.2, .3, …) with its own home, all in one roster.
//
// Contract: test thread only. Ports are picked free at set-up; every wait has a
// deadline. Nodes run with short gossip timings (interval 200 ms) so tests stay quick.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <random>

#include "FunctionalFixture.hpp"

namespace fedswarm::test {

struct ClusterTimings {
  int interval_ms = 200;
  int suspect_after_ms = 1500;
  int down_after_ms = 4000;
  int handshake_timeout_ms = 2000;
  int backoff_max_ms = 2000;
};

// True if `ip:port` can be bound now.
inline bool port_free(const std::string& ip, int port) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return false;
  int one = 1;
  ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  bool ok = ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(s);
  return ok;
}

// Replaces `key = …` lines of config.toml (the keys exist: init writes every setting).
inline void set_config(const std::string& home, const std::map<std::string, std::string>& values) {
  auto path = std::filesystem::path(home) / "config.toml";
  std::string text = read_file(path);
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    for (const auto& [k, v] : values)
      if (line.rfind(k + " = ", 0) == 0) line = k + " = " + v;
    out += line + "\n";
    pos = end + 1;
  }
  write_file(path, out);
}

class GossipCluster {
 public:
  // `net` picks the third octet so concurrently running tests never share addresses.
  GossipCluster(CliWorld& world, int net, std::size_t n, ClusterTimings timings = {}) : w_(world), timings_(timings) {
    std::mt19937 rng(std::random_device{}());
    for (int attempt = 0; attempt < 50; ++attempt) {
      port_ = 20000 + static_cast<int>(rng() % 30000);
      bool all = true;
      for (std::size_t i = 0; i < n + 4 && all; ++i) all = port_free(ip(net, i), port_);
      if (all) break;
    }
    net_ = net;
    for (std::size_t i = 0; i < n; ++i) add_member("node" + std::to_string(i), "2", {});
    if (n > 0) issue_roster();
  }

  // A member home (not started): listen address i, granted `institutions` (none = all).
  // `init_args` go to `fedswarm init` after --listen (e.g. --http-listen).
  std::string add_member(const std::string& site, const std::string& tier, const std::vector<std::string>& institutions,
                         const std::vector<std::string>& init_args = {}) {
    std::size_t i = homes_.size();
    std::string listen = ip(net_, i) + ":" + std::to_string(port_);
    std::vector<std::string> args{"--listen", listen};
    args.insert(args.end(), init_args.begin(), init_args.end());
    std::string home = w_.node(site, tier, institutions, args, false);
    set_config(home, {{"interval_ms", std::to_string(timings_.interval_ms)},
                      {"suspect_after_ms", std::to_string(timings_.suspect_after_ms)},
                      {"down_after_ms", std::to_string(timings_.down_after_ms)},
                      {"handshake_timeout_ms", std::to_string(timings_.handshake_timeout_ms)},
                      {"backoff_max_ms", std::to_string(timings_.backoff_max_ms)}});
    homes_.push_back(home);
    listens_.push_back(listen);
    procs_.emplace_back();
    return home;
  }

  // A new roster with every member so far, imported into every home.
  void issue_roster() { w_.refresh_roster(homes_); }

  std::size_t size() const { return homes_.size(); }
  const std::string& home(std::size_t i) const { return homes_[i]; }
  const std::string& listen(std::size_t i) const { return listens_[i]; }
  std::string address(std::size_t i) const { return ip(net_, i); }
  int port() const { return port_; }

  void start(std::size_t i) {
    procs_[i] = std::make_unique<Process>(
        std::vector<std::string>{FEDSWARM_BIN, "--home", homes_[i], "node", "run", "--log-level", "debug"},
        w_.logs() / ("node" + std::to_string(i) + "-" + std::to_string(++starts_)));
    bool up = wait_until([&] { return running_status(i).has_value() || !procs_[i]->running(); }, std::chrono::seconds(20));
    INFO("node " << i << " stderr: " << procs_[i]->err());
    REQUIRE(up);
    REQUIRE(procs_[i]->running());
  }
  void start_all() {
    for (std::size_t i = 0; i < homes_.size(); ++i) start(i);
  }
  // SIGTERM and wait for a clean exit.
  void stop(std::size_t i) {
    if (!procs_[i]) return;
    procs_[i]->kill(SIGTERM);
    auto r = procs_[i]->wait(std::chrono::seconds(20));
    INFO("node " << i << " stderr: " << procs_[i]->err());
    REQUIRE(r.has_value());
    CHECK(r->exit_code == 0);
    procs_[i].reset();
  }
  void signal(std::size_t i, int sig) { procs_[i]->kill(sig); }
  void forget(std::size_t i) { procs_[i].reset(); }  // after SIGKILL
  Process& process(std::size_t i) { return *procs_[i]; }

  // `status --json` of a running node, or nullopt if it does not answer.
  std::optional<nlohmann::json> running_status(std::size_t i) {
    auto r = w_.run({"--json", "--home", homes_[i], "status"});
    if (r.exit_code != 0) return std::nullopt;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded() || !j.value("running", false)) return std::nullopt;
    return j;
  }
  nlohmann::json status(std::size_t i) {
    auto s = running_status(i);
    REQUIRE(s.has_value());
    return *s;
  }
  nlohmann::json peers(std::size_t i) { return w_.json({"--home", homes_[i], "peers"}); }
  std::uint64_t refused(std::size_t i, const std::string& reason) {
    auto s = status(i);
    return s["refused"].value(reason, std::uint64_t{0});
  }

  // Records in a home's catalog (works whether or not the node runs).
  std::uint64_t records(std::size_t i) {
    auto r = w_.run({"--json", "--home", homes_[i], "status"});
    if (r.exit_code != 0) return 0;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_discarded() ? 0 : j.value("records", std::uint64_t{0});
  }

  // Waits until every listed node holds `n` records.
  bool wait_records(const std::vector<std::size_t>& nodes, std::uint64_t n,
                    std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    return wait_until(
        [&] {
          for (auto i : nodes)
            if (records(i) != n) return false;
          return true;
        },
        timeout, std::chrono::milliseconds(100));
  }
  std::vector<std::size_t> all() const {
    std::vector<std::size_t> v(homes_.size());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = i;
    return v;
  }

  static std::string ip(int net, std::size_t i) { return "127.0." + std::to_string(net) + "." + std::to_string(2 + i); }

 private:
  CliWorld& w_;
  ClusterTimings timings_;
  int net_ = 0;
  int port_ = 0;
  int starts_ = 0;
  std::vector<std::string> homes_, listens_;
  std::vector<std::unique_ptr<Process>> procs_;
};

}  // namespace fedswarm::test
