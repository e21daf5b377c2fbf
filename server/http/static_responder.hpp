#pragma once

#include <spdlog/logger.h>

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "protocol/http_payload.hpp"
#include "server/http/gzip_policy.hpp"
#include "server/http/http_request.hpp"
#include "server/http/response_head.hpp"
#include "server/http/static_files.hpp"

namespace pivot::http {

/// Serves one session's static file responses (http.static): conditional requests (ETag,
/// If-None-Match, If-Modified-Since → 304), single ranges (206, 416, If-Range), HEAD, gzip for
/// files up to http.gzip.static_max_size. The body is read with pread() in 64 KiB chunks and
/// written chunk by chunk, so a big file never sits in memory, and hashing or compressing a file
/// yields to the event loop between chunks. Owned by one session; used on its strand.
class StaticResponder {
 public:
  /// Writes buffers to the client (the session's write_out: deadlines, errors); true on success.
  using WriteFn = std::function<asio::awaitable<bool>(std::array<asio::const_buffer, 2>)>;

  /// What happened to a request.
  struct Result {
    bool served = false;          ///< false: not a static file, PHP gets the request
    bool ok = true;               ///< false: the connection must close (write failed, file shrank)
    int status = 0;               ///< status sent
    std::uint64_t body_bytes = 0; ///< body bytes sent
  };

  /// `gzip` may be null (gzip off). Both must outlive the responder.
  StaticResponder(const StaticFiles& files, const GzipPolicy* gzip, std::shared_ptr<spdlog::logger> log);
  ~StaticResponder();

  /// Serves `req` when it names a static file; `base` carries Date, X-Request-Id and the
  /// connection flags for the response head.
  asio::awaitable<Result> serve(const HttpRequest& req, const ResponseHeadOptions& base, const WriteFn& write);

 private:
  static constexpr std::size_t kChunk = 64 * 1024;

  asio::awaitable<bool> content_crc(std::uint32_t& crc);
  asio::awaitable<bool> compress_file(std::string& out);
  asio::awaitable<Result> send_body(std::uint64_t offset, std::uint64_t length, const WriteFn& write);
  void apply_response_headers();
  char* buffer();

  const StaticFiles& files_;
  const GzipPolicy* gzip_;
  std::shared_ptr<spdlog::logger> log_;
  StaticPath path_;
  StaticFile file_;
  std::vector<protocol::HeaderField> headers_;
  std::string head_;
  std::string gz_;
  std::string etag_;
  std::unique_ptr<char[]> buf_;  // kChunk bytes, allocated on first use
};

/// True when an If-None-Match value matches `etag` by weak comparison ("*" matches any).
bool etag_matches(std::string_view if_none_match, std::string_view etag) noexcept;

}  // namespace pivot::http
