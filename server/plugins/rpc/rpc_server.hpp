#pragma once

#include <spdlog/logger.h>

#include <asio/awaitable.hpp>
#include <asio/basic_socket_acceptor.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "server/core/rpc_registry.hpp"
#include "server/plugins/rpc/listen_address.hpp"

namespace pivot::rpc {

class RpcSession;

/// The goridge RPC server (`rpc.listen`, protocol doc §5.1): accepts TCP or unix connections and
/// serves the methods of a registry that is complete before `start()`. The acceptor runs on its
/// own strand; each connection on its own (see RpcSession).
class RpcServer {
 public:
  /// Most connections served at once; more are accepted and closed at once with a log line.
  static constexpr std::size_t kMaxConnections = 1024;

  /// Binds nothing yet. `registry` must stay unchanged and alive while serving.
  RpcServer(asio::io_context& io, ListenAddress address, const core::RpcRegistry& registry,
            std::shared_ptr<spdlog::logger> log);
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  /// Binds and listens, then accepts in the background. A stale unix socket file (nobody
  /// listening) is removed first. Control path: throws std::system_error.
  void start();

  /// Stops accepting, closes every connection and removes the unix socket file. Thread-safe,
  /// idempotent.
  void stop();

  /// The bound address (with the real port when 0 was asked for).
  std::string local_address() const { return bound_; }

  /// Session bookkeeping, called by sessions on their own strands.
  bool add(const std::shared_ptr<RpcSession>& s);
  /// Forgets a finished session.
  void remove(RpcSession* s);

 private:
  asio::awaitable<void> accept_loop();
  void remove_stale_socket();

  asio::io_context& io_;
  ListenAddress address_;
  const core::RpcRegistry& registry_;
  std::shared_ptr<spdlog::logger> log_;
  asio::basic_socket_acceptor<asio::generic::stream_protocol> acceptor_;
  std::string bound_;
  bool unlink_on_stop_ = false;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;  // guards sessions_ (touched from every session strand)
  std::unordered_map<RpcSession*, std::weak_ptr<RpcSession>> sessions_;
};

}  // namespace pivot::rpc
