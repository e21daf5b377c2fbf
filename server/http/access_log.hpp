#pragma once

#include <spdlog/logger.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace pivot::http {

/// One finished request, as the access log reports it.
struct AccessRecord {
  std::string_view remote;      ///< client address (after trusted-proxy resolution)
  std::string_view method;      ///< "GET"
  std::string_view path;        ///< request target without the query string
  int status = 0;               ///< status sent
  std::uint64_t bytes_sent = 0; ///< response body bytes written
  double duration_ms = 0;       ///< first request byte to response written
  std::string_view request_id;  ///< X-Request-Id
  int pid = 0;                  ///< worker that served it; 0 when none
};

/// `http.access_logs`: one info line per request on the "access" logger, key=value
/// (`event=access remote=… method=… path=… status=… bytes_sent=… duration_ms=… request_id=… pid=…`)
/// or, with logs.encoding json, the same keys as JSON fields. Thread-safe (spdlog).
class AccessLog {
 public:
  /// `logger` comes from core::Logging::get_structured; `json` is Logging::json().
  AccessLog(std::shared_ptr<spdlog::logger> logger, bool json) : log_(std::move(logger)), json_(json) {}
  /// Writes one line.
  void write(const AccessRecord& r) const;

 private:
  std::shared_ptr<spdlog::logger> log_;
  bool json_;
};

}  // namespace pivot::http
