#include "server/plugins/metrics/metrics_plugin.hpp"

#include <set>
#include <stdexcept>

#include "server/config/metrics_collector.hpp"

namespace pivot::metrics {
namespace {

/// Full names the server exposes itself; an application collector may not take them.
std::set<std::string, std::less<>> builtin_names() {
  return {"rr_http_request_total",       "rr_http_request_duration_seconds", "rr_http_requests_queue",
          "rr_http_no_free_workers_total", "rr_http_uptime_seconds",         "rr_http_total_workers",
          "rr_http_workers_memory_bytes", "rr_http_worker_state",            "rr_http_worker_memory_bytes",
          "rr_http_workers_ready",       "rr_http_workers_working",          "rr_http_workers_invalid",
          "rr_jobs_push_ok",             "rr_jobs_push_err",                 "rr_jobs_jobs_ok",
          "rr_jobs_jobs_err",            "rr_jobs_requests_total",           "rr_jobs_push_latency",
          "rr_jobs_total_workers",       "rr_jobs_workers_memory_bytes",     "rr_jobs_worker_state",
          "rr_jobs_worker_memory_bytes", "rr_jobs_workers_ready",            "rr_jobs_workers_working",
          "rr_jobs_workers_invalid",
          "pivot_worker_restarts_total", "process_cpu_seconds_total",        "process_max_fds",
          "process_open_fds",            "process_resident_memory_bytes",    "process_start_time_seconds",
          "process_virtual_memory_bytes"};
}

}  // namespace

MetricsPlugin::MetricsPlugin(asio::io_context& io, const config::MetricsConfig& cfg, std::shared_ptr<spdlog::logger> log)
    : io_(io),
      cfg_(cfg),
      log_(std::move(log)),
      http_(registry_),
      jobs_(registry_),
      workers_(registry_),
      app_(builtin_names()),
      service_(app_, log_) {
  for (const auto& c : cfg_.collect) {
    if (std::string error = app_.declare(c); !error.empty()) {
      throw std::runtime_error("metrics.collect." + c.name + ": " + error);
    }
    log_->info("event=metrics_declared name={} full_name={} type={} labels={} source=config", c.name, config::metrics_full_name(c),
               c.type, c.labels.size());
  }
}

MetricsPlugin::~MetricsPlugin() = default;

void MetricsPlugin::register_methods(core::RpcRegistry& registry) { service_.register_methods(registry); }

void MetricsPlugin::start(std::vector<pool::Pool*> pools) {
  server_ = std::make_unique<MetricsServer>(io_, cfg_, std::move(pools), registry_, app_, log_);
  server_->start();
}

void MetricsPlugin::stop() {
  if (server_) server_->stop();
}

}  // namespace pivot::metrics
