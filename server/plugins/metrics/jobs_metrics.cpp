#include "server/plugins/metrics/jobs_metrics.hpp"

namespace pivot::metrics {

JobsMetrics::JobsMetrics(prometheus::Registry& registry)
    : push_ok_(prometheus::BuildCounter().Name("rr_jobs_push_ok").Help("Number of job push").Register(registry).Add({})),
      push_err_(prometheus::BuildCounter().Name("rr_jobs_push_err").Help("Number of jobs push which was failed").Register(registry).Add({})),
      jobs_ok_(prometheus::BuildCounter().Name("rr_jobs_jobs_ok").Help("Number of successfully processed jobs").Register(registry).Add({})),
      jobs_err_(prometheus::BuildCounter().Name("rr_jobs_jobs_err").Help("Number of jobs error while processing in the worker").Register(registry).Add({})),
      requests_(prometheus::BuildCounter().Name("rr_jobs_requests_total").Help("Total number of pushed jobs").Register(registry)),
      latency_(prometheus::BuildHistogram().Name("rr_jobs_push_latency").Help("Histogram represents latency for pushed operation").Register(registry)),
      buckets_{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10} {}

void JobsMetrics::push(const std::string& pipeline, const std::string& driver, const char* source, bool ok, double seconds) {
  (ok ? push_ok_ : push_err_).Increment();
  try {
    const prometheus::Labels labels{{"job", pipeline}, {"driver", driver}, {"source", source}};
    requests_.Add(labels).Increment();
    latency_.Add(labels, buckets_).Observe(seconds);
  } catch (...) {
    // Out of memory while creating a series: the push goes uncounted rather than failing.
  }
}

void JobsMetrics::job(bool ok) noexcept { (ok ? jobs_ok_ : jobs_err_).Increment(); }

}  // namespace pivot::metrics
