#pragma once

#include <asio/awaitable.hpp>

#include <memory>

#include "server/pool/outcome.hpp"

namespace pivot::worker {
class Worker;
}

namespace pivot::pool {

class Pool;

/// A streamed reply in progress (protocol doc §2.6): the worker that sent a first frame with
/// STREAM stays reserved until the last chunk, a failure, or abort(). Owned by the caller of
/// Pool::exec_stream (one per connection, reused); opened by the pool, used from one executor.
class ReplyStream {
 public:
  ReplyStream() = default;
  /// Aborts a stream still open (the pool sends STOP and drains it).
  ~ReplyStream();
  ReplyStream(const ReplyStream&) = delete;
  ReplyStream& operator=(const ReplyStream&) = delete;

  /// True while more frames are to come from the reserved worker.
  bool is_open() const noexcept { return worker_ != nullptr; }

  /// The next frame of the stream (Ok), or why the stream broke (the worker is then replaced).
  /// Closes the stream after the last frame or a failure. Runs on the pool strand; any executor.
  asio::awaitable<ExecResult> next();

  /// The consumer is gone (client disconnect, write error): returns at once; the pool sends
  /// STOP, discards frames up to the last one within http.pool.stream_timeout (else kills the
  /// worker) and releases the worker. Any executor.
  void abort() noexcept;

 private:
  friend class Pool;
  Pool* pool_ = nullptr;
  std::weak_ptr<void> pool_alive_;           // expired once the pool is destroyed (teardown after a forced stop)
  std::shared_ptr<worker::Worker> worker_;   // touched only on the pool strand while open
};

}  // namespace pivot::pool
