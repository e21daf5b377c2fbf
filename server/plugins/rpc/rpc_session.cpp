#include "server/plugins/rpc/rpc_session.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <exception>
#include <string_view>

#include "protocol/frame_decoder.hpp"
#include "server/plugins/rpc/rpc_server.hpp"

namespace pivot::rpc {
namespace {

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace

RpcSession::RpcSession(Socket socket, std::string remote, const core::RpcRegistry& registry, RpcServer& server,
                       std::shared_ptr<spdlog::logger> log)
    : socket_(std::move(socket)),
      remote_(std::move(remote)),
      registry_(registry),
      server_(server),
      log_(std::move(log)),
      changed_(socket_.get_executor()) {}

void RpcSession::start() {
  asio::co_spawn(socket_.get_executor(), [self = shared_from_this()] { return self->read_loop(); }, asio::detached);
}

void RpcSession::close() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close_now(); });
}

void RpcSession::close_now() {
  if (closed_) return;
  closed_ = true;
  std::error_code ec;
  socket_.close(ec);
  notify();
}

void RpcSession::notify() noexcept { changed_.cancel(); }

asio::awaitable<void> RpcSession::wait_for_change() {
  changed_.expires_at(asio::steady_timer::time_point::max());
  co_await changed_.async_wait(kTuple);
}

asio::awaitable<void> RpcSession::read_loop() {
  log_->debug("event=rpc_connection_open remote={}", remote_);
  protocol::FrameDecoder decoder(kMaxPayload);
  std::vector<char> buf(16 * 1024);
  std::error_code read_ec;
  while (!closed_) {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf), kTuple);
    if (ec) {
      read_ec = ec;
      break;
    }
    std::string_view data(buf.data(), n);
    while (!data.empty() && !closed_) {
      std::error_code fe;
      data.remove_prefix(decoder.feed(data, fe));
      if (!fe && !decoder.done()) continue;  // the frame goes on in the next read
      protocol::RpcMessage msg;
      if (!fe) {
        fe = protocol::parse_rpc_frame(decoder.frame(), msg);
        decoder.reset();
      }
      if (fe) {
        // Go's net/rpc cannot resynchronise after a bad header either: drop this connection only.
        log_->warn("event=rpc_bad_frame remote={} error=\"{}\"", remote_, fe.message());
        close_now();
        break;
      }
      while (in_flight_ + outbox_.size() >= kMaxPending && !closed_) co_await wait_for_change();
      if (closed_) break;
      ++in_flight_;
      asio::co_spawn(
          socket_.get_executor(),
          [self = shared_from_this(), m = std::move(msg)]() mutable { return self->handle(std::move(m)); },
          asio::detached);
    }
  }
  if (!closed_) {
    if (read_ec && read_ec != asio::error::eof) {
      log_->debug("event=rpc_connection_error remote={} error=\"{}\"", remote_, read_ec.message());
    }
    // The peer finished sending (EOF): like Go's ServeCodec, answer what it already asked.
    while ((in_flight_ > 0 || writing_ || !outbox_.empty()) && !closed_) co_await wait_for_change();
    close_now();
  }
  log_->debug("event=rpc_connection_closed remote={}", remote_);
  server_.remove(this);
}

asio::awaitable<void> RpcSession::handle(protocol::RpcMessage msg) {
  const core::RpcCall call{std::move(msg.method), msg.flags, std::move(msg.body)};
  core::RpcResult result;
  try {
    result = co_await registry_.dispatch(call);
  } catch (const std::exception& e) {
    result = core::RpcResult::fail("rpc: internal error in " + call.method + ": " + e.what());
  }
  --in_flight_;
  log_->debug("event=rpc_call remote={} method={} seq={} ok={}", remote_, call.method, msg.seq, result.ok);
  // An error reply keeps the request's codec bits (Go: codec | ERROR) and carries plain text.
  const auto request_codec = static_cast<std::uint8_t>(call.flags & ~(protocol::flags::kError | protocol::flags::kControl));
  if (result.ok) {
    send(protocol::encode_rpc_frame(msg.seq, call.method, result.codec, result.body));
  } else {
    send(protocol::encode_rpc_frame(msg.seq, call.method, static_cast<std::uint8_t>(request_codec | protocol::flags::kError),
                                    result.error));
  }
  notify();
}

void RpcSession::send(std::string frame) {
  if (closed_) return;
  outbox_.push_back(std::move(frame));
  if (writing_) return;
  writing_ = true;
  asio::co_spawn(socket_.get_executor(), [self = shared_from_this()] { return self->write_loop(); }, asio::detached);
}

asio::awaitable<void> RpcSession::write_loop() {
  while (!outbox_.empty() && !closed_) {
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(outbox_.front()), kTuple);
    if (ec) {
      log_->debug("event=rpc_write_failed remote={} error=\"{}\"", remote_, ec.message());
      close_now();
      break;
    }
    outbox_.pop_front();
    notify();
  }
  writing_ = false;
  notify();
}

}  // namespace pivot::rpc
