#pragma once

#include <spdlog/logger.h>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "server/config/config.hpp"
#include "server/http/access_log.hpp"
#include "server/http/form_collector.hpp"
#include "server/http/request_id.hpp"
#include "server/http/request_parser.hpp"
#include "server/http/request_translator.hpp"
#include "server/http/response_head.hpp"
#include "server/http/trusted_proxies.hpp"
#include "server/pool/pool.hpp"

namespace pivot::metrics {
class HttpMetrics;  // Metrics plugin: request metrics (server/plugins/metrics/http_metrics.hpp)
}

namespace pivot::http {

class Listener;
class StaticFiles;      // http.static (server/http/static_files.hpp)
class StaticResponder;  // http.static, per session
class GzipPolicy;       // http.gzip (server/http/gzip_policy.hpp)

/// What every session of one listener shares (read-only, or atomic).
struct SessionContext {
  pool::Pool& pool;                             ///< executes requests
  const config::HttpConfig& cfg;                ///< limits
  std::shared_ptr<spdlog::logger> log;          ///< "http" logger
  std::atomic<bool>& stopping;                  ///< graceful shutdown in progress
  std::string fallback_host;                    ///< host:port used when a request has no Host
  const TrustedProxies& proxies;                ///< http.trusted_subnets
  const AccessLog* access_log = nullptr;        ///< http.access_logs; null when off
  metrics::HttpMetrics* http_metrics = nullptr; ///< Metrics plugin: request metrics; null when metrics are off
  const StaticFiles* static_files = nullptr;    ///< http.static; null when off
  const GzipPolicy* gzip = nullptr;             ///< http.gzip; null when off
};

/// One client connection: parses requests one at a time (pipelined ones wait in the buffer),
/// runs each on the pool and writes the response. Runs on its own strand. Reads and writes
/// have deadlines (read_header_timeout, read_timeout, write_timeout, idle_timeout) kept by one
/// lazily re-armed timer, so the hello-world path arms no timer per request.
class Session : public std::enable_shared_from_this<Session> {
 public:
  /// Takes the accepted socket; `on_done` is called (on the session strand) when it ends.
  Session(asio::ip::tcp::socket socket, SessionContext& ctx, Listener& listener);
  ~Session();

  /// Starts serving on the socket's strand.
  void start();
  /// Closes the connection if no request is in progress (graceful shutdown). Thread-safe.
  void close_if_idle();

 private:
  using Clock = std::chrono::steady_clock;
  /// What the current deadline guards; decides what a timeout does.
  enum class Phase { none, idle, header, body, write };

  asio::awaitable<void> run();
  asio::awaitable<void> close_gracefully();
  asio::awaitable<bool> write_simple(int status, std::string_view body, bool close, bool retry_after = false);
  asio::awaitable<bool> respond(pool::ExecResult& result, const HttpRequest& req);
  asio::awaitable<bool> write_out(std::array<asio::const_buffer, 2> bufs);
  // Streamed replies (session_stream.cpp): chunked or close-delimited, 1xx as interim responses.
  asio::awaitable<bool> respond_stream(pool::ExecResult& first, const HttpRequest& req);
  asio::awaitable<bool> write_parts(std::string_view head, std::string_view body, std::string_view tail);
  asio::awaitable<bool> reject_reply(std::error_code ec, const pool::ExecResult& result, std::string_view context, bool close);
  asio::awaitable<bool> serve_static(const HttpRequest& req, bool& keep);
  asio::awaitable<void> on_read_timeout();
  asio::awaitable<void> reject(int status, std::string_view reason);
  void request_started();
  std::string_view assign_request_id(HttpRequest& req, bool& generated);
  void log_access(int pid);
  void set_deadline(Phase phase, config::Duration d);
  void arm_timer(Clock::time_point at);
  void on_timer();

  asio::ip::tcp::socket socket_;
  SessionContext& ctx_;
  Listener& listener_;
  asio::steady_timer timer_;
  Clock::time_point deadline_ = Clock::time_point::max();
  Clock::time_point timer_expiry_ = Clock::time_point::max();
  Phase phase_ = Phase::none;
  bool timed_out_ = false;
  bool write_failed_ = false;
  Clock::time_point request_start_{};
  FormCollector forms_;
  RequestIdGenerator ids_;
  protocol::HeaderField id_header_{"X-Request-Id", {}};
  std::string_view request_id_;
  std::string client_ip_;
  bool peer_trusted_ = false;
  int last_status_ = 0;
  std::uint64_t last_body_bytes_ = 0;
  RequestParser parser_;
  RequestTranslator translator_;
  DateCache date_;
  protocol::HttpResponseContext response_ctx_;
  std::vector<char> buf_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  std::string frame_;
  std::string head_;
  std::string remote_ip_;
  bool busy_ = false;
  pool::ReplyStream stream_;  // open while a streamed reply is being relayed
  std::unique_ptr<StaticResponder> static_;  // http.static: created on the first request when on
  std::string gzip_body_;                    // http.gzip: the compressed worker body
};

}  // namespace pivot::http
