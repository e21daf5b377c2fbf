#pragma once

#include <asio/awaitable.hpp>

#include <functional>
#include <vector>

#include "server/core/rpc_registry.hpp"
#include "server/pool/pool.hpp"

namespace pivot::rpc {

/// The `informer` RPC service (protocol doc §5.5): lists the plugins that own worker pools and
/// reports their workers. Borrows the pools, which outlive the RPC server. Handlers run on the
/// calling connection's strand and hop to each pool's strand through the Pool API.
class InformerService {
 public:
  /// Serves `pools` (each named by Pool::name()).
  explicit InformerService(std::vector<std::reference_wrapper<pool::Pool>> pools);

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
};

}  // namespace pivot::rpc
