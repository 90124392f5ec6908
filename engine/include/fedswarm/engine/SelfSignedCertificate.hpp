// SelfSignedCertificate: the TLS certificate a node makes for its HTTP face when the site
// has not given it one (DESIGN §9): an EC P-256 key and an X.509 v3 certificate valid for
// ten years, for the listen host, `localhost` and the machine's host name.
//
// Contract
// - `create` writes the key (mode 0600) before the certificate, each atomically (temp
//   file + rename), creating the parent folders; errors are `io` (a file; reason
//   tls_certificate when OpenSSL refused), never exceptions.
// - `ensure` creates the pair only when both files are missing; one without the other is
//   `conflict` (an operator replacing them is half done). Reports whether it created them.
// - Thread-compatible (OpenSSL 3 is thread-safe for these calls).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "fedswarm/engine/Config.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

class SelfSignedCertificate {
 public:
  // The names a certificate for `listen` (host:port) is for: its host (unless a wildcard
  // address), "localhost", 127.0.0.1 and the machine's host name; no duplicates.
  static std::vector<std::string> hosts_for(std::string_view listen);
  // `hosts` become subjectAltName entries (IP addresses as IP, others as DNS); the first
  // is the subject's common name.
  static Status create(const std::filesystem::path& certificate, const std::filesystem::path& private_key,
                       const std::vector<std::string>& hosts);
  static Result<bool> ensure(const HttpConfig& http);
  // What to tell an operator about replacing the self-signed pair with the site's own.
  static std::string replace_hint(const HttpConfig& http);
};

}  // namespace fedswarm
