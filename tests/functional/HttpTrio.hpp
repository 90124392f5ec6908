// HttpTrio: the three-site federation the HTTP-face tests run against — IPSL (Tier-2,
// publishes), DKRZ (Tier-1 offering 1 GiB, takes the copy by the rule), DARK (a dark
// repository) — each serving HTTPS on its own loopback address with the certificate
// `init` made, and the [policy] shortened as in the Tier-1 tests. Not started.
//
// Contract: test thread only; `net` is the test's own third octet.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "GossipCluster.hpp"

namespace fedswarm::test {

struct HttpTrio {
  HttpTrio(CliWorld& w, int net) : c(w, net, 0), http_port(c.port() + 2) {
    for (std::size_t i = 0; i < sites.size(); ++i)
      c.add_member(sites[i], tiers[i], i == 0 ? std::vector<std::string>{} : std::vector<std::string>{"NCAR"},
                   {"--http-listen", c.address(i) + ":" + std::to_string(http_port)});
    w.must({"federation", "add-node", "--dir", w.authority_dir(), "--from-home", c.home(1), "--capacity", "1G"});
    c.issue_roster();
    const std::map<std::string, std::string> policy = {
        {"grace_seconds", "3"}, {"claim_base_seconds", "5"}, {"min_rate", "50000.0"}, {"evaluate_interval_ms", "500"}};
    for (std::size_t i = 0; i < c.size(); ++i) set_config(c.home(i), policy);
  }

  std::string base(std::size_t i) const { return "https://" + c.address(i) + ":" + std::to_string(http_port); }
  std::string ca(std::size_t i) const { return (std::filesystem::path(c.home(i)) / "tls" / "cert.pem").string(); }

  GossipCluster c;
  const int http_port;
  const std::vector<std::string> sites = {"IPSL", "DKRZ", "DARK"};
  const std::vector<std::string> tiers = {"2", "1", "dark"};
};

}  // namespace fedswarm::test
