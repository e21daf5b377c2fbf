#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <chrono>

namespace pivot::metrics {

/// RoadRunner's `http_metrics` middleware metrics (protocol doc §6.4): `rr_http_request_total{status}`,
/// `rr_http_request_duration_seconds{status}`, `rr_http_requests_queue` (in flight) and
/// `rr_http_no_free_workers_total`. Sessions call begin() and end() on any thread, concurrently;
/// both are lock-free and allocation-free once a status has been seen (its Counter and Histogram
/// are cached in fixed arrays of atomic pointers, filled lazily through Family::Add).
class HttpMetrics {
 public:
  using Clock = std::chrono::steady_clock;

  /// The duration buckets, in seconds.
  static constexpr std::array<double, 14> kBuckets{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30, 60};

  /// Registers the four families in `registry`, which must outlive this object.
  explicit HttpMetrics(prometheus::Registry& registry);
  HttpMetrics(const HttpMetrics&) = delete;
  HttpMetrics& operator=(const HttpMetrics&) = delete;

  /// A request is complete and about to run: the in-flight gauge goes up. Returns its start time.
  Clock::time_point begin() noexcept;

  /// Its response was written with `status` (or failed for want of a worker): the in-flight gauge
  /// goes down, the request is counted and its duration since `started` observed.
  void end(Clock::time_point started, int status, bool no_free_worker) noexcept;

 private:
  static constexpr int kMinStatus = 100;
  static constexpr int kMaxStatus = 999;
  static constexpr std::size_t kSlots = kMaxStatus - kMinStatus + 1;

  /// Slow path: the status seen for the first time (or out of range); Family::Add is idempotent.
  void record_uncached(int status, double seconds) noexcept;

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  prometheus::Gauge& queue_;
  prometheus::Counter& no_free_workers_;
  prometheus::Histogram::BucketBoundaries buckets_;
  std::array<std::atomic<prometheus::Counter*>, kSlots> counters_{};
  std::array<std::atomic<prometheus::Histogram*>, kSlots> histograms_{};
};

}  // namespace pivot::metrics
