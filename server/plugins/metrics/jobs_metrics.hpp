#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>

namespace pivot::metrics {

/// RoadRunner's jobs metrics (protocol doc §6.4): counters `rr_jobs_push_ok`, `rr_jobs_push_err`,
/// `rr_jobs_jobs_ok`, `rr_jobs_jobs_err`, `rr_jobs_requests_total{job,driver,source}` and the
/// histogram `rr_jobs_push_latency{job,driver,source}` (`job` = pipeline name, `source` = single
/// or batch). Fed through the jobs plugin's hooks; thread-safe (prometheus-cpp's families lock).
class JobsMetrics {
 public:
  /// Registers the families in `registry`, which must outlive this object.
  explicit JobsMetrics(prometheus::Registry& registry);
  JobsMetrics(const JobsMetrics&) = delete;
  JobsMetrics& operator=(const JobsMetrics&) = delete;

  /// One push to `pipeline` (driver, source) finished after `seconds`.
  void push(const std::string& pipeline, const std::string& driver, const char* source, bool ok, double seconds);
  /// One job settled after its worker ran.
  void job(bool ok) noexcept;

 private:
  prometheus::Counter& push_ok_;
  prometheus::Counter& push_err_;
  prometheus::Counter& jobs_ok_;
  prometheus::Counter& jobs_err_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Histogram::BucketBoundaries buckets_;
};

}  // namespace pivot::metrics
