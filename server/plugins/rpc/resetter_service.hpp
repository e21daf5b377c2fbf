#pragma once

#include <spdlog/logger.h>

#include <asio/awaitable.hpp>

#include <functional>
#include <memory>
#include <vector>

#include "server/core/rpc_registry.hpp"
#include "server/pool/pool.hpp"

namespace pivot::rpc {

/// The `resetter` RPC service (protocol doc §5.6): rolling restart of a plugin's workers, as
/// `pivot-server reset` and `rr reset` ask. Borrows the pools, which outlive the RPC server.
/// Handlers run on the calling connection's strand.
class ResetterService {
 public:
  /// Serves `pools` (each named by Pool::name()); logs one line per reset to `log`.
  ResetterService(std::vector<std::reference_wrapper<pool::Pool>> pools, std::shared_ptr<spdlog::logger> log);

  /// Adds resetter.List and resetter.Reset to `registry`. Call before serving starts.
  void register_methods(core::RpcRegistry& registry);

 private:
  asio::awaitable<core::RpcResult> list(const core::RpcCall& call);
  asio::awaitable<core::RpcResult> reset(const core::RpcCall& call);

  std::vector<std::reference_wrapper<pool::Pool>> pools_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace pivot::rpc
