#pragma once

#include <string>
#include <vector>

#include "server/config/config.hpp"
#include "server/core/rpc_registry.hpp"

namespace pivot::metrics {

/// The argument of metrics.Add / Sub / Set / Observe (protocol doc §5.4). Plain data.
struct MetricArg {
  std::string name;                 ///< the collector name
  double value = 0;                 ///< the operand
  std::vector<std::string> labels;  ///< label values of a vector collector
};

/// Decoders of the metrics service's JSON arguments. Field names match case-insensitively, as
/// Go's encoding/json does; an empty body is Go's zero value. Pure functions, any thread.
namespace args {

/// `{"name":s,"value":f,"labels":[s…]}`. On failure returns false with `error` set.
bool decode_metric(const core::RpcCall& call, MetricArg& out, std::string& error);

/// `{"name":s,"collector":{"namespace","subsystem","type","help","labels","buckets","objectives"}}`.
bool decode_declare(const core::RpcCall& call, config::MetricsCollectorConfig& out, std::string& error);

}  // namespace args
}  // namespace pivot::metrics
