#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "server/pool/worker_info.hpp"

namespace pivot::metrics {

/// Worker metrics of a pool: RoadRunner's seven gauges (protocol doc §6.4), computed at scrape
/// time from Pool::workers() so no series outlives its pid, and our own
/// `pivot_worker_restarts_total{pool,reason}`, counted through Pool::Options::on_retire.
class WorkerMetrics {
 public:
  /// Registers pivot_worker_restarts_total in `registry`, which must outlive this object.
  explicit WorkerMetrics(prometheus::Registry& registry);
  WorkerMetrics(const WorkerMetrics&) = delete;
  WorkerMetrics& operator=(const WorkerMetrics&) = delete;

  /// A Pool::Options::on_retire hook for pool `pool`. The hook must be called on one executor
  /// at a time (the pool's strand): it caches its counters per reason without a lock.
  std::function<void(std::string_view reason)> restart_hook(std::string pool);

  /// `<prefix>_total_workers`, `_workers_memory_bytes`, `_worker_state{state,pid}` (value 0),
  /// `_worker_memory_bytes{pid}`, `_workers_ready`, `_workers_working`, `_workers_invalid` for
  /// one snapshot of `pool`'s workers; `prefix` is "rr_http" for the http pool. Pure.
  static std::vector<prometheus::MetricFamily> pool_families(std::string_view prefix, std::string_view pool,
                                                             const std::vector<pool::WorkerInfo>& workers);

 private:
  prometheus::Family<prometheus::Counter>& restarts_;
};

}  // namespace pivot::metrics
