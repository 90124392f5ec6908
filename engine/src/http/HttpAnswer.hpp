// HttpAnswer: a complete, in-memory HTTP answer built by a request handler (esg-search,
// errors) and written by HttpServer. Files are streamed by FileServer instead.
//
// Contract: plain value type. `status` is an HTTP status code; `content_type` goes into
// Content-Type; `headers` are extra header fields (name, value), written as given.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace fedswarm {

struct HttpAnswer {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpAnswer text(unsigned status, std::string body) {
    return HttpAnswer{status, "text/plain; charset=utf-8", std::move(body), {}};
  }
};

}  // namespace fedswarm
