#include "server/pool/reply_stream.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/use_awaitable.hpp>

#include "server/pool/pool.hpp"

namespace pivot::pool {

ReplyStream::~ReplyStream() { abort(); }

asio::awaitable<ExecResult> ReplyStream::next() {
  if (!is_open()) {
    ExecResult r;
    r.outcome = Outcome::ProtocolError;
    r.error = "the stream is closed";
    co_return r;
  }
  // The pool coroutine owns worker_ while this one is suspended, and resets it when the
  // stream ends, so the last reference to a worker is never dropped off the pool strand.
  co_return co_await asio::co_spawn(pool_->strand_, pool_->next_chunk(worker_), asio::use_awaitable);
}

void ReplyStream::abort() noexcept {
  if (!is_open()) return;
  if (pool_alive_.expired()) {
    worker_.reset();  // teardown: the pool and its workers are gone already
    return;
  }
  asio::co_spawn(pool_->strand_, pool_->abort_stream(std::move(worker_)), asio::detached);
  worker_.reset();
}

}  // namespace pivot::pool
