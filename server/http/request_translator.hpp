#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/http/http_request.hpp"

namespace pivot::http {

/// What the session knows about a request beyond its bytes.
struct RequestMeta {
  std::string_view remote_ip;                      ///< client IP (after trusted-proxy resolution)
  std::string_view fallback_host;                  ///< used when the request has no Host header
  bool https = false;                              ///< scheme of `uri` (X-Forwarded-Proto from a trusted proxy)
  std::span<const protocol::HeaderField> extra_headers;  ///< added to the request's headers (X-Request-Id)
  bool parsed = false;                             ///< `form_body` replaces the raw body
  std::string_view form_body;                      ///< the parsed form as JSON (protocol doc §3.3)
  std::string_view uploads_json;                   ///< uploads tree JSON; empty means null (§3.4)
};

/// Turns a parsed request into a RoadRunner request frame (JSON context of protocol doc §3.8 +
/// raw body or parsed form) in a reused buffer. One per session.
class RequestTranslator {
 public:
  /// Writes the whole frame (header, option = context length, context, body) into `frame`.
  void build_frame(std::string& frame, const HttpRequest& req, const RequestMeta& meta);
  /// The same for a plain request: raw body, http scheme, no extra header.
  void build_frame(std::string& frame, const HttpRequest& req, std::string_view remote_ip, std::string_view fallback_host);

 private:
  std::string uri_;
  std::vector<std::pair<std::string, std::string>> cookies_;
};

}  // namespace pivot::http
