#pragma once

#include <spdlog/logger.h>

#include <prometheus/registry.h>

#include <asio/io_context.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/config/config.hpp"
#include "server/core/rpc_registry.hpp"
#include "server/plugins/metrics/app_metrics.hpp"
#include "server/plugins/metrics/http_metrics.hpp"
#include "server/plugins/metrics/jobs_metrics.hpp"
#include "server/plugins/metrics/metrics_server.hpp"
#include "server/plugins/metrics/metrics_service.hpp"
#include "server/plugins/metrics/worker_metrics.hpp"

namespace pivot::metrics {

/// The metrics plugin as the composition root sees it (`metrics:` section): owns the server
/// registry, the request and worker metrics, the application collectors (declaring
/// `metrics.collect` at construction), the `metrics` RPC service and the /metrics endpoint.
class MetricsPlugin {
 public:
  /// Declares the configured collectors; throws std::runtime_error naming the collector when one
  /// cannot be declared (control path).
  MetricsPlugin(asio::io_context& io, const config::MetricsConfig& cfg, std::shared_ptr<spdlog::logger> log);
  ~MetricsPlugin();
  MetricsPlugin(const MetricsPlugin&) = delete;
  MetricsPlugin& operator=(const MetricsPlugin&) = delete;

  /// The request metrics the HTTP sessions record into (thread-safe).
  HttpMetrics& http() noexcept { return http_; }
  /// The jobs metrics (rr_jobs_push_*, rr_jobs_jobs_*) the jobs plugin's hooks feed (thread-safe).
  JobsMetrics& jobs() noexcept { return jobs_; }
  /// A Pool::Options::on_retire hook counting pivot_worker_restarts_total{pool,reason}.
  std::function<void(std::string_view reason)> restart_hook(std::string pool) { return workers_.restart_hook(std::move(pool)); }
  /// Adds metrics.Declare/Add/Sub/Set/Observe/Unregister to `registry`. Call before serving starts.
  void register_methods(core::RpcRegistry& registry);
  /// Binds metrics.address and serves /metrics for `pools` (which must outlive the plugin).
  /// Throws std::system_error when it cannot bind (control path).
  void start(std::vector<pool::Pool*> pools);
  /// Stops accepting scrapes. Thread-safe.
  void stop();

 private:
  asio::io_context& io_;
  config::MetricsConfig cfg_;
  std::shared_ptr<spdlog::logger> log_;
  prometheus::Registry registry_;
  HttpMetrics http_;
  JobsMetrics jobs_;
  WorkerMetrics workers_;
  AppMetrics app_;
  MetricsService service_;
  std::unique_ptr<MetricsServer> server_;
};

}  // namespace pivot::metrics
