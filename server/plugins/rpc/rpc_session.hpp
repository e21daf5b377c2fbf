#pragma once

#include <spdlog/logger.h>

#include <asio/awaitable.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/steady_timer.hpp>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "protocol/rpc_frame.hpp"
#include "server/core/rpc_registry.hpp"

namespace pivot::rpc {

class RpcServer;

/// One RPC client connection. Reads goridge frames, dispatches each request concurrently
/// (a coroutine per request) and writes the replies one at a time, each with its request's seq.
/// All state lives on the connection's strand (the socket's executor); `close` may be called
/// from any thread.
class RpcSession : public std::enable_shared_from_this<RpcSession> {
 public:
  /// A stream socket of either family (TCP or unix).
  using Socket = asio::generic::stream_protocol::socket;

  /// Largest request payload accepted (method + argument).
  static constexpr std::size_t kMaxPayload = 64ULL << 20;
  /// Requests in progress plus replies not yet written, per connection; reading pauses above it.
  static constexpr std::size_t kMaxPending = 128;

  /// Takes the accepted socket (bound to its own strand); `remote` names the peer in logs.
  RpcSession(Socket socket, std::string remote, const core::RpcRegistry& registry, RpcServer& server,
             std::shared_ptr<spdlog::logger> log);

  /// Starts the read loop on the socket's strand.
  void start();

  /// Closes the connection now (server shutdown); pending replies are dropped. Thread-safe.
  void close();

 private:
  asio::awaitable<void> read_loop();
  asio::awaitable<void> handle(protocol::RpcMessage msg);
  asio::awaitable<void> write_loop();
  asio::awaitable<void> wait_for_change();
  void notify() noexcept;
  void send(std::string frame);
  void close_now();

  Socket socket_;
  std::string remote_;
  const core::RpcRegistry& registry_;
  RpcServer& server_;
  std::shared_ptr<spdlog::logger> log_;
  asio::steady_timer changed_;       // a condition variable: cancelled whenever in_flight_/outbox_ shrink
  std::deque<std::string> outbox_;   // encoded reply frames, written in order
  std::size_t in_flight_ = 0;        // requests whose handler has not finished
  bool writing_ = false;
  bool closed_ = false;
};

}  // namespace pivot::rpc
