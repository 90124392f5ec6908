#include "Sha256Stream.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <new>
#include <stdexcept>

namespace fedswarm {

namespace {

// Fetched once: an implicit fetch per EVP_DigestInit would cost a provider lookup for
// every 16 KiB block.
const EVP_MD* sha256_md() {
  static const EVP_MD* md = [] {
    const EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (!m) throw std::runtime_error("libcrypto provides no SHA-256 (is the OpenSSL default provider missing?)");
    return m;
  }();
  return md;
}

}  // namespace

struct Sha256Stream::Ctx {
  EVP_MD_CTX* ctx = nullptr;
  ~Ctx() { EVP_MD_CTX_free(ctx); }
};

Sha256Stream::Sha256Stream() : ctx_(std::make_unique<Ctx>()) {
  ctx_->ctx = EVP_MD_CTX_new();
  if (!ctx_->ctx) throw std::bad_alloc();
  reset();
}

Sha256Stream::~Sha256Stream() = default;
Sha256Stream::Sha256Stream(Sha256Stream&&) noexcept = default;
Sha256Stream& Sha256Stream::operator=(Sha256Stream&&) noexcept = default;

void Sha256Stream::reset() {
  if (EVP_DigestInit_ex2(ctx_->ctx, sha256_md(), nullptr) != 1) throw std::runtime_error("EVP_DigestInit_ex2(SHA-256) failed");
}

void Sha256Stream::update(const std::uint8_t* p, std::size_t n) {
  if (n > 0) EVP_DigestUpdate(ctx_->ctx, p, n);
}

Sha256 Sha256Stream::finish() {
  Sha256 out;
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->ctx, out.data(), &len);
  reset();
  return out;
}

Sha256 sha256_pair(const Sha256& left, const Sha256& right) {
  std::uint8_t pair[64];
  std::memcpy(pair, left.data(), 32);
  std::memcpy(pair + 32, right.data(), 32);
  Sha256 out;
  unsigned int len = 0;
  if (EVP_Digest(pair, sizeof pair, out.data(), &len, sha256_md(), nullptr) != 1)
    throw std::runtime_error("EVP_Digest(SHA-256) failed");
  return out;
}

}  // namespace fedswarm
