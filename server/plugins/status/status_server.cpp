#include "server/plugins/status/status_server.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>

#include "protocol/json_writer.hpp"
#include "server/http/request_parser.hpp"

namespace pivot::status {
namespace {

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxRequestHead = 8 * 1024;
constexpr auto kReadTimeout = std::chrono::seconds(5);

/// The values of `name` in a query string ("plugin=http&plugin=jobs").
std::vector<std::string> query_values(std::string_view query, std::string_view name) {
  std::vector<std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name && eq + 1 < pair.size()) {
      out.emplace_back(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 400: return "Bad Request";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

}  // namespace

StatusServer::StatusServer(asio::io_context& io, const config::StatusConfig& cfg, std::vector<pool::Pool*> pools,
                           std::shared_ptr<spdlog::logger> log)
    : io_(io), cfg_(cfg), pools_(std::move(pools)), log_(std::move(log)), acceptor_(asio::make_strand(io)) {}

StatusServer::~StatusServer() = default;

void StatusServer::start() {
  const asio::ip::tcp::endpoint ep(asio::ip::make_address(cfg_.host), cfg_.port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  log_->info("event=status_listening address={}:{}", cfg_.host, port_);
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
}

void StatusServer::stop() {
  asio::post(acceptor_.get_executor(), [this] {
    std::error_code ec;
    acceptor_.close(ec);
  });
}

asio::awaitable<void> StatusServer::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(io_), kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      log_->error("event=status_accept_failed error=\"{}\"", ec.message());
      asio::steady_timer t(acceptor_.get_executor(), std::chrono::milliseconds(50));
      co_await t.async_wait(kTuple);
      continue;
    }
    auto ex = socket.get_executor();
    asio::co_spawn(ex, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> StatusServer::serve(asio::ip::tcp::socket socket) {
  // One request per connection (probes do not keep connections alive), bounded in size and time.
  asio::steady_timer deadline(socket.get_executor(), kReadTimeout);
  deadline.async_wait([&socket](std::error_code e) {
    if (!e) {
      std::error_code ignored;
      socket.close(ignored);
    }
  });
  http::RequestParser parser(kMaxRequestHead, 0);
  std::array<char, 2048> buf{};
  http::RequestParser::Status st = http::RequestParser::Status::need_more;
  while (st == http::RequestParser::Status::need_more) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(buf), kTuple);
    if (ec) {
      deadline.cancel();
      co_return;
    }
    parser.feed(std::string_view(buf.data(), n), st);
  }
  deadline.cancel();
  int status = 400;
  std::string body = R"({"error":"bad request"})";
  if (st == http::RequestParser::Status::complete) {
    const auto& req = parser.request();
    body = co_await answer(req.method, req.target, status);
  }
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
                    "\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n";
  if (parser.request().method != "HEAD") out += body;
  auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(out), kTuple);
  (void)wec;
  (void)wn;
  std::error_code ignored;
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

asio::awaitable<std::string> StatusServer::answer(const std::string& method, const std::string& target, int& status) {
  if (method != "GET" && method != "HEAD") {
    status = 405;
    co_return R"({"error":"use GET"})";
  }
  const auto q = target.find('?');
  const std::string path = target.substr(0, q);
  const std::string_view query = q == std::string::npos ? std::string_view{} : std::string_view(target).substr(q + 1);
  const bool health = path == "/health";
  if (!health && path != "/ready") {
    status = 404;
    co_return R"({"error":"unknown path; use /health?plugin=NAME or /ready?plugin=NAME"})";
  }
  std::vector<std::string> wanted = query_values(query, "plugin");
  std::vector<pool::Pool*> selected;
  if (wanted.empty()) {
    selected = pools_;
  } else {
    for (const auto& name : wanted) {
      pool::Pool* found = nullptr;
      for (auto* p : pools_) {
        if (p->name() == name) found = p;
      }
      if (!found) {
        status = 404;
        std::string err = R"({"error":)";
        protocol::append_json_string(err, "no such plugin: " + name);
        err += "}";
        co_return err;
      }
      selected.push_back(found);
    }
  }
  const bool draining = draining_.load();
  bool all_ok = true;
  std::string body = "{";
  for (auto* p : selected) {
    const pool::PoolStatus s = co_await p->status();
    const bool ok = health ? (s.ready + s.working) > 0 : (s.ready > 0 && !draining && !s.stopping_pool);
    all_ok = all_ok && ok;
    if (body.size() > 1) body += ",";
    protocol::append_json_string(body, p->name());
    body += ":{\"status\":" + std::to_string(ok ? 200 : cfg_.unavailable_status_code) + ",\"ready\":" + std::to_string(s.ready) +
            ",\"working\":" + std::to_string(s.working) + ",\"starting\":" + std::to_string(s.starting) +
            ",\"stopping\":" + std::to_string(s.stopping) + ",\"desired\":" + std::to_string(s.desired) +
            ",\"queued\":" + std::to_string(s.queued) + ",\"draining\":" + (draining || s.stopping_pool ? "true" : "false") + "}";
  }
  body += "}";
  status = all_ok ? 200 : cfg_.unavailable_status_code;
  co_return body;
}

}  // namespace pivot::status
