#pragma once

#include <asio/awaitable.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "server/core/rpc_registry.hpp"
#include "server/pool/pool.hpp"

namespace pivot::rpc {

/// The `informer` RPC service (protocol doc §5.5): lists the plugins that own worker pools and
/// reports their workers. Borrows the pools, which outlive the RPC server. Handlers run on the
/// calling connection's strand and hop to each pool's strand through the Pool API.
class InformerService {
 public:
  /// The jobs plugin's pipeline states as informer.Jobs answers them (an array of objects with
  /// RoadRunner's Go field names), or null for a plugin without pipelines. Any executor.
  using JobsSource = std::function<asio::awaitable<nlohmann::ordered_json>(const std::string& plugin)>;

  /// Serves `pools` (each named by Pool::name()).
  explicit InformerService(std::vector<std::reference_wrapper<pool::Pool>> pools);

  /// Jobs plugin: where informer.Jobs gets pipeline states. Control path, before serving.
  void set_jobs_source(JobsSource source) { jobs_source_ = std::move(source); }

  /// Adds informer.List, informer.Workers, informer.Jobs, informer.AddWorker and
  /// informer.RemoveWorker to `registry`. Call before serving starts.
  void register_methods(core::RpcRegistry& registry);

 private:
  asio::awaitable<core::RpcResult> list(const core::RpcCall& call);
  asio::awaitable<core::RpcResult> workers(const core::RpcCall& call);
  asio::awaitable<core::RpcResult> jobs(const core::RpcCall& call);
  asio::awaitable<core::RpcResult> scale(const core::RpcCall& call);
  pool::Pool* find(const std::string& name) const;

  std::vector<std::reference_wrapper<pool::Pool>> pools_;
  JobsSource jobs_source_;
};

}  // namespace pivot::rpc
