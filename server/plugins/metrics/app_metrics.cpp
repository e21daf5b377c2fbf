#include "server/plugins/metrics/app_metrics.hpp"

#include <chrono>
#include <cmath>
#include <exception>
#include <utility>

#include "server/config/metrics_collector.hpp"

namespace pivot::metrics {
namespace {

// client_golang's summary defaults: observations are kept for 10 minutes in 5 age buckets.
constexpr auto kSummaryMaxAge = std::chrono::minutes(10);
constexpr int kSummaryAgeBuckets = 5;

/// Go's %q for a string (enough for label values: quotes, backslashes, control bytes).
std::string go_quote(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

/// Go's %#v of a []string: []string{"a", "b"}.
std::string go_string_slice(const std::vector<std::string>& v) {
  std::string out = "[]string{";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ", ";
    out += go_quote(v[i]);
  }
  return out + "}";
}

}  // namespace

AppMetrics::AppMetrics(std::set<std::string, std::less<>> reserved)
    : registry_(prometheus::Registry::InsertBehavior::Throw), reserved_(std::move(reserved)) {}

AppMetrics::~AppMetrics() = default;

template <typename T, typename... Args>
T* AppMetrics::child(prometheus::Family<T>& family, Collector& c, const std::vector<std::string>& values, std::string& error,
                     Args&&... args) {
  // Label values given to a plain collector are ignored, as RoadRunner does.
  static const std::vector<std::string> kNone;
  const std::vector<std::string>& key = c.labels.empty() ? kNone : values;
  // Family::Add builds a T before finding the existing one; the cache spares that per call.
  if (const auto hit = c.children.find(key); hit != c.children.end()) return static_cast<T*>(hit->second);
  if (c.labels.empty()) {
    T* t = &family.Add({}, std::forward<Args>(args)...);
    c.children.emplace(key, t);
    return t;
  }
  if (values.size() != c.labels.size()) {
    error = "inconsistent label cardinality: expected " + std::to_string(c.labels.size()) + " label values but got " +
            std::to_string(values.size()) + " in " + go_string_slice(values);
    return nullptr;
  }
  prometheus::Labels labels;
  for (std::size_t i = 0; i < values.size(); ++i) labels.emplace(c.labels[i], values[i]);
  T* t = &family.Add(labels, std::forward<Args>(args)...);
  c.children.emplace(key, t);
  return t;
}

std::string AppMetrics::declare(const config::MetricsCollectorConfig& spec) {
  static constexpr std::string_view op = "metrics_plugin_declare: ";
  std::lock_guard lock(mu_);
  if (collectors_.find(spec.name) != collectors_.end()) return {};  // RoadRunner's PHP client treats a re-declare as success
  if (std::string problem = config::metrics_collector_problem(spec); !problem.empty()) return std::string(op) + problem;
  const std::string full = config::metrics_full_name(spec);
  bool taken = reserved_.find(full) != reserved_.end();
  for (const auto& [name, c] : collectors_) taken = taken || c.full_name == full;
  if (taken) return std::string(op) + "duplicate metrics collector registration attempted: " + full + " is already registered";

  Collector c;
  c.full_name = full;
  c.labels = spec.labels;
  try {
    if (spec.type == "counter") {
      c.kind = Kind::counter;
      c.counters = &prometheus::BuildCounter().Name(full).Help(spec.help).Register(registry_);
      if (c.labels.empty()) c.counters->Add({});
    } else if (spec.type == "gauge") {
      c.kind = Kind::gauge;
      c.gauges = &prometheus::BuildGauge().Name(full).Help(spec.help).Register(registry_);
      if (c.labels.empty()) c.gauges->Add({});
    } else if (spec.type == "histogram") {
      c.kind = Kind::histogram;
      c.buckets = spec.buckets.empty() ? config::metrics_default_buckets() : spec.buckets;
      if (!c.buckets.empty() && std::isinf(c.buckets.back()) && c.buckets.back() > 0) c.buckets.pop_back();  // +Inf is implicit
      c.histograms = &prometheus::BuildHistogram().Name(full).Help(spec.help).Register(registry_);
      if (c.labels.empty()) c.histograms->Add({}, c.buckets);
    } else {
      c.kind = Kind::summary;
      for (const auto& [q, err] : spec.objectives) c.quantiles.emplace_back(q, err);
      c.summaries = &prometheus::BuildSummary().Name(full).Help(spec.help).Register(registry_);
      if (c.labels.empty()) c.summaries->Add({}, c.quantiles, kSummaryMaxAge, kSummaryAgeBuckets);
    }
  } catch (const std::exception& e) {
    remove_family(c);
    return std::string(op) + e.what();
  }
  collectors_.emplace(spec.name, std::move(c));
  return {};
}

std::string AppMetrics::add(std::string_view name, double value, const std::vector<std::string>& labels) {
  static constexpr std::string_view op = "metrics_plugin_add: ";
  const std::string n(name);
  std::lock_guard lock(mu_);
  const auto it = collectors_.find(name);
  if (it == collectors_.end()) return std::string(op) + "undefined collector " + n + ", try first Declare the desired collector";
  Collector& c = it->second;
  std::string error;
  switch (c.kind) {
    case Kind::gauge:
      if (!c.labels.empty() && labels.empty()) return std::string(op) + "required labels for collector " + n;
      if (auto* g = child(*c.gauges, c, labels, error)) g->Increment(value);
      break;
    case Kind::counter:
      if (!c.labels.empty() && labels.empty()) return std::string(op) + "required labels for collector `" + n + "`";
      if (value < 0) return std::string(op) + "counter cannot decrease in value";
      if (auto* k = child(*c.counters, c, labels, error)) k->Increment(value);
      break;
    default:
      return std::string(op) + "collector " + n + " does not support method `Add`";
  }
  return error.empty() ? error : std::string(op) + error;
}

std::string AppMetrics::sub(std::string_view name, double value, const std::vector<std::string>& labels) {
  static constexpr std::string_view op = "metrics_plugin_sub: ";
  const std::string n(name);
  std::lock_guard lock(mu_);
  const auto it = collectors_.find(name);
  if (it == collectors_.end()) return std::string(op) + "undefined collector " + n;
  Collector& c = it->second;
  if (c.kind != Kind::gauge) return std::string(op) + "collector `" + n + "` does not support method `Sub`";
  if (!c.labels.empty() && labels.empty()) return std::string(op) + "required labels for collector " + n;
  std::string error;
  if (auto* g = child(*c.gauges, c, labels, error)) g->Decrement(value);
  return error.empty() ? error : std::string(op) + error;
}

std::string AppMetrics::set(std::string_view name, double value, const std::vector<std::string>& labels) {
  static constexpr std::string_view op = "metrics_plugin_set: ";
  const std::string n(name);
  std::lock_guard lock(mu_);
  const auto it = collectors_.find(name);
  if (it == collectors_.end()) return std::string(op) + "undefined collector " + n;
  Collector& c = it->second;
  if (c.kind != Kind::gauge) return std::string(op) + "collector `" + n + "` does not support method Set";
  if (!c.labels.empty() && labels.empty()) return std::string(op) + "required labels for collector " + n;
  std::string error;
  if (auto* g = child(*c.gauges, c, labels, error)) g->Set(value);
  return error.empty() ? error : std::string(op) + error;
}

std::string AppMetrics::observe(std::string_view name, double value, const std::vector<std::string>& labels) {
  static constexpr std::string_view op = "metrics_plugin_observe: ";
  const std::string n(name);
  std::lock_guard lock(mu_);
  const auto it = collectors_.find(name);
  if (it == collectors_.end()) return std::string(op) + "undefined collector " + n;
  Collector& c = it->second;
  std::string error;
  if (c.kind == Kind::summary && !c.labels.empty()) {
    // RoadRunner observes summaries only as vectors; a plain summary falls to "does not support".
    if (labels.empty()) return std::string(op) + "required labels for collector `" + n + "`";
    if (auto* s = child(*c.summaries, c, labels, error, c.quantiles, kSummaryMaxAge, kSummaryAgeBuckets)) s->Observe(value);
  } else if (c.kind == Kind::histogram) {
    if (!c.labels.empty() && labels.empty()) return std::string(op) + "required labels for collector `" + n + "`";
    if (auto* h = child(*c.histograms, c, labels, error, c.buckets)) h->Observe(value);
  } else {
    return std::string(op) + "collector `" + n + "` does not support method `Observe`";
  }
  return error.empty() ? error : std::string(op) + error;
}

std::string AppMetrics::unregister(std::string_view name) {
  std::lock_guard lock(mu_);
  const auto it = collectors_.find(name);
  if (it == collectors_.end()) return "metrics_plugin_unregister: undefined collector " + std::string(name);
  remove_family(it->second);
  collectors_.erase(it);
  return {};
}

void AppMetrics::remove_family(Collector& c) {
  if (c.counters) registry_.Remove(*c.counters);
  if (c.gauges) registry_.Remove(*c.gauges);
  if (c.histograms) registry_.Remove(*c.histograms);
  if (c.summaries) registry_.Remove(*c.summaries);
  c.counters = nullptr;
  c.gauges = nullptr;
  c.histograms = nullptr;
  c.summaries = nullptr;
}

std::vector<prometheus::MetricFamily> AppMetrics::collect() const { return registry_.Collect(); }

std::size_t AppMetrics::size() const {
  std::lock_guard lock(mu_);
  return collectors_.size();
}

}  // namespace pivot::metrics
