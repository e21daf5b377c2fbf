#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/http/http_request.hpp"

namespace pivot::http {

/// Turns a parsed request into a RoadRunner request frame (JSON context of protocol doc §3.8 +
/// raw body) in a reused buffer. One per session.
class RequestTranslator {
 public:
  /// Writes the whole frame (header, option = context length, context, body) into `frame`.
  /// `fallback_host` is used when the request has no Host header.
  void build_frame(std::string& frame, const HttpRequest& req, std::string_view remote_ip, std::string_view fallback_host);

 private:
  std::string uri_;
  std::vector<std::pair<std::string, std::string>> cookies_;
};

}  // namespace pivot::http
