#include "http/TlsBulkWriter.hpp"

#include <climits>

namespace fedswarm {

namespace {

int bio_write(BIO* bio, const char* data, int len) {
  auto* out = static_cast<std::vector<char>*>(BIO_get_data(bio));
  out->insert(out->end(), data, data + len);
  return len;
}

long bio_ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// Made once; OpenSSL keeps it for the process's life.
BIO_METHOD* method() {
  static BIO_METHOD* m = [] {
    BIO_METHOD* meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "fedswarm bulk TLS output");
    if (meth) {
      BIO_meth_set_write(meth, bio_write);
      BIO_meth_set_ctrl(meth, bio_ctrl);
      BIO_meth_set_create(meth, bio_create);
    }
    return meth;
  }();
  return m;
}

}  // namespace

TlsBulkWriter::TlsBulkWriter() {
  if (BIO_METHOD* m = method()) bio_ = BIO_new(m);
  if (bio_) BIO_set_data(bio_, &out_);
}

TlsBulkWriter::~TlsBulkWriter() {
  if (bio_) BIO_free(bio_);
}

bool TlsBulkWriter::encrypt(SSL* ssl, const char* data, std::size_t size) {
  out_.clear();
  if (!bio_ || size > INT_MAX) return false;
  // Records add at most a few dozen bytes each to 16 KiB of data.
  out_.reserve(size + size / 64 + 1024);
  BIO* own = SSL_get_wbio(ssl);
  // SSL_set0_wbio takes one reference and frees the write BIO it replaces: each side
  // keeps its own reference across the swap.
  BIO_up_ref(bio_);
  BIO_up_ref(own);
  SSL_set0_wbio(ssl, bio_);
  // Asio sets SSL_MODE_ENABLE_PARTIAL_WRITE: each call writes one record.
  std::size_t done = 0;
  while (done < size) {
    const int n = SSL_write(ssl, data + done, static_cast<int>(size - done));
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  SSL_set0_wbio(ssl, own);
  return done == size;
}

}  // namespace fedswarm
