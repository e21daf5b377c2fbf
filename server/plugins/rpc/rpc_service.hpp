#pragma once

#include <asio/awaitable.hpp>

#include <string>

#include "server/core/rpc_registry.hpp"

namespace pivot::rpc {

/// The `rpc` self-service (protocol doc §5.7): the server's version and its effective
/// configuration. Holds copies, so it depends on nothing; handlers run on any executor.
class RpcService {
 public:
  /// `version` is answered by rpc.Version, `config_json` (the whole effective config) by rpc.Config.
  RpcService(std::string version, std::string config_json);

  /// Adds rpc.Version and rpc.Config to `registry`. Call before serving starts.
  void register_methods(core::RpcRegistry& registry);

 private:
  asio::awaitable<core::RpcResult> version(const core::RpcCall& call);
  asio::awaitable<core::RpcResult> config(const core::RpcCall& call);

  std::string version_;
  std::string config_json_;
};

}  // namespace pivot::rpc
