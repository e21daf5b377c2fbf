#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/summary.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "server/config/config.hpp"

namespace pivot::metrics {

/// Application collectors declared by PHP (RPC metrics.*) or in `metrics.collect`, with the
/// semantics and error texts of RoadRunner's metrics plugin (protocol doc §5.4). Every method is
/// thread-safe (one mutex over the collector map; RPC calls arrive from many connections) and
/// returns "" on success or the error text to send back, `op: message` as RoadRunner prints it.
class AppMetrics {
 public:
  /// `reserved` lists full names that are built in (rr_http_*, process_*, ...) and cannot be declared.
  explicit AppMetrics(std::set<std::string, std::less<>> reserved);
  ~AppMetrics();
  AppMetrics(const AppMetrics&) = delete;
  AppMetrics& operator=(const AppMetrics&) = delete;

  /// Declares `spec` under spec.name. A name that exists already succeeds and changes nothing.
  std::string declare(const config::MetricsCollectorConfig& spec);
  /// Adds `value` to a counter or gauge (`labels` are the label values of a vector collector).
  std::string add(std::string_view name, double value, const std::vector<std::string>& labels);
  /// Subtracts `value` from a gauge.
  std::string sub(std::string_view name, double value, const std::vector<std::string>& labels);
  /// Sets a gauge.
  std::string set(std::string_view name, double value, const std::vector<std::string>& labels);
  /// Observes `value` in a histogram, or a summary with labels.
  std::string observe(std::string_view name, double value, const std::vector<std::string>& labels);
  /// Removes a collector and its series.
  std::string unregister(std::string_view name);

  /// Every declared collector's samples (vector collectors without series are left out).
  std::vector<prometheus::MetricFamily> collect() const;
  /// The number of declared collectors.
  std::size_t size() const;

 private:
  enum class Kind { counter, gauge, histogram, summary };
  struct Collector {
    Kind kind = Kind::counter;
    std::string full_name;
    std::vector<std::string> labels;
    prometheus::Family<prometheus::Counter>* counters = nullptr;
    prometheus::Family<prometheus::Gauge>* gauges = nullptr;
    prometheus::Family<prometheus::Histogram>* histograms = nullptr;
    prometheus::Family<prometheus::Summary>* summaries = nullptr;
    prometheus::Histogram::BucketBoundaries buckets;
    prometheus::Summary::Quantiles quantiles;
    std::map<std::vector<std::string>, void*> children;  // label values -> the family's child (a T*)
  };

  /// The child series for `values`, or nullptr with `error` set (label cardinality).
  template <typename T, typename... Args>
  T* child(prometheus::Family<T>& family, Collector& c, const std::vector<std::string>& values, std::string& error,
           Args&&... args);
  void remove_family(Collector& c);

  mutable std::mutex mu_;
  prometheus::Registry registry_;
  std::map<std::string, Collector, std::less<>> collectors_;
  std::set<std::string, std::less<>> reserved_;
};

}  // namespace pivot::metrics
