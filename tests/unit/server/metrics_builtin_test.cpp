#include <catch2/catch.hpp>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "protocol/frame.hpp"
#include "server/plugins/metrics/http_metrics.hpp"
#include "server/plugins/metrics/metrics_args.hpp"
#include "server/plugins/metrics/process_metrics.hpp"
#include "server/plugins/metrics/worker_metrics.hpp"

using namespace pivot::metrics;
using Catch::Matchers::Contains;
namespace pf = pivot::protocol::flags;

TEST_CASE("http metrics: per-status count, duration buckets, in-flight gauge, no free workers", "[metrics]") {
  prometheus::Registry registry;
  HttpMetrics m(registry);
  const auto t0 = m.begin();
  const auto t1 = m.begin();
  std::string out = prometheus::TextSerializer().Serialize(registry.Collect());
  CHECK_THAT(out, Contains("rr_http_requests_queue 2\n"));
  m.end(t0, 200, false);
  m.end(t1 - std::chrono::milliseconds(300), 503, true);  // took ~0.3 s
  for (int i = 0; i < 3; ++i) m.end(m.begin(), 200, false);
  m.end(m.begin(), 1234, false);  // out of the cached range: still counted
  out = prometheus::TextSerializer().Serialize(registry.Collect());
  INFO(out);
  CHECK_THAT(out, Contains("rr_http_requests_queue 0\n"));
  CHECK_THAT(out, Contains("rr_http_request_total{status=\"200\"} 4\n"));
  CHECK_THAT(out, Contains("rr_http_request_total{status=\"503\"} 1\n"));
  CHECK_THAT(out, Contains("rr_http_request_total{status=\"1234\"} 1\n"));
  CHECK_THAT(out, Contains("rr_http_no_free_workers_total 1\n"));
  CHECK_THAT(out, Contains("rr_http_request_duration_seconds_count{status=\"200\"} 4\n"));
  CHECK_THAT(out, Contains("rr_http_request_duration_seconds_bucket{status=\"503\",le=\"0.25\"} 0\n"));
  CHECK_THAT(out, Contains("rr_http_request_duration_seconds_bucket{status=\"503\",le=\"0.5\"} 1\n"));
  for (const char* le : {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "20", "30", "60", "+Inf"}) {
    CHECK_THAT(out, Contains(std::string("rr_http_request_duration_seconds_bucket{status=\"200\",le=\"") + le + "\"} 4\n"));
  }
}

TEST_CASE("worker metrics: RoadRunner's seven gauges from one snapshot", "[metrics]") {
  std::vector<pivot::pool::WorkerInfo> ws(3);
  ws[0].pid = 30;
  ws[0].status = 1;
  ws[0].status_str = "ready";
  ws[0].memory_rss = 1000;
  ws[1].pid = 10;
  ws[1].status = 2;
  ws[1].status_str = "working";
  ws[1].memory_rss = 2000;
  ws[2].pid = 20;
  ws[2].status = 7;
  ws[2].status_str = "maxJobsReached";
  ws[2].memory_rss = 500;
  const std::string out = prometheus::TextSerializer().Serialize(WorkerMetrics::pool_families("rr_http", "http", ws));
  INFO(out);
  CHECK_THAT(out, Contains("# HELP rr_http_total_workers Total number of workers used by the HTTP plugin\n"
                           "# TYPE rr_http_total_workers gauge\nrr_http_total_workers 3\n"));
  CHECK_THAT(out, Contains("rr_http_workers_memory_bytes 3500\n"));
  CHECK_THAT(out, Contains("rr_http_worker_state{pid=\"10\",state=\"working\"} 0\n"));
  CHECK_THAT(out, Contains("rr_http_worker_state{pid=\"20\",state=\"maxJobsReached\"} 0\n"));
  CHECK_THAT(out, Contains("rr_http_worker_memory_bytes{pid=\"30\"} 1000\n"));
  CHECK_THAT(out, Contains("rr_http_workers_ready 1\n"));
  CHECK_THAT(out, Contains("rr_http_workers_working 1\n"));
  CHECK_THAT(out, Contains("rr_http_workers_invalid 1\n"));
  CHECK(out.find("pid=\"10\"") < out.find("pid=\"20\""));  // sorted by pid

  const std::string empty = prometheus::TextSerializer().Serialize(WorkerMetrics::pool_families("rr_http", "http", {}));
  CHECK_THAT(empty, Contains("rr_http_total_workers 0\n"));
  CHECK(empty.find("rr_http_worker_state{") == std::string::npos);
}

