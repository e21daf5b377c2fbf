#pragma once

#include <spdlog/logger.h>

#include <prometheus/registry.h>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "server/config/config.hpp"
#include "server/http/probe_endpoint.hpp"
#include "server/plugins/metrics/app_metrics.hpp"
#include "server/pool/pool.hpp"

namespace pivot::metrics {

/// The Prometheus endpoint on `metrics.address`: GET (or HEAD) /metrics answers the text
/// exposition format 0.0.4, gathered at scrape time: the pools' worker gauges (from
/// Pool::workers()), `rr_http_uptime_seconds`, the server registry (request metrics, restarts),
/// the application collectors and `process_*`. Families are sorted by name, series by labels.
/// Served by an http::ProbeEndpoint on the io_context, as StatusServer is.
class MetricsServer {
 public:
  /// Binds nothing yet; the pools, `registry` and `app` must outlive the server.
  MetricsServer(asio::io_context& io, const config::MetricsConfig& cfg, std::vector<pool::Pool*> pools,
                prometheus::Registry& registry, AppMetrics& app, std::shared_ptr<spdlog::logger> log);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  /// Binds and listens (throws std::system_error: control path), then accepts in the background.
  void start();
  /// Stops accepting. Thread-safe.
  void stop() { endpoint_.stop(); }
  /// The bound port.
  std::uint16_t port() const noexcept { return endpoint_.port(); }

  /// The whole exposition text of one scrape. Any executor.
  asio::awaitable<std::string> scrape();

 private:
  asio::awaitable<http::ProbeEndpoint::Reply> handle(http::RequestParser::Status st, const http::RequestParser& parser);

  config::MetricsConfig cfg_;
  std::vector<pool::Pool*> pools_;
  prometheus::Registry& registry_;
  AppMetrics& app_;
  std::chrono::steady_clock::time_point started_;
  http::ProbeEndpoint endpoint_;
};

}  // namespace pivot::metrics
