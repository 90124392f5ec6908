#include "fedswarm/engine/SelfSignedCertificate.hpp"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "fedswarm/storage/AtomicFile.hpp"

namespace fedswarm {

namespace {

constexpr long kValiditySeconds = 10L * 366 * 86400;

template <class T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Free<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO, BIO_free_all>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION, X509_EXTENSION_free>>;

Error openssl_error(std::string_view what) {
  return make_error(Errc::io, "tls_certificate", "cannot create the self-signed certificate: " + std::string(what));
}

bool is_ip(const std::string& h) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, h.c_str(), buf) == 1 || ::inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

bool add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

}  // namespace

std::vector<std::string> SelfSignedCertificate::hosts_for(std::string_view listen) {
  std::vector<std::string> hosts;
  auto add = [&](std::string h) {
    if (!h.empty() && std::find(hosts.begin(), hosts.end(), h) == hosts.end()) hosts.push_back(std::move(h));
  };
  std::string host(listen.substr(0, std::min(listen.rfind(':'), listen.size())));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host != "0.0.0.0" && host != "::" && host != "*") add(host);
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) == 0) add(name);
  add("localhost");
  add("127.0.0.1");
  return hosts;
}

Status SelfSignedCertificate::create(const std::filesystem::path& certificate, const std::filesystem::path& private_key,
                                     const std::vector<std::string>& hosts) {
  if (hosts.empty()) return openssl_error("no host name");
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return openssl_error("EC P-256 key generation failed");
  CertPtr cert(X509_new());
  if (!cert) return openssl_error("out of memory");
  X509_set_version(cert.get(), 2);  // v3
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return openssl_error("no random serial");
  serial[0] &= 0x7f;  // a positive serial
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr;
  BN_free(bn);
  if (!ok) return openssl_error("serial");
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // tolerate clocks a little behind
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn = hosts.front().substr(0, 64);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("fedswarm node"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  std::string san;
  for (const auto& h : hosts) san += (san.empty() ? "" : ",") + std::string(is_ip(h) ? "IP:" : "DNS:") + h;
  if (!add_extension(cert.get(), NID_subject_alt_name, san) ||
      !add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
      !add_extension(cert.get(), NID_ext_key_usage, "serverAuth") ||
      !add_extension(cert.get(), NID_subject_key_identifier, "hash"))
    return openssl_error("X.509 extensions (subjectAltName " + san + ")");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) return openssl_error("signing");

  BioPtr key_bio(BIO_new(BIO_s_mem())), cert_bio(BIO_new(BIO_s_mem()));
  if (!key_bio || !cert_bio || PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1)
    return openssl_error("PEM encoding");
  std::error_code ec;
  for (const auto& p : {private_key, certificate}) {
    std::filesystem::create_directories(p.parent_path(), ec);
    if (ec) return make_error(Errc::io, "io_error", "cannot create " + p.parent_path().string() + ": " + ec.message());
  }
  FEDSWARM_TRY(write_file_atomic(private_key, bio_text(key_bio.get()), 0600));
  return write_file_atomic(certificate, bio_text(cert_bio.get()), 0644);
}

Result<bool> SelfSignedCertificate::ensure(const HttpConfig& http) {
  std::error_code ec;
  const bool cert = std::filesystem::exists(http.certificate, ec);
  const bool key = std::filesystem::exists(http.private_key, ec);
  if (cert && key) return false;
  if (cert || key)
    return make_error(Errc::conflict, "tls_half_pair",
                      (cert ? http.private_key : http.certificate).string() + " is missing while " +
                          (cert ? http.certificate : http.private_key).string() +
                          " exists; put both files of the site's certificate in place (see [http] certificate and "
                          "private_key), or remove the other one and a self-signed pair is created");
  FEDSWARM_TRY(create(http.certificate, http.private_key, hosts_for(http.listen)));
  return true;
}

std::string SelfSignedCertificate::replace_hint(const HttpConfig& http) {
  return "a self-signed certificate in " + http.certificate.string() + " (key " + http.private_key.string() +
         "); to use the site's own, replace both files or set [http] certificate and private_key to their paths";
}

}  // namespace fedswarm
