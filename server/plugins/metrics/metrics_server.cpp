#include "server/plugins/metrics/metrics_server.hpp"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>

#include "server/plugins/metrics/process_metrics.hpp"
#include "server/plugins/metrics/worker_metrics.hpp"

namespace pivot::metrics {
namespace {

constexpr std::size_t kMaxRequestBody = 4 * 1024;  // scrapes have none; a small one still gets its 405
constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

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
    : cfg_(cfg),
      pools_(std::move(pools)),
      registry_(registry),
      app_(app),
      started_(std::chrono::steady_clock::now()),
      endpoint_(io, "metrics", cfg_.host, cfg_.port, kMaxRequestBody,
                [this](http::RequestParser::Status st, const http::RequestParser& parser) { return handle(st, parser); },
                std::move(log)) {}

MetricsServer::~MetricsServer() = default;

void MetricsServer::start() { endpoint_.start(" path=/metrics"); }

asio::awaitable<http::ProbeEndpoint::Reply> MetricsServer::handle(http::RequestParser::Status st, const http::RequestParser& parser) {
  http::ProbeEndpoint::Reply reply{parser.error_status(), "text/plain; charset=utf-8", "bad request: " + parser.error_reason() + "\n"};
  if (st == http::RequestParser::Status::expect_continue) {
    reply.status = 417;
    reply.body = "no request body expected\n";
  } else if (st == http::RequestParser::Status::complete) {
    const std::string& method = parser.request().method;
    const std::string& target = parser.request().target;
    const std::string path = target.substr(0, target.find('?'));
    if (path != "/metrics") {
      reply.status = 404;
      reply.body = "not found: the metrics are at /metrics\n";
    } else if (method != "GET" && method != "HEAD") {
      reply.status = 405;
      reply.body = "use GET\n";
    } else {
      reply.status = 200;
      reply.content_type = std::string(kContentType);
      reply.body = co_await scrape();
    }
  }
  co_return reply;
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
