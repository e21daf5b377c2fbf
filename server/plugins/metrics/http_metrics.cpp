#include "server/plugins/metrics/http_metrics.hpp"

#include <string>

namespace pivot::metrics {

HttpMetrics::HttpMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("rr_http_request_total")
                    .Help("Total number of handled http requests after server restart.")
                    .Register(registry)),
      durations_(prometheus::BuildHistogram().Name("rr_http_request_duration_seconds").Help("HTTP request duration.").Register(registry)),
      queue_(prometheus::BuildGauge().Name("rr_http_requests_queue").Help("Total number of queued requests.").Register(registry).Add({})),
      no_free_workers_(prometheus::BuildCounter()
                           .Name("rr_http_no_free_workers_total")
                           .Help("Total number of NoFreeWorkers occurrences.")
                           .Register(registry)
                           .Add({})),
      buckets_(kBuckets.begin(), kBuckets.end()) {}

HttpMetrics::Clock::time_point HttpMetrics::begin() noexcept {
  queue_.Increment();
  return Clock::now();
}

void HttpMetrics::end(Clock::time_point started, int status, bool no_free_worker) noexcept {
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  queue_.Decrement();
  if (no_free_worker) no_free_workers_.Increment();
  if (status >= kMinStatus && status <= kMaxStatus) {
    const auto slot = static_cast<std::size_t>(status - kMinStatus);
    prometheus::Counter* counter = counters_[slot].load(std::memory_order_acquire);
    prometheus::Histogram* histogram = histograms_[slot].load(std::memory_order_acquire);
    if (counter != nullptr && histogram != nullptr) {
      counter->Increment();
      histogram->Observe(seconds);
      return;
    }
  }
  record_uncached(status, seconds);
}

void HttpMetrics::record_uncached(int status, double seconds) noexcept {
  try {
    const prometheus::Labels labels{{"status", std::to_string(status)}};
    // Family::Add returns the existing child for known labels, so racing threads agree on it.
    prometheus::Counter& counter = requests_.Add(labels);
    prometheus::Histogram& histogram = durations_.Add(labels, buckets_);
    counter.Increment();
    histogram.Observe(seconds);
    if (status >= kMinStatus && status <= kMaxStatus) {
      const auto slot = static_cast<std::size_t>(status - kMinStatus);
      counters_[slot].store(&counter, std::memory_order_release);
      histograms_[slot].store(&histogram, std::memory_order_release);
    }
  } catch (...) {
    // Out of memory while creating a series: the request goes uncounted rather than failing.
  }
}

}  // namespace pivot::metrics
