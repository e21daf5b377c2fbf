#pragma once

#include <spdlog/logger.h>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "server/config/config.hpp"
#include "server/http/probe_endpoint.hpp"
#include "server/pool/pool.hpp"

namespace pivot::status {

/// Health endpoints in the manner of RoadRunner's status plugin, on `status.address`:
/// `GET /health?plugin=http` is 200 while at least one worker is alive and booted (ready or
/// working), `GET /ready?plugin=http` is 200 while at least one worker is idle and the server
/// is not draining; otherwise `status.unavailable_status_code`. Each answer is a JSON object
/// with one entry per plugin. Runs on the io_context; one coroutine per connection.
class StatusServer {
 public:
  /// Binds nothing yet; `pools` must outlive the server.
  StatusServer(asio::io_context& io, const config::StatusConfig& cfg, std::vector<pool::Pool*> pools,
               std::shared_ptr<spdlog::logger> log);
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  /// Binds and listens (throws std::system_error: control path), then accepts in the background.
  void start();
  /// From now on /ready answers "unavailable" (graceful shutdown begins). Thread-safe.
  void set_draining() noexcept { draining_.store(true); }
  /// Stops accepting. Thread-safe.
  void stop() { endpoint_.stop(); }
  /// The bound port.
  std::uint16_t port() const noexcept { return endpoint_.port(); }

 private:
  asio::awaitable<http::ProbeEndpoint::Reply> handle(http::RequestParser::Status st, const http::RequestParser& parser);
  asio::awaitable<std::string> answer(const std::string& method, const std::string& target, int& status);

  config::StatusConfig cfg_;
  std::vector<pool::Pool*> pools_;
  std::atomic<bool> draining_{false};
  http::ProbeEndpoint endpoint_;
};

}  // namespace pivot::status
