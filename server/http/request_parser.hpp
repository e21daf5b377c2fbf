#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "server/http/http_request.hpp"

struct llhttp__internal_s;
struct llhttp_settings_s;

namespace pivot::http {

/// Incremental HTTP/1.x request parser over llhttp (the only file that includes llhttp.h).
/// Stops after each complete message so pipelined requests are answered one at a time, and
/// applies the header and body limits while parsing.
class RequestParser {
 public:
  /// Result of one `feed`.
  enum class Status {
    need_more,        ///< all bytes consumed, the message is not complete
    expect_continue,  ///< headers done and the client waits for "100 Continue"; call `resume()`
    complete,         ///< one whole request is in `request()`
    error,            ///< malformed or over a limit: answer `error_status()` and close
  };

  /// Takes the body of chosen requests instead of HttpRequest::body (streamed form uploads).
  /// Called from inside feed(), on the session's strand.
  class BodySink {
   public:
    /// Where the body of a request goes; decided when its headers are complete.
    enum class Decision { buffer, stream, reject };
    virtual ~BodySink() = default;
    /// Looks at the request line and headers: `buffer` into HttpRequest::body, `stream` to
    /// on_body(), or `reject` with error_status()/error_reason().
    virtual Decision on_headers(const HttpRequest& req) = 0;
    /// The next decoded body bytes of a streamed request; false rejects the request.
    virtual bool on_body(std::string_view data) = 0;
    /// The status for a rejection (400, 413, …).
    virtual int error_status() const noexcept = 0;
    /// Why, for the log.
    virtual const std::string& error_reason() const noexcept = 0;
  };

  /// Creates a parser with limits in bytes.
  RequestParser(std::uint64_t max_header_bytes, std::uint64_t max_body_bytes);
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  /// Parses bytes and returns how many were used; the rest belongs to the next request.
  std::size_t feed(std::string_view data, Status& status);
  /// Tells the parser the peer closed the connection.
  Status finish_eof();
  /// Continues after `complete` (next message) or `expect_continue` (the body).
  void resume();
  /// True when some bytes of a message have been seen since the last complete one.
  bool in_message() const noexcept { return in_message_; }
  /// True between the end of a message's headers and the end of its body.
  bool in_body() const noexcept { return in_body_; }
  /// Consults `sink` (may be null) for the body of every following request; it must outlive the parser.
  void set_body_sink(BodySink* sink) noexcept { sink_ = sink; }

  /// The request; valid after `complete`.
  HttpRequest& request() noexcept { return req_; }
  /// The request, read-only; valid after `complete`.
  const HttpRequest& request() const noexcept { return req_; }
  /// 400, 413, 431, 501 (unknown method) or 505 (HTTP version) after `error`.
  int error_status() const noexcept { return error_status_; }
  /// What went wrong, for the log.
  const std::string& error_reason() const noexcept { return error_reason_; }

 private:
  struct Callbacks;
  friend struct Callbacks;

  int fail(int status, std::string reason);
  int commit_header();

  std::unique_ptr<llhttp__internal_s> parser_;
  std::unique_ptr<llhttp_settings_s> settings_;
  HttpRequest req_;
  std::string field_;
  std::string value_;
  bool in_value_ = false;
  bool in_message_ = false;
  bool has_content_length_ = false;
  bool has_transfer_encoding_ = false;
  bool has_version_ = false;  // the request line had "HTTP/x.y" (llhttp also accepts HTTP/0.9 "GET /")
  std::string transfer_codings_;  // every Transfer-Encoding line of the request, joined with ','
  int host_count_ = 0;
  bool paused_for_continue_ = false;
  bool user_failed_ = false;  // a limit callback set error_status_
  bool in_body_ = false;
  bool streaming_ = false;    // this message's body goes to sink_
  BodySink* sink_ = nullptr;
  std::uint64_t header_bytes_ = 0;
  std::uint64_t body_bytes_ = 0;
  std::uint64_t max_header_bytes_;
  std::uint64_t max_body_bytes_;
  int error_status_ = 400;
  std::string error_reason_;
};

}  // namespace pivot::http
