// Curl: requests to a node's HTTP face with the real curl binary (Debian `curl`), as an
// operator or a user's script would make them, for the functional tests.
//
// Contract: test thread only; each call writes its body and headers to fresh files under
// `dir`; `--path-as-is` keeps `..` segments as sent (the traversal tests need them).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "TestSupport.hpp"

namespace fedswarm::test {

struct CurlAnswer {
  int status = 0;  // 0: nothing answered
  std::string body;
  std::string headers;
};

// Runs a shell command and returns what it printed.
inline std::string run_capture(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  while (std::size_t k = std::fread(buf, 1, sizeof buf, p)) out.append(buf, k);
  ::pclose(p);
  return out;
}

// One GET (or what `extra` makes it) of `url`, trusting the certificates in `ca`.
inline CurlAnswer curl(const std::filesystem::path& dir, const std::string& ca, const std::string& url,
                       const std::vector<std::string>& extra = {}) {
  namespace fs = std::filesystem;
  static int n = 0;
  const fs::path body = dir / ("curl-body-" + std::to_string(++n));
  const fs::path head = dir / ("curl-head-" + std::to_string(n));
  std::string cmd = "curl -sS --path-as-is --max-time 60 --cacert '" + ca + "' -o '" + body.string() + "' -D '" +
                    head.string() + "' -w '%{http_code}'";
  for (const auto& e : extra) cmd += " " + e;
  cmd += " '" + url + "' 2>&1";
  const std::string out = run_capture(cmd);
  INFO("curl " << url << " printed " << out);
  CurlAnswer a;
  a.status = std::atoi(out.substr(out.size() >= 3 ? out.size() - 3 : 0).c_str());
  std::error_code ec;
  if (fs::exists(body, ec)) a.body = read_file(body);
  if (fs::exists(head, ec)) a.headers = read_file(head);
  return a;
}

}  // namespace fedswarm::test
