#pragma once

#include <string>
#include <vector>

#include "protocol/http_payload.hpp"

namespace pivot::http {

/// One parsed HTTP/1.x request. Owned by its session; reused between requests.
struct HttpRequest {
  std::string method;                            ///< "GET"
  std::string target;                            ///< request-target as received ("/a?b=1")
  std::string host;                              ///< Host header value
  int version_major = 1;                         ///< 1
  int version_minor = 1;                         ///< 0 or 1
  std::vector<protocol::HeaderField> headers;    ///< every header except Host, names canonical
  std::string body;                              ///< decoded body (chunked framing removed)
  bool keep_alive = true;                        ///< llhttp_should_keep_alive at message end
  bool expect_continue = false;                  ///< "Expect: 100-continue" was sent

  /// Empties everything but keeps capacity.
  void clear() {
    method.clear();
    target.clear();
    host.clear();
    headers.clear();
    body.clear();
    version_major = 1;
    version_minor = 1;
    keep_alive = true;
    expect_continue = false;
  }
};

}  // namespace pivot::http
