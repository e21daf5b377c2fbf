#include "server/http/session.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>

#include "protocol/frame.hpp"
#include "protocol/json_writer.hpp"
#include "server/http/listener.hpp"
#include "server/http/status_map.hpp"

namespace pivot::http {
namespace {

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadBuffer = 16 * 1024;
constexpr std::size_t kMaxLingerBytes = 1024 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string quoted(std::string_view s) {
  std::string out;
  protocol::append_json_string(out, s);
  return out;
}

}  // namespace

Session::Session(asio::ip::tcp::socket socket, SessionContext& ctx, Listener& listener)
    : socket_(std::move(socket)),
      ctx_(ctx),
      listener_(listener),
      parser_(ctx.cfg.max_header_size, ctx.cfg.max_request_size),
      buf_(kReadBuffer) {
  std::error_code ec;
  const auto ep = socket_.remote_endpoint(ec);
  if (!ec) {
    auto addr = ep.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped()) addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    remote_ip_ = addr.to_string();
  }
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

Session::~Session() = default;

void Session::start() {
  listener_.add(shared_from_this());
  asio::co_spawn(socket_.get_executor(), [self = shared_from_this()]() { return self->run(); }, asio::detached);
}

void Session::close_if_idle() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (!self->busy_ && !self->parser_.in_message()) {
      std::error_code ec;
      self->socket_.close(ec);
    }
  });
}

asio::awaitable<void> Session::run() {
  struct Unregister {
    Listener& l;
    Session* s;
    ~Unregister() { l.remove(s); }
  } unregister{listener_, this};

  for (;;) {
    RequestParser::Status st = RequestParser::Status::need_more;
    for (;;) {
      if (pos_ < end_) {
        pos_ += parser_.feed(std::string_view(buf_.data() + pos_, end_ - pos_), st);
        if (st == RequestParser::Status::expect_continue) {
          // The client waits for permission before sending the body.
          auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(kContinue), kTuple);
          (void)n;
          if (ec) co_return;
          parser_.resume();
          continue;
        }
        if (st != RequestParser::Status::need_more) break;
      }
      pos_ = end_ = 0;
      if (ctx_.stopping.load(std::memory_order_relaxed) && !parser_.in_message()) co_return;
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf_), kTuple);
      if (ec) {
        if (parser_.in_message()) {
          ctx_.log->info("event=client_closed_mid_request remote={} error={}", remote_ip_, quoted(ec.message()));
        }
        co_return;
      }
      end_ = n;
    }

    if (st == RequestParser::Status::error) {
      ctx_.log->info("event=bad_request remote={} status={} reason={}", remote_ip_, parser_.error_status(),
                     quoted(parser_.error_reason()));
      co_await write_simple(parser_.error_status(), reason_phrase(parser_.error_status()), true);
      co_await close_gracefully();
      co_return;
    }

    busy_ = true;
    HttpRequest& req = parser_.request();
    translator_.build_frame(frame_, req, remote_ip_, ctx_.fallback_host);
    pool::ExecResult result = co_await ctx_.pool.exec(frame_);
    const bool keep = co_await respond(result, req);
    busy_ = false;
    if (!keep) {
      co_await close_gracefully();
      co_return;
    }
    parser_.resume();
  }
}

asio::awaitable<void> Session::close_gracefully() {
  // Half-close, then drain what the client still sends (bounded in time and bytes) so it reads
  // our response instead of a connection reset.
  std::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  asio::steady_timer deadline(socket_.get_executor(), std::chrono::seconds(1));
  deadline.async_wait([self = shared_from_this()](std::error_code e) {
    if (!e) {
      std::error_code ignored;
      self->socket_.close(ignored);
    }
  });
  std::size_t drained = 0;
  while (drained < kMaxLingerBytes) {
    auto [e, n] = co_await socket_.async_read_some(asio::buffer(buf_), kTuple);
    if (e) break;
    drained += n;
  }
  deadline.cancel();
  socket_.close(ec);
}

asio::awaitable<bool> Session::write_simple(int status, std::string_view body, bool close, bool retry_after) {
  head_.clear();
  std::array<protocol::HeaderField, 2> hs{protocol::HeaderField{"Content-Type", "text/plain; charset=utf-8"},
                                          protocol::HeaderField{"Retry-After", "1"}};
  std::string text(body);
  text.push_back('\n');
  ResponseHeadOptions opts;
  opts.status = status;
  opts.content_length = text.size();
  opts.close = close;
  opts.date = date_.now();
  append_response_head(head_, opts, std::span<const protocol::HeaderField>(hs.data(), retry_after ? 2 : 1));
  const bool head_only = parser_.request().method == "HEAD";
  std::array<asio::const_buffer, 2> bufs{asio::buffer(head_), asio::buffer(text.data(), head_only ? 0 : text.size())};
  auto [ec, n] = co_await asio::async_write(socket_, bufs, kTuple);
  (void)n;
  co_return !ec && !close;
}

asio::awaitable<bool> Session::respond(pool::ExecResult& result, const HttpRequest& req) {
  bool close = !req.keep_alive || ctx_.stopping.load(std::memory_order_relaxed);
  if (result.outcome != pool::Outcome::Ok) {
    const int status = status_for(result.outcome, ctx_.cfg.internal_error_code);
    if (result.outcome == pool::Outcome::SoftError) {
      ctx_.log->warn("event=worker_error_response method={} target={} pid={} error={}", req.method, quoted(req.target), result.pid,
                     quoted(result.error));
      if (ctx_.cfg.pool.debug) co_return co_await write_simple(status, result.error, close);
    } else {
      ctx_.log->warn("event=request_failed method={} target={} status={} outcome={} pid={}", req.method, quoted(req.target), status,
                     pool::outcome_name(result.outcome), result.pid);
    }
    co_return co_await write_simple(status, reason_phrase(status), close, status == 503);
  }

  const std::string& payload = result.frame.payload;
  const std::string_view context(payload.data(), result.context_len);
  const std::string_view body(payload.data() + result.context_len, payload.size() - result.context_len);
  if (result.frame.flags & protocol::flags::kCodecProto) {
    ctx_.log->error("event=bad_worker_response pid={} error=\"protobuf response contexts (flags 0x80) are not supported yet\"",
                    result.pid);
    co_return co_await write_simple(502, reason_phrase(502), close);
  }
  if (auto ec = protocol::decode_response_context(context, response_ctx_)) {
    ctx_.log->error("event=bad_worker_response pid={} error={} context_prefix={}", result.pid, quoted(ec.message()),
                    quoted(context.substr(0, 128)));
    co_return co_await write_simple(502, reason_phrase(502), close);
  }

  head_.clear();
  ResponseHeadOptions opts;
  opts.status = response_ctx_.status;
  opts.content_length = body.size();
  opts.close = close;
  opts.keep_alive_10 = !close && req.version_minor == 0;
  opts.date = date_.now();
  if (const std::size_t skipped = append_response_head(head_, opts, response_ctx_.headers)) {
    ctx_.log->warn("event=unsafe_response_header_dropped pid={} count={}", result.pid, skipped);
  }
  const bool no_body = req.method == "HEAD" || status_has_no_body(response_ctx_.status);
  std::array<asio::const_buffer, 2> bufs{asio::buffer(head_), asio::buffer(body.data(), no_body ? 0 : body.size())};
  auto [ec, n] = co_await asio::async_write(socket_, bufs, kTuple);
  (void)n;
  co_return !ec && !close;
}

}  // namespace pivot::http
