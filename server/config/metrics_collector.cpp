#include "server/config/metrics_collector.hpp"

#include <charconv>
#include <cmath>
#include <set>

namespace pivot::config {
namespace {

bool valid_metric_name(const std::string& s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool valid_label_name(const std::string& s) {
  if (s.empty() || s.rfind("__", 0) == 0) return false;  // "__" names are reserved for Prometheus
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

std::string metrics_full_name(const MetricsCollectorConfig& c) {
  if (c.name.empty()) return {};
  std::string out;
  for (const std::string* part : {&c.namespace_name, &c.subsystem}) {
    if (part->empty()) continue;
    out += *part;
    out += '_';
  }
  return out + c.name;
}

std::vector<double> metrics_default_buckets() { return {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}; }

std::string metrics_format_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string metrics_collector_problem(const MetricsCollectorConfig& c) {
  const bool histogram = c.type == "histogram";
  const bool summary = c.type == "summary";
  if (!histogram && !summary && c.type != "counter" && c.type != "gauge") return "unknown collector type " + c.type;
  const std::string full = metrics_full_name(c);
  if (!valid_metric_name(full)) return quoted(full) + " is not a valid metric name";
  std::set<std::string> seen;
  for (const auto& l : c.labels) {
    if (!valid_label_name(l)) return quoted(l) + " is not a valid label name for metric " + quoted(full);
    if (!seen.insert(l).second) return "duplicate label names in constant and variable labels for metric " + quoted(full);
    if (histogram && l == "le") return "\"le\" is not allowed as label name in histograms";
    if (summary && l == "quantile") return "\"quantile\" is not allowed as label name in summaries";
  }
  if (histogram) {
    for (std::size_t i = 0; i < c.buckets.size(); ++i) {
      if (std::isnan(c.buckets[i])) return "histogram bucket " + std::to_string(i) + " is not a number";
      if (i > 0 && c.buckets[i - 1] >= c.buckets[i]) {
        return "histogram buckets must be in increasing order: " + metrics_format_number(c.buckets[i - 1]) +
               " >= " + metrics_format_number(c.buckets[i]);
      }
    }
  }
  if (summary) {
    for (const auto& [q, err] : c.objectives) {
      if (!(q >= 0 && q <= 1)) return "summary objective " + metrics_format_number(q) + " is not a quantile between 0 and 1";
      if (!(err >= 0 && err <= 1)) {
        return "summary objective " + metrics_format_number(q) + ": the allowed error " + metrics_format_number(err) +
               " is not between 0 and 1";
      }
    }
  }
  return {};
}

}  // namespace pivot::config
