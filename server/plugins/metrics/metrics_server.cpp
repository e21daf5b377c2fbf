#include "server/plugins/metrics/metrics_server.hpp"

#include <prometheus/text_serializer.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <cmath>

#include "server/http/request_parser.hpp"
#include "server/plugins/metrics/process_metrics.hpp"
#include "server/plugins/metrics/worker_metrics.hpp"

namespace pivot::metrics {
namespace {

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxRequestHead = 8 * 1024;
constexpr std::size_t kMaxRequestBody = 4 * 1024;  // scrapes have none; a small one still gets its 405
constexpr auto kReadTimeout = std::chrono::seconds(5);
constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 417: return "Expectation Failed";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    default: return "Status";
  }
}

/// Orders a family's series by their label values, as client_golang does, so scrapes diff cleanly.
void sort_series(prometheus::MetricFamily& f) {
  std::sort(f.metric.begin(), f.metric.end(), [](const prometheus::ClientMetric& a, const prometheus::ClientMetric& b) {
    return std::lexicographical_compare(a.label.begin(), a.label.end(), b.label.begin(), b.label.end(),
                                        [](const auto& x, const auto& y) {
                                          return x.name != y.name ? x.name < y.name : x.value < y.value;
                                        });
  });
}

}  // namespace

MetricsServer::MetricsServer(asio::io_context& io, const config::MetricsConfig& cfg, std::vector<pool::Pool*> pools,
                             prometheus::Registry& registry, AppMetrics& app, std::shared_ptr<spdlog::logger> log)
    : io_(io),
      cfg_(cfg),
      pools_(std::move(pools)),
      registry_(registry),
      app_(app),
      log_(std::move(log)),
      acceptor_(asio::make_strand(io)),
      started_(std::chrono::steady_clock::now()) {}

MetricsServer::~MetricsServer() = default;

void MetricsServer::start() {
  const asio::ip::tcp::endpoint ep(asio::ip::make_address(cfg_.host), cfg_.port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  log_->info("event=metrics_listening address={}:{} path=/metrics", cfg_.host, port_);
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
}

void MetricsServer::stop() {
  asio::post(acceptor_.get_executor(), [this] {
    std::error_code ec;
    acceptor_.close(ec);
  });
}

asio::awaitable<void> MetricsServer::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(io_), kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      log_->error("event=metrics_accept_failed error=\"{}\"", ec.message());
      asio::steady_timer t(acceptor_.get_executor(), std::chrono::milliseconds(50));
      co_await t.async_wait(kTuple);
      continue;
    }
    auto ex = socket.get_executor();
    asio::co_spawn(ex, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> MetricsServer::serve(asio::ip::tcp::socket socket) {
  // One request per connection, bounded in size and time (Prometheus reconnects each scrape).
  asio::steady_timer deadline(socket.get_executor(), kReadTimeout);
  deadline.async_wait([&socket](std::error_code e) {
    if (!e) {
      std::error_code ignored;
      socket.close(ignored);
    }
  });
  http::RequestParser parser(kMaxRequestHead, kMaxRequestBody);
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
  int status = parser.error_status();
  std::string body = "bad request: " + parser.error_reason() + "\n";
  const std::string& method = parser.request().method;
  if (st == http::RequestParser::Status::expect_continue) {
    status = 417;
    body = "no request body expected\n";
  } else if (st == http::RequestParser::Status::complete) {
    const std::string& target = parser.request().target;
    const std::string path = target.substr(0, target.find('?'));
    if (path != "/metrics") {
      status = 404;
      body = "not found: the metrics are at /metrics\n";
    } else if (method != "GET" && method != "HEAD") {
      status = 405;
      body = "use GET\n";
    } else {
      status = 200;
      body = co_await scrape();
    }
  }
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\nContent-Type: " +
                    (status == 200 ? std::string(kContentType) : std::string("text/plain; charset=utf-8")) +
                    "\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\n\r\n";
  if (method != "HEAD") out += body;
  auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(out), kTuple);
  (void)wec;
  (void)wn;
  std::error_code ignored;
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

asio::awaitable<std::string> MetricsServer::scrape() {
  std::vector<prometheus::MetricFamily> families;
  for (pool::Pool* p : pools_) {
    const std::vector<pool::WorkerInfo> workers = co_await p->workers();
    for (auto& f : WorkerMetrics::pool_families("rr_" + p->name(), p->name(), workers)) families.push_back(std::move(f));
  }
  {
    // RoadRunner's counter ticks once a second; ours is computed, with the same whole seconds.
    prometheus::MetricFamily uptime;
    uptime.name = "rr_http_uptime_seconds";
    uptime.help = "Uptime in seconds";
    uptime.type = prometheus::MetricType::Counter;
    prometheus::ClientMetric m;
    m.counter.value = std::floor(std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
    uptime.metric.push_back(std::move(m));
    families.push_back(std::move(uptime));
  }
  for (auto& f : registry_.Collect()) families.push_back(std::move(f));
  for (auto& f : app_.collect()) families.push_back(std::move(f));
  ProcessSample ps;
  if (read_process_sample(ps)) {
    for (auto& f : process_families(ps)) families.push_back(std::move(f));
  }
  std::stable_sort(families.begin(), families.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (auto& f : families) sort_series(f);
  co_return prometheus::TextSerializer().Serialize(families);
}

}  // namespace pivot::metrics
