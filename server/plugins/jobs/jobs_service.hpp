#pragma once

#include <spdlog/logger.h>

#include <asio/awaitable.hpp>

#include <memory>

#include "server/core/rpc_registry.hpp"
#include "server/plugins/jobs/jobs_plugin.hpp"

namespace pivot::jobs {

/// The `jobs` RPC service (protocol doc §4.3): jobs.Push, PushBatch, Pause, Resume, List,
/// Declare, Destroy and Stat with the jobs.v1 messages, in protobuf (0x80, what
/// spiral/roadrunner-jobs sends) or in their proto3 JSON mapping (0x08, our PHP client: bytes
/// as base64, unknown fields rejected); the reply uses the request's codec. Handlers run on the
/// calling connection's strand. Borrows the plugin, which outlives the RPC server.
class JobsService {
 public:
  /// Serves `plugin`'s pipelines.
  JobsService(JobsPlugin& plugin, std::shared_ptr<spdlog::logger> log);

  /// Adds the eight jobs.* methods to `registry`. Call before serving starts.
  void register_methods(core::RpcRegistry& registry);

 private:
  enum class Method { push, push_batch, pause, resume, list, declare, destroy, stat };

  asio::awaitable<core::RpcResult> handle(Method method, const core::RpcCall& call);

  JobsPlugin& plugin_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace pivot::jobs
