#include <doctest/doctest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>

#include "TestSupport.hpp"
#include "fedswarm/engine/NodeHome.hpp"
#include "fedswarm/engine/SelfSignedCertificate.hpp"

using namespace fedswarm;

TEST_CASE("init makes a self-signed certificate for the listen host, localhost and the host name") {
  test::TempDir tmp;
  Config c = Config::defaults("IPSL", Tier::tier2);
  c.http.listen = "127.0.0.7:9443";
  auto home = NodeHome::init(tmp / "home", c);
  REQUIRE_MESSAGE(home.ok(), home.error().message);
  const auto& h = home->config().http;
  CHECK(h.certificate == tmp.path() / "home/tls/cert.pem");
  struct stat st {};
  REQUIRE(::stat(h.private_key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  FILE* f = std::fopen(h.certificate.c_str(), "r");
  REQUIRE(f);
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  REQUIRE(cert);
  CHECK(X509_get_version(cert) == 2);
  CHECK(X509_check_host(cert, "localhost", 0, 0, nullptr) == 1);
  CHECK(X509_check_ip_asc(cert, "127.0.0.7", 0) == 1);
  CHECK(X509_check_ip_asc(cert, "127.0.0.1", 0) == 1);
  CHECK(X509_check_host(cert, "elsewhere.example.org", 0, 0, nullptr) != 1);
  CHECK(X509_cmp_time(X509_get0_notAfter(cert), nullptr) > 0);
  X509_free(cert);

  // Present: left alone; half a pair: refused.
  auto again = SelfSignedCertificate::ensure(h);
  REQUIRE(again.ok());
  CHECK_FALSE(*again);
  std::filesystem::remove(h.private_key);
  auto half = SelfSignedCertificate::ensure(h);
  REQUIRE_FALSE(half.ok());
  CHECK(half.error().reason == "tls_half_pair");
}

TEST_CASE("certificate hosts skip wildcard addresses") {
  auto hosts = SelfSignedCertificate::hosts_for("0.0.0.0:8443");
  CHECK(std::find(hosts.begin(), hosts.end(), "0.0.0.0") == hosts.end());
  CHECK(std::find(hosts.begin(), hosts.end(), "localhost") != hosts.end());
  hosts = SelfSignedCertificate::hosts_for("[::1]:8443");
  CHECK(hosts.front() == "::1");
}
