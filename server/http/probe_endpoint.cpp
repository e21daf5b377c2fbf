#include "server/http/probe_endpoint.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>

#include "server/http/response_head.hpp"

namespace pivot::http {
namespace {

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxRequestHead = 8 * 1024;
constexpr auto kReadTimeout = std::chrono::seconds(5);

}  // namespace

ProbeEndpoint::ProbeEndpoint(asio::io_context& io, std::string name, std::string host, std::uint16_t port, std::size_t max_body,
                             Handler handler, std::shared_ptr<spdlog::logger> log)
    : io_(io),
      name_(std::move(name)),
      host_(std::move(host)),
      requested_port_(port),
      max_body_(max_body),
      handler_(std::move(handler)),
      log_(std::move(log)),
      acceptor_(asio::make_strand(io)) {}

ProbeEndpoint::~ProbeEndpoint() = default;

void ProbeEndpoint::start(const std::string& log_suffix) {
  const asio::ip::tcp::endpoint ep(asio::ip::make_address(host_), requested_port_);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  log_->info("event={}_listening address={}:{}{}", name_, host_, port_, log_suffix);
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
}

void ProbeEndpoint::stop() {
  asio::post(acceptor_.get_executor(), [this] {
    std::error_code ec;
    acceptor_.close(ec);
  });
}

asio::awaitable<void> ProbeEndpoint::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(io_), kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      log_->error("event={}_accept_failed error=\"{}\"", name_, ec.message());
      asio::steady_timer t(acceptor_.get_executor(), std::chrono::milliseconds(50));
      co_await t.async_wait(kTuple);
      continue;
    }
    auto ex = socket.get_executor();
    asio::co_spawn(ex, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> ProbeEndpoint::serve(asio::ip::tcp::socket socket) {
  // One request per connection (probes and scrapers reconnect), bounded in size and time.
  asio::steady_timer deadline(socket.get_executor(), kReadTimeout);
  deadline.async_wait([&socket](std::error_code e) {
    if (!e) {
      std::error_code ignored;
      socket.close(ignored);
    }
  });
  RequestParser parser(kMaxRequestHead, max_body_);
  std::array<char, 2048> buf{};
  RequestParser::Status st = RequestParser::Status::need_more;
  while (st == RequestParser::Status::need_more) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(buf), kTuple);
    if (ec) {
      deadline.cancel();
      co_return;
    }
    parser.feed(std::string_view(buf.data(), n), st);
  }
  deadline.cancel();
  const Reply reply = co_await handler_(st, parser);
  std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + std::string(reason_phrase(reply.status)) +
                    "\r\nContent-Type: " + reply.content_type +
                    "\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: " + std::to_string(reply.body.size()) +
                    "\r\n\r\n";
  if (parser.request().method != "HEAD") out += reply.body;
  auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(out), kTuple);
  (void)wec;
  (void)wn;
  std::error_code ignored;
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

}  // namespace pivot::http
