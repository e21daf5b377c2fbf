#pragma once

#include <spdlog/logger.h>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "server/config/config.hpp"
#include "server/http/gzip_policy.hpp"
#include "server/http/session.hpp"
#include "server/http/static_files.hpp"
#include "server/pool/pool.hpp"

namespace pivot::http {

/// Accepts HTTP connections on http.address and starts a Session for each. With
/// http.max_connections sessions open it stops accepting until one ends.
class Listener {
 public:
  /// Binds nothing yet. `access_log` (from Logging::get_structured, may be null) is used when
  /// http.access_logs is on; `json_logs` is logs.encoding == json.
  Listener(asio::io_context& io, const config::HttpConfig& cfg, pool::Pool& pool, std::shared_ptr<spdlog::logger> log,
           std::shared_ptr<spdlog::logger> access_log = nullptr, bool json_logs = false);
  ~Listener();

  /// Binds and listens (throws std::system_error: control path), then accepts in the background.
  void start();
  /// Stops accepting and closes idle connections; busy ones close after their response. Thread-safe.
  void stop();
  /// Waits (polling) until every session has ended or `deadline` passes.
  asio::awaitable<void> wait_sessions(std::chrono::steady_clock::time_point deadline);
  /// The bound port.
  std::uint16_t port() const noexcept { return port_; }
  /// Metrics plugin: sessions record request metrics into `m` (null = off). Call before start().
  void set_http_metrics(metrics::HttpMetrics* m) noexcept { ctx_.http_metrics = m; }

  /// Session bookkeeping (called by sessions on their own strands).
  void add(const std::shared_ptr<Session>& s);
  /// Removes a finished session.
  void remove(Session* s);

 private:
  asio::awaitable<void> accept_loop();

  asio::io_context& io_;
  const config::HttpConfig& cfg_;
  std::shared_ptr<spdlog::logger> log_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer resume_timer_;  // accept paused at max_connections; cancelled when a session ends
  std::atomic<bool> stopping_{false};
  std::atomic<bool> paused_{false};
  std::atomic<std::size_t> active_{0};
  std::chrono::steady_clock::time_point last_pause_log_{};
  TrustedProxies proxies_;
  std::unique_ptr<AccessLog> access_log_;
  std::unique_ptr<StaticFiles> static_files_;  // http.static; null when off
  std::unique_ptr<GzipPolicy> gzip_;           // http.gzip; null when off
  SessionContext ctx_;
  std::uint16_t port_ = 0;
  std::mutex mu_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
};

}  // namespace pivot::http