TEST_CASE("worker metrics: restarts by pool and reason through the on_retire hook", "[metrics]") {
  prometheus::Registry registry;
  WorkerMetrics m(registry);
  auto hook = m.restart_hook("http");
  hook("max_jobs");
  hook("max_jobs");
  hook("ttl");
  const std::string out = prometheus::TextSerializer().Serialize(registry.Collect());
  CHECK_THAT(out, Contains("pivot_worker_restarts_total{pool=\"http\",reason=\"max_jobs\"} 2\n"));
  CHECK_THAT(out, Contains("pivot_worker_restarts_total{pool=\"http\",reason=\"ttl\"} 1\n"));
}

TEST_CASE("process metrics: /proc/PID/stat fields and a live sample", "[metrics]") {
  // A command name with spaces and a ')' must not shift the fields.
  const std::string stat =
      "1234 (php (worker) x) S 1 1234 1234 0 -1 4194560 500 0 0 0 150 50 0 0 20 0 1 0 1000 123456789 2500 18446744073709551615";
  ProcessSample s;
  REQUIRE(parse_proc_stat(stat, 4096, 100, 1700000000, s));
  CHECK(s.cpu_seconds == Approx(2.0));
  CHECK(s.resident_bytes == 2500.0 * 4096);
  CHECK(s.virtual_bytes == 123456789.0);
  CHECK(s.start_time_seconds == Approx(1700000010.0));
  CHECK_FALSE(parse_proc_stat("garbage", 4096, 100, 0, s));

  ProcessSample live;
  REQUIRE(read_process_sample(live));
  CHECK(live.resident_bytes > 0);
  CHECK(live.open_fds >= 3);
  CHECK(live.max_fds >= live.open_fds);
  const std::string out = prometheus::TextSerializer().Serialize(process_families(live));
  CHECK_THAT(out, Contains("# TYPE process_cpu_seconds_total counter\n") && Contains("# TYPE process_resident_memory_bytes gauge\n") &&
                      Contains("process_open_fds ") && Contains("process_start_time_seconds "));
}

TEST_CASE("metrics args: JSON shapes, case-insensitive fields, errors", "[metrics]") {
  pivot::core::RpcCall call{"metrics.Add", pf::kCodecJson, R"({"Name":"hits","VALUE":2.5,"labels":["a","b"]})"};
  MetricArg m;
  std::string error;
  REQUIRE(args::decode_metric(call, m, error));
  CHECK(m.name == "hits");
  CHECK(m.value == 2.5);
  CHECK(m.labels == std::vector<std::string>{"a", "b"});

  call.body = R"({"name":"x","value":1,"labels":null})";
  REQUIRE(args::decode_metric(call, m, error));
  CHECK(m.labels.empty());
  call.body = "";
  REQUIRE(args::decode_metric(call, m, error));
  CHECK(m.name.empty());
  call.body = R"({"name":"x","value":"1"})";
  CHECK_FALSE(args::decode_metric(call, m, error));
  CHECK_THAT(error, Contains("value must be a number"));
  call.body = "[1]";
  CHECK_FALSE(args::decode_metric(call, m, error));
  call.flags = pf::kCodecProto;
  call.body = "{}";
  CHECK_FALSE(args::decode_metric(call, m, error));
  CHECK_THAT(error, Contains("json codec"));

  pivot::core::RpcCall d{"metrics.Declare", pf::kCodecJson,
                         R"({"name":"lat","collector":{"namespace":"app","subsystem":"","type":"summary","help":"h",)"
                         R"("labels":["k"],"buckets":[],"objectives":{"0.5":0.05,"0.99":0.001}}})"};
  pivot::config::MetricsCollectorConfig c;
  REQUIRE(args::decode_declare(d, c, error));
  CHECK(c.name == "lat");
  CHECK(c.namespace_name == "app");
  CHECK(c.type == "summary");
  CHECK(c.labels == std::vector<std::string>{"k"});
  REQUIRE(c.objectives.size() == 2);
  CHECK(c.objectives[1] == std::pair<double, double>(0.99, 0.001));
  d.body = R"({"name":"lat","collector":{"type":"histogram","buckets":[0.1,"x"]}})";
  CHECK_FALSE(args::decode_declare(d, c, error));
  CHECK_THAT(error, Contains("buckets"));
}
