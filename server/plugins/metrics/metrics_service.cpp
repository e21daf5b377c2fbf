#include "server/plugins/metrics/metrics_service.hpp"

#include <exception>

#include "protocol/json_writer.hpp"
#include "server/config/metrics_collector.hpp"
#include "server/plugins/metrics/metrics_args.hpp"
#include "server/plugins/rpc/rpc_args.hpp"

namespace pivot::metrics {
namespace {

std::string json_quoted(std::string_view s) {
  std::string out;
  protocol::append_json_string(out, s);
  return out;
}

}  // namespace

MetricsService::MetricsService(AppMetrics& app, std::shared_ptr<spdlog::logger> log) : app_(app), log_(std::move(log)) {}

void MetricsService::register_methods(core::RpcRegistry& registry) {
  registry.add("metrics.Declare", [this](const core::RpcCall& c) { return declare(c); });
  registry.add("metrics.Add", [this](const core::RpcCall& c) { return value_op(c, &AppMetrics::add); });
  registry.add("metrics.Sub", [this](const core::RpcCall& c) { return value_op(c, &AppMetrics::sub); });
  registry.add("metrics.Set", [this](const core::RpcCall& c) { return value_op(c, &AppMetrics::set); });
  registry.add("metrics.Observe", [this](const core::RpcCall& c) { return value_op(c, &AppMetrics::observe); });
  registry.add("metrics.Unregister", [this](const core::RpcCall& c) { return unregister(c); });
}

asio::awaitable<core::RpcResult> MetricsService::declare(const core::RpcCall& call) {
  config::MetricsCollectorConfig spec;
  std::string error;
  if (!args::decode_declare(call, spec, error)) co_return core::RpcResult::fail(std::move(error));
  const std::size_t before = app_.size();
  try {
    error = app_.declare(spec);
  } catch (const std::exception& e) {
    error = std::string("metrics_plugin_declare: ") + e.what();
  }
  if (!error.empty()) {
    log_->warn("event=metrics_declare_failed name={} error={}", json_quoted(spec.name), json_quoted(error));
    co_return core::RpcResult::fail(std::move(error));
  }
  if (app_.size() != before) {
    log_->info("event=metrics_declared name={} full_name={} type={} labels={}", spec.name, config::metrics_full_name(spec), spec.type,
               spec.labels.size());
  }
  co_return rpc::args::json_reply(call, true);
}

asio::awaitable<core::RpcResult> MetricsService::value_op(const core::RpcCall& call, Op op) {
  MetricArg m;
  std::string error;
  if (!args::decode_metric(call, m, error)) co_return core::RpcResult::fail(std::move(error));
  try {
    error = (app_.*op)(m.name, m.value, m.labels);
  } catch (const std::exception& e) {
    error = "rpc: " + call.method + ": " + e.what();
  }
  if (!error.empty()) {
    // Debug only: an application calling wrongly in a loop must not flood the log.
    log_->debug("event=metrics_call_failed method={} name={} error={}", call.method, json_quoted(m.name), json_quoted(error));
    co_return core::RpcResult::fail(std::move(error));
  }
  co_return rpc::args::json_reply(call, true);
}

asio::awaitable<core::RpcResult> MetricsService::unregister(const core::RpcCall& call) {
  std::string name, error;
  if (!rpc::args::decode_string(call, name, error)) co_return core::RpcResult::fail(std::move(error));
  error = app_.unregister(name);
  if (!error.empty()) co_return core::RpcResult::fail(std::move(error));
  log_->info("event=metrics_unregistered name={}", json_quoted(name));
  co_return rpc::args::json_reply(call, true);
}

}  // namespace pivot::metrics
