#include "server/http/listener.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>

#include <vector>

namespace pivot::http {

Listener::Listener(asio::io_context& io, const config::HttpConfig& cfg, pool::Pool& pool, std::shared_ptr<spdlog::logger> log,
                   std::shared_ptr<spdlog::logger> access_log, bool json_logs)
    : io_(io),
      cfg_(cfg),
      log_(log),
      acceptor_(asio::make_strand(io)),
      resume_timer_(acceptor_.get_executor()),
      proxies_(cfg.trusted_subnets),
      access_log_(cfg.access_logs && access_log ? std::make_unique<AccessLog>(std::move(access_log), json_logs) : nullptr),
      static_files_(cfg.static_files.enabled ? std::make_unique<StaticFiles>(cfg.static_files) : nullptr),
      gzip_(cfg.gzip.enabled ? std::make_unique<GzipPolicy>(cfg.gzip) : nullptr),
      ctx_{pool, cfg, log, stopping_, {}, proxies_, access_log_.get()} {
  ctx_.static_files = static_files_.get();
  ctx_.gzip = gzip_.get();
}

Listener::~Listener() = default;

void Listener::start() {
  const auto addr = asio::ip::make_address(cfg_.host);
  const asio::ip::tcp::endpoint ep(addr, cfg_.port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
  ctx_.fallback_host = (cfg_.host == "0.0.0.0" ? std::string("localhost") : cfg_.host) + ":" + std::to_string(port_);
  log_->info("event=http_listening address={}:{}", cfg_.host, port_);
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
}

asio::awaitable<void> Listener::accept_loop() {
  for (;;) {
    if (active_.load() >= cfg_.max_connections) {
      // Stop accepting (new clients wait in the kernel backlog) until a session ends.
      paused_ = true;
      if (active_.load() >= cfg_.max_connections) {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_pause_log_ >= std::chrono::seconds(10)) {
          last_pause_log_ = now;
          log_->warn("event=accept_paused reason=max_connections limit={} active={}", cfg_.max_connections, active_.load());
        }
        resume_timer_.expires_after(std::chrono::seconds(1));
        co_await resume_timer_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      }
      paused_ = false;
      if (!acceptor_.is_open()) co_return;
      continue;
    }
    // A session needs its own strand only when several threads run the io_context.
    const asio::any_io_executor session_ex =
        cfg_.io_threads == 1 ? asio::any_io_executor(io_.get_executor()) : asio::any_io_executor(asio::make_strand(io_));
    auto [ec, socket] = co_await acceptor_.async_accept(session_ex, asio::experimental::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      // EMFILE and friends: log and back off briefly instead of spinning.
      log_->error("event=accept_failed error=\"{}\"", ec.message());
      asio::steady_timer t(acceptor_.get_executor(), std::chrono::milliseconds(50));
      co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      continue;
    }
    std::make_shared<Session>(std::move(socket), ctx_, *this)->start();
  }
}

void Listener::stop() {
  stopping_ = true;
  asio::post(acceptor_.get_executor(), [this] {
    std::error_code ec;
    acceptor_.close(ec);
    resume_timer_.cancel();
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(mu_);
    for (auto& [p, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->close_if_idle();
}

asio::awaitable<void> Listener::wait_sessions(std::chrono::steady_clock::time_point deadline) {
  auto ex = co_await asio::this_coro::executor;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (sessions_.empty()) co_return;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      log_->warn("event=http_sessions_left_open count={}", sessions_.size());
      co_return;
    }
    asio::steady_timer t(ex, std::chrono::milliseconds(10));
    co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
}

void Listener::add(const std::shared_ptr<Session>& s) {
  ++active_;
  std::lock_guard lock(mu_);
  sessions_.emplace(s.get(), s);
}

void Listener::remove(Session* s) {
  {
    std::lock_guard lock(mu_);
    sessions_.erase(s);
  }
  --active_;
  if (paused_.load()) asio::post(acceptor_.get_executor(), [this] { resume_timer_.cancel(); });
}

}  // namespace pivot::http
