#pragma once

#include <string>
#include <vector>

#include "server/config/config.hpp"

namespace pivot::config {

/// The Prometheus full name of a collector, namespace_subsystem_name with empty parts skipped
/// (client_golang's BuildFQName); "" when the name is empty. Pure.
std::string metrics_full_name(const MetricsCollectorConfig& c);

/// Checks a collector definition as client_golang would: the type, the full name, the label
/// names, the histogram buckets and the summary objectives. Returns "" when it is valid, else the
/// problem in client_golang's words (`unknown collector type X`, `"9x" is not a valid metric
/// name`, ...), without any prefix. Pure; used by the config loader and by RPC metrics.Declare.
std::string metrics_collector_problem(const MetricsCollectorConfig& c);

/// Prometheus' default histogram buckets (client_golang DefBuckets), used when none are given.
std::vector<double> metrics_default_buckets();

/// A double as Go's %v prints it (shortest form: 0.5, 2, 1e+06). Pure.
std::string metrics_format_number(double v);

}  // namespace pivot::config
