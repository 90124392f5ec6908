// TlsBulkWriter: turns a large plaintext chunk into TLS records in one call, for the
// bodies of file downloads. Asio's SSL stream pushes every record (16 KiB) through a
// 17 KiB BIO pair and one asynchronous socket write each; here the connection's SSL
// object writes all records of a chunk into a growing buffer that HttpSession then sends
// with one socket write, so a 256 KiB chunk costs one system call instead of sixteen.
//
// Contract
// - `encrypt` borrows the SSL object's write side for the call only (the asio stream's
//   own BIO is put back before it returns), so it may be called only between asio
//   operations on that stream (no read or write in progress) — HttpSession's file loop,
//   on the connection's strand. The records are in `output()` until the next call.
// - Returns false if OpenSSL refused (the connection must then be closed).
// - One per connection; not thread-safe.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <vector>

namespace fedswarm {

class TlsBulkWriter {
 public:
  TlsBulkWriter();
  ~TlsBulkWriter();
  TlsBulkWriter(const TlsBulkWriter&) = delete;
  TlsBulkWriter& operator=(const TlsBulkWriter&) = delete;

  bool encrypt(SSL* ssl, const char* data, std::size_t size);
  const std::vector<char>& output() const { return out_; }

 private:
  BIO* bio_ = nullptr;  // writes append to out_
  std::vector<char> out_;
};

}  // namespace fedswarm
