#pragma once

#include <spdlog/logger.h>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "server/config/config.hpp"
#include "server/core/rpc_registry.hpp"
#include "server/plugins/kv/storage.hpp"

namespace pivot::kv {

/// The `kv` RPC service (protocol doc §5.3): kv.Has, kv.Set, kv.MGet, kv.MExpire, kv.TTL,
/// kv.Delete and kv.Clear over the configured storages, with kv.v1.Request/Response in the
/// protobuf (0x80) or JSON (0x08) codec; the reply uses the request's codec. Error texts are
/// RoadRunner's (`rpc_mget: no such storage: x`, `no storage provided`, driver errors nested as
/// `rpc_set:\n\tredis_driver_set: …`). Handlers run on the calling connection's strand.
class KvService {
 public:
  /// Creates one storage per `cfg.storages` entry (memory ones sweep on `io`; Redis ones own
  /// their threads). Nothing connects yet. Control path.
  KvService(asio::io_context& io, const config::KvConfig& cfg, std::shared_ptr<spdlog::logger> log);
  ~KvService();
  KvService(const KvService&) = delete;
  KvService& operator=(const KvService&) = delete;

  /// Adds the seven kv.* methods to `registry`. Call before serving starts.
  void register_methods(core::RpcRegistry& registry);
  /// Starts the storages' background work (sweep timers, a first Redis PING). Control path.
  void start();
  /// Stops the background work so the io_context can drain; in-flight calls finish. Thread-safe.
  void stop();

 private:
  enum class Method { has, set, mget, mexpire, ttl, remove, clear };

  asio::awaitable<core::RpcResult> handle(Method method, const core::RpcCall& call);

  std::map<std::string, std::unique_ptr<Storage>, std::less<>> storages_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace pivot::kv
