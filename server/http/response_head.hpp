#pragma once

#include <cstddef>
#include <ctime>
#include <span>
#include <string>
#include <string_view>

#include "protocol/http_payload.hpp"

namespace pivot::http {

/// The reason phrase for a status ("Not Found"); "Unknown" for unlisted codes.
std::string_view reason_phrase(int status) noexcept;

/// True for statuses that never carry a body (1xx, 204, 304).
bool status_has_no_body(int status) noexcept;

/// True when `name: value` is safe to put on the wire (a token name, no CR/LF/NUL in the value).
bool header_is_safe(std::string_view name, std::string_view value) noexcept;

/// Caches the IMF-fixdate for the current second. One per session; not thread-safe.
class DateCache {
 public:
  /// "Tue, 24 Nov 2026 06:46:25 GMT" for now.
  std::string_view now();

 private:
  std::time_t last_ = 0;
  char buf_[40] = {};
  std::size_t len_ = 0;
};

/// How a response body is delimited on the wire.
enum class BodyFraming {
  content_length,  ///< Content-Length (every complete reply)
  chunked,         ///< Transfer-Encoding: chunked (streamed reply, HTTP/1.1)
  close,           ///< no length; the connection close ends the body (streamed reply, HTTP/1.0)
};

/// What to put around the worker's headers in the response head.
struct ResponseHeadOptions {
  int status = 200;                 ///< status code
  std::size_t content_length = 0;   ///< body length (written even for HEAD)
  bool close = false;               ///< add "Connection: close"
  bool keep_alive_10 = false;       ///< HTTP/1.0 client that asked for keep-alive
  std::string_view date;            ///< Date header value
  std::string_view request_id;      ///< X-Request-Id to send (the server owns it); empty = none
  BodyFraming framing = BodyFraming::content_length;  ///< chunked / close for streamed replies
};

/// Appends the status line, the worker's headers (minus the framing headers the server owns:
/// Content-Length, Transfer-Encoding, Connection, Date, Keep-Alive, and X-Request-Id when
/// `opts.request_id` is set), Date, X-Request-Id, Content-Length and Connection, and the blank
/// line. Unsafe header lines are skipped and counted in the return value.
std::size_t append_response_head(std::string& out, const ResponseHeadOptions& opts,
                                 std::span<const protocol::HeaderField> headers);

/// Appends an interim (1xx) response head: the status line and `headers` only (safe ones, minus
/// the framing headers), then the blank line. Returns the number of unsafe lines skipped.
std::size_t append_interim_head(std::string& out, int status, std::span<const protocol::HeaderField> headers);

}  // namespace pivot::http
