#pragma once

#include <spdlog/logger.h>

#include <asio/awaitable.hpp>

#include <memory>

#include "server/core/rpc_registry.hpp"
#include "server/plugins/metrics/app_metrics.hpp"

namespace pivot::metrics {

/// The `metrics` RPC service (protocol doc §5.4): metrics.Declare, Add, Sub, Set, Observe and
/// Unregister over AppMetrics, JSON in, JSON `true` out, RoadRunner's error texts. Handlers run
/// on the calling connection's strand; AppMetrics is thread-safe.
class MetricsService {
 public:
  /// Serves `app`, which must outlive the RPC server.
  MetricsService(AppMetrics& app, std::shared_ptr<spdlog::logger> log);

  /// Adds the six methods to `registry`. Call before serving starts.
  void register_methods(core::RpcRegistry& registry);

 private:
  using Op = std::string (AppMetrics::*)(std::string_view, double, const std::vector<std::string>&);

  asio::awaitable<core::RpcResult> declare(const core::RpcCall& call);
  asio::awaitable<core::RpcResult> value_op(const core::RpcCall& call, Op op);
  asio::awaitable<core::RpcResult> unregister(const core::RpcCall& call);

  AppMetrics& app_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace pivot::metrics
