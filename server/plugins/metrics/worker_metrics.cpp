#include "server/plugins/metrics/worker_metrics.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <utility>

namespace pivot::metrics {
namespace {

// RoadRunner's state numbers (protocol doc §2.9) for the two states it counts apart.
constexpr std::int64_t kStateReady = 1;
constexpr std::int64_t kStateWorking = 2;

prometheus::MetricFamily gauge_family(std::string name, std::string help) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = prometheus::MetricType::Gauge;
  return f;
}

prometheus::ClientMetric gauge(double value, std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  return m;
}

}  // namespace

WorkerMetrics::WorkerMetrics(prometheus::Registry& registry)
    : restarts_(prometheus::BuildCounter()
                    .Name("pivot_worker_restarts_total")
                    .Help("Workers retired or killed (and replaced), by pool and reason (max_jobs, ttl, idle_ttl, "
                          "max_worker_memory, exec_ttl, crashed, reset, ...).")
                    .Register(registry)) {}

std::function<void(std::string_view)> WorkerMetrics::restart_hook(std::string pool) {
  // Reasons are few (worker::reason_name); each gets its Counter once, then a linear lookup.
  auto cache = std::make_shared<std::vector<std::pair<std::string, prometheus::Counter*>>>();
  return [this, pool = std::move(pool), cache](std::string_view reason) {
    for (const auto& [r, counter] : *cache) {
      if (r == reason) {
        counter->Increment();
        return;
      }
    }
    prometheus::Counter& counter = restarts_.Add({{"pool", pool}, {"reason", std::string(reason)}});
    cache->emplace_back(std::string(reason), &counter);
    counter.Increment();
  };
}

std::vector<prometheus::MetricFamily> WorkerMetrics::pool_families(std::string_view prefix, std::string_view pool,
                                                                   const std::vector<pool::WorkerInfo>& workers) {
  const std::string p(prefix);
  std::string upper(pool);
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });

  // Help texts are RoadRunner's (http plugin metrics.go).
  auto total = gauge_family(p + "_total_workers", "Total number of workers used by the " + upper + " plugin");
  auto memory = gauge_family(p + "_workers_memory_bytes", "Memory usage by " + upper + " workers.");
  auto state = gauge_family(p + "_worker_state", "Worker current state");
  auto worker_memory = gauge_family(p + "_worker_memory_bytes", "Worker current memory usage");
  auto ready = gauge_family(p + "_workers_ready", upper + " workers currently in ready state");
  auto working = gauge_family(p + "_workers_working", upper + " workers currently in working state");
  auto invalid = gauge_family(p + "_workers_invalid", upper + " workers currently in invalid,killing,destroyed,errored,inactive states");

  double rss_sum = 0;
  unsigned n_ready = 0, n_working = 0, n_invalid = 0;
  std::vector<const pool::WorkerInfo*> sorted;
  sorted.reserve(workers.size());
  for (const auto& w : workers) sorted.push_back(&w);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->pid < b->pid; });
  for (const pool::WorkerInfo* w : sorted) {
    const std::string pid = std::to_string(w->pid);
    rss_sum += static_cast<double>(w->memory_rss);
    if (w->status == kStateReady) {
      ++n_ready;
    } else if (w->status == kStateWorking) {
      ++n_working;
    } else {
      ++n_invalid;
    }
    state.metric.push_back(gauge(0, {{"pid", pid}, {"state", w->status_str}}));
    worker_memory.metric.push_back(gauge(static_cast<double>(w->memory_rss), {{"pid", pid}}));
  }
  total.metric.push_back(gauge(static_cast<double>(workers.size())));
  memory.metric.push_back(gauge(rss_sum));
  ready.metric.push_back(gauge(n_ready));
  working.metric.push_back(gauge(n_working));
  invalid.metric.push_back(gauge(n_invalid));

  std::vector<prometheus::MetricFamily> out;
  out.reserve(7);
  for (auto* f : {&total, &memory, &state, &worker_memory, &ready, &working, &invalid}) out.push_back(std::move(*f));
  return out;
}

}  // namespace pivot::metrics
