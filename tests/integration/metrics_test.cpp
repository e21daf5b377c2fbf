#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "protocol/frame.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/rpc_frame.hpp"
#include "tests/integration/config_template.hpp"
#include "tests/integration/harness.hpp"
#include "tests/integration/rpc_client.hpp"

using namespace pivot::test;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
namespace pf = pivot::protocol::flags;

namespace {

/// The shared raw RPC client with JSON calls (the codec of our PHP client).
class RpcConn : public RpcClient {
 public:
  using RpcClient::RpcClient;

  /// One JSON call; checks seq and method, returns the reply.
  pivot::protocol::RpcMessage call(const std::string& method, const std::string& json) {
    return RpcClient::call(method, pf::kCodecJson, json);
  }

  /// A call that must succeed with JSON `true`.
  void ok(const std::string& method, const std::string& json) {
    const auto m = call(method, json);
    INFO(method << " " << json << " -> " << m.body);
    CHECK(m.flags == pf::kCodecJson);
    CHECK(m.body == "true");
  }

  /// A call that must fail; returns the error text.
  std::string error(const std::string& method, const std::string& json) {
    const auto m = call(method, json);
    INFO(method << " " << json << " -> " << m.body);
    CHECK(m.flags == (pf::kCodecJson | pf::kError));
    return m.body;
  }
};

/// pivot-server with /metrics (and optionally RPC) on ports of its own.
struct MetricsServer {
  int metrics_port = free_port();
  int rpc_port = free_port();
  ServerProcess server;

  MetricsServer(int workers, const std::string& pool_extra = "", const std::string& metrics_extra = "", bool rpc = true)
      : server(config_yaml(workers, pool_extra, "app.php",
                           "metrics:\n  address: 127.0.0.1:" + std::to_string(metrics_port) + "\n" + metrics_extra +
                               (rpc ? "rpc:\n  listen: tcp://127.0.0.1:" + std::to_string(rpc_port) + "\n" : ""))) {
    REQUIRE(server.wait_log("event=worker_ready", 10s, workers));
    REQUIRE(server.wait_log("event=metrics_listening", 5s));
  }

  std::string rr_rpc() const { return "tcp://127.0.0.1:" + std::to_string(rpc_port); }

  /// GET /metrics; fails the test unless it answers 200 in the text format.
  std::string scrape() const {
    const Response r = request(metrics_port, "GET", "/metrics");
    REQUIRE(r.status == 200);
    CHECK(r.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
    return r.body;
  }
};

/// The value of the sample `series` (name plus labels exactly as exposed), if present.
std::optional<double> sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
    }
  }
  return std::nullopt;
}

/// Polls /metrics until `series` has `value` (state changes land on the pool strand a moment later).
bool wait_sample(const MetricsServer& m, const std::string& series, double value, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (sample(m.scrape(), series) == value) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
}

}  // namespace

TEST_CASE("metrics: request count and duration histogram after N requests; worker gauges per live pid", "[integration][metrics]") {
  MetricsServer m(2);
  constexpr int kRequests = 7;
  for (int i = 0; i < kRequests; ++i) REQUIRE(request(m.server.port(), "GET", "/").status == 200);
  REQUIRE(request(m.server.port(), "GET", "/status?code=404").status == 404);

  const std::string text = m.scrape();
  INFO(text);
  CHECK(sample(text, "rr_http_request_total{status=\"200\"}") == kRequests);
  CHECK(sample(text, "rr_http_request_total{status=\"404\"}") == 1);
  CHECK(sample(text, "rr_http_request_duration_seconds_count{status=\"200\"}") == kRequests);
  CHECK(sample(text, "rr_http_request_duration_seconds_sum{status=\"200\"}") > 0);
  for (const char* le : {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "20", "30", "60"}) {
    CHECK(sample(text, std::string("rr_http_request_duration_seconds_bucket{status=\"200\",le=\"") + le + "\"}").has_value());
  }
  CHECK(sample(text, "rr_http_request_duration_seconds_bucket{status=\"200\",le=\"+Inf\"}") == kRequests);
  CHECK(sample(text, "rr_http_request_duration_seconds_bucket{status=\"200\",le=\"60\"}") == kRequests);
  CHECK_THAT(text, Contains("# TYPE rr_http_request_duration_seconds histogram\n"));
  CHECK(sample(text, "rr_http_requests_queue") == 0);
  CHECK(sample(text, "rr_http_no_free_workers_total") == 0);

  CHECK(sample(text, "rr_http_total_workers") == 2);
  CHECK(sample(text, "rr_http_workers_ready") == 2);
  CHECK(sample(text, "rr_http_workers_working") == 0);
  CHECK(sample(text, "rr_http_workers_invalid") == 0);
  CHECK(sample(text, "rr_http_workers_memory_bytes") > 1e6);
  const auto pids = m.server.children();
  REQUIRE(pids.size() == 2);
  for (const pid_t pid : pids) {
    const std::string p = std::to_string(pid);
    CHECK(sample(text, "rr_http_worker_state{pid=\"" + p + "\",state=\"ready\"}") == 0);
    CHECK(sample(text, "rr_http_worker_memory_bytes{pid=\"" + p + "\"}") > 1e6);
  }
  CHECK(sample(text, "rr_http_uptime_seconds").has_value());
  CHECK_THAT(text, Contains("# TYPE rr_http_uptime_seconds counter\n"));
  CHECK(sample(text, "process_resident_memory_bytes") > 1e6);
  CHECK(sample(text, "process_cpu_seconds_total") >= 0);
  CHECK(sample(text, "process_open_fds") >= 5);

  // HEAD has the headers only; other paths and methods are refused.
  Connection c(m.metrics_port);
  c.send("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  const Response head = c.read_response(true);
  CHECK(head.status == 200);
  CHECK(std::stoul(head.header("content-length")) > 1000);
  CHECK(head.body.empty());
  CHECK(request(m.metrics_port, "GET", "/").status == 404);
  CHECK(request(m.metrics_port, "POST", "/metrics", "x").status == 405);
}

TEST_CASE("metrics: a 503 for want of a free worker bumps rr_http_no_free_workers_total", "[integration][metrics]") {
  MetricsServer m(1, "    allocate_timeout: 700ms\n");
  std::thread busy([&m] { CHECK(request(m.server.port(), "GET", "/sleep?ms=2500").status == 200); });
  REQUIRE(wait_sample(m, "rr_http_requests_queue", 1));  // the sleeper is in flight
  CHECK(sample(m.scrape(), "rr_http_workers_working") == 1);
  const Response r = request(m.server.port(), "GET", "/");
  CHECK(r.status == 503);
  busy.join();
  const std::string text = m.scrape();
  INFO(text);
  CHECK(sample(text, "rr_http_no_free_workers_total") == 1);
  CHECK(sample(text, "rr_http_request_total{status=\"503\"}") == 1);
  CHECK(sample(text, "rr_http_request_total{status=\"200\"}") == 1);
  CHECK(sample(text, "rr_http_request_duration_seconds_bucket{status=\"503\",le=\"0.5\"}") == 0);  // it waited 700 ms
  CHECK(sample(text, "rr_http_request_duration_seconds_bucket{status=\"503\",le=\"2.5\"}") == 1);
  CHECK(sample(text, "rr_http_request_duration_seconds_bucket{status=\"200\",le=\"2.5\"}") == 0);
  CHECK(sample(text, "rr_http_requests_queue") == 0);
}

TEST_CASE("metrics: max_jobs rotations count pivot_worker_restarts_total and leave no stale pid series", "[integration][metrics]") {
  MetricsServer m(1, "    max_jobs: 2\n");
  const std::string first_pid = request(m.server.port(), "GET", "/pid").body;
  for (int i = 0; i < 5; ++i) REQUIRE(request(m.server.port(), "GET", "/").status == 200);
  // 6 requests with max_jobs 2 (2 + up to 14 % jitter is still 2): three workers retired.
  REQUIRE(wait_sample(m, "pivot_worker_restarts_total{pool=\"http\",reason=\"max_jobs\"}", 3));
  REQUIRE(wait_sample(m, "rr_http_total_workers", 1));  // the retired ones have exited
  const std::string text = m.scrape();
  INFO(text);
  CHECK_THAT(text, Contains("# TYPE pivot_worker_restarts_total counter\n"));
  CHECK(text.find("pid=\"" + first_pid + "\"") == std::string::npos);
  const auto pids = m.server.children();
  REQUIRE(pids.size() == 1);
  CHECK(sample(text, "rr_http_worker_memory_bytes{pid=\"" + std::to_string(pids[0]) + "\"}").has_value());
}

TEST_CASE("metrics: application metrics from PHP (Pivot\\Worker\\Metrics\\Metrics) appear with their labels", "[integration][metrics]") {
  MetricsServer m(1);
  int status = -1;
  const std::string out = run_command("RR_RPC=" + m.rr_rpc() + " php " + workers_dir() + "/metrics_scenario.php 2>&1", &status);
  INFO(out);
  REQUIRE(status == 0);
  const auto j = nlohmann::json::parse(out, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  CHECK(j["ok"] == nlohmann::json::parse(R"(["declared","recorded","unregistered"])"));

  const auto& e = j["errors"];
  const std::string cls = "Pivot\\Worker\\Metrics\\MetricsException";
  CHECK(e["unknown_type"] == nlohmann::json::array({cls, "metrics_plugin_declare: unknown collector type meter", "metrics.Declare"}));
  CHECK(e["undefined"] ==
        nlohmann::json::array({cls, "metrics_plugin_add: undefined collector nope, try first Declare the desired collector", "metrics.Add"}));
  CHECK(e["missing_labels"] == nlohmann::json::array({cls, "metrics_plugin_add: required labels for collector `php_orders`", "metrics.Add"}));
  CHECK(e["sub_counter"][1] == "metrics_plugin_sub: collector `php_orders` does not support method `Sub`");
  CHECK(e["observe_gauge"][1] == "metrics_plugin_observe: collector `php_queue_depth` does not support method `Observe`");
  CHECK(e["unregister_twice"][1] == "metrics_plugin_unregister: undefined collector php_temp");
  CHECK(e["bad_name"][1] == "metrics_plugin_declare: \"9lives\" is not a valid metric name");

  const std::string text = m.scrape();
  INFO(text);
  CHECK_THAT(text, Contains("# HELP shop_php_orders Orders placed\n# TYPE shop_php_orders counter\n"));
  CHECK(sample(text, "shop_php_orders{channel=\"web\",country=\"de\"}") == 3);
  CHECK(sample(text, "shop_php_orders{channel=\"app\",country=\"fr\"}") == 5);
  CHECK_THAT(text, Contains("# TYPE php_queue_depth gauge\n"));
  CHECK(sample(text, "php_queue_depth") == 7.5);
  CHECK_THAT(text, Contains("# TYPE php_latency histogram\n"));
  CHECK(sample(text, "php_latency_bucket{route=\"/a\",le=\"0.1\"}") == 1);
  CHECK(sample(text, "php_latency_bucket{route=\"/a\",le=\"0.5\"}") == 1);
  CHECK(sample(text, "php_latency_bucket{route=\"/a\",le=\"1\"}") == 2);
  CHECK(sample(text, "php_latency_bucket{route=\"/a\",le=\"+Inf\"}") == 3);
  CHECK(sample(text, "php_latency_count{route=\"/a\"}") == 3);
  CHECK_THAT(text, Contains("# TYPE php_payload summary\n"));
  // prometheus-cpp's CKMS estimate of the median of 1 2 3 4 100 (allowed error 0.05) is 2 or 3.
  const auto median = sample(text, "php_payload{kind=\"json\",quantile=\"0.5\"}");
  REQUIRE(median.has_value());
  CHECK(*median >= 2);
  CHECK(*median <= 3);
  CHECK(sample(text, "php_payload{kind=\"json\",quantile=\"0.9\"}").has_value());
  CHECK(sample(text, "php_payload_count{kind=\"json\"}") == 5);
  CHECK(sample(text, "php_payload_sum{kind=\"json\"}") == 110);
  CHECK(sample(text, "app_php_plain") == 4);
  CHECK(text.find("php_temp") == std::string::npos);
  CHECK_THAT(m.server.log(), Contains("event=metrics_declared name=php_orders full_name=shop_php_orders type=counter"));
}

TEST_CASE("metrics: raw JSON RPC frames get RoadRunner's replies and error texts", "[integration][metrics]") {
  MetricsServer m(1);
  RpcConn c(m.rpc_port);
  c.ok("metrics.Declare", R"({"name":"raw_hits","collector":{"type":"counter","help":"h","labels":["route"]}})");
  c.ok("metrics.Declare", R"({"name":"raw_hits","collector":{"type":"gauge"}})");  // exists: succeeds, no change
  c.ok("metrics.Add", R"({"name":"raw_hits","value":2,"labels":["/x"]})");
  c.ok("metrics.Declare", R"({"name":"raw_sum","collector":{"type":"summary"}})");
  c.ok("metrics.Declare", R"({"Name":"raw_g","Collector":{"Type":"gauge","Labels":["a","b"]}})");  // Go matches keys in any case

  CHECK(c.error("metrics.Declare", R"({"name":"raw_bad","collector":{"type":"meter"}})") ==
        "metrics_plugin_declare: unknown collector type meter");
  CHECK(c.error("metrics.Add", R"({"name":"nope","value":1})") ==
        "metrics_plugin_add: undefined collector nope, try first Declare the desired collector");
  CHECK(c.error("metrics.Set", R"({"name":"nope","value":1})") == "metrics_plugin_set: undefined collector nope");
  CHECK(c.error("metrics.Add", R"({"name":"raw_hits","value":1})") == "metrics_plugin_add: required labels for collector `raw_hits`");
  CHECK(c.error("metrics.Set", R"({"name":"raw_g","value":1,"labels":[]})") == "metrics_plugin_set: required labels for collector raw_g");
  CHECK(c.error("metrics.Set", R"({"name":"raw_g","value":1,"labels":["x"]})") ==
        "metrics_plugin_set: inconsistent label cardinality: expected 2 label values but got 1 in []string{\"x\"}");
  CHECK(c.error("metrics.Observe", R"({"name":"raw_sum","value":1})") ==
        "metrics_plugin_observe: collector `raw_sum` does not support method `Observe`");
  CHECK(c.error("metrics.Declare", R"({"name":"rr_http_request_total","collector":{"type":"counter"}})") ==
        "metrics_plugin_declare: duplicate metrics collector registration attempted: rr_http_request_total is already registered");
  const std::string dup = c.error("metrics.Declare", R"({"name":"x","collector":{"type":"histogram","buckets":[2,1]}})");
  CHECK(dup == "metrics_plugin_declare: histogram buckets must be in increasing order: 2 >= 1");
  CHECK(dup.find("tried to register existing collector") == std::string::npos);
  CHECK(c.error("metrics.Nope", "{}") == "rpc: can't find method metrics.Nope");
  c.ok("metrics.Set", R"({"name":"raw_g","value":-2.5,"labels":["x","y"]})");
  c.ok("metrics.Unregister", R"("raw_sum")");
  CHECK(c.error("metrics.Unregister", R"("raw_sum")") == "metrics_plugin_unregister: undefined collector raw_sum");

  const std::string text = m.scrape();
  INFO(text);
  CHECK(sample(text, "raw_hits{route=\"/x\"}") == 2);
  CHECK_THAT(text, Contains("# TYPE raw_hits counter\n"));
  CHECK(sample(text, "raw_g{a=\"x\",b=\"y\"}") == -2.5);
}

TEST_CASE("metrics: metrics.collect from the config appears at scrape and takes RPC calls", "[integration][metrics]") {
  MetricsServer m(1, "",
                  "  collect:\n"
                  "    jobs_done:\n"
                  "      type: counter\n"
                  "      namespace: app\n"
                  "      help: \"Jobs done\"\n"
                  "    queue_size:\n"
                  "      type: gauge\n"
                  "      labels: [queue]\n"
                  "    job_seconds:\n"
                  "      type: histogram\n"
                  "      buckets: [0.5, 2]\n");
  std::string text = m.scrape();
  CHECK_THAT(text, Contains("# HELP app_jobs_done Jobs done\n# TYPE app_jobs_done counter\napp_jobs_done 0\n"));
  CHECK(sample(text, "job_seconds_bucket{le=\"0.5\"}") == 0);
  CHECK(sample(text, "job_seconds_bucket{le=\"2\"}") == 0);
  CHECK(text.find("queue_size{") == std::string::npos);  // a vector shows series once used

  RpcConn c(m.rpc_port);
  c.ok("metrics.Add", R"({"name":"jobs_done","value":3})");
  c.ok("metrics.Set", R"({"name":"queue_size","value":12,"labels":["mail"]})");
  c.ok("metrics.Observe", R"({"name":"job_seconds","value":1})");
  text = m.scrape();
  INFO(text);
  CHECK(sample(text, "app_jobs_done") == 3);
  CHECK(sample(text, "queue_size{queue=\"mail\"}") == 12);
  CHECK(sample(text, "job_seconds_bucket{le=\"2\"}") == 1);
  CHECK_THAT(m.server.log(), Contains("event=metrics_declared name=jobs_done full_name=app_jobs_done type=counter labels=0 source=config"));
}

TEST_CASE("metrics: a bad metrics.collect entry stops the server with exit code 2 and the key", "[integration][metrics]") {
  char tmpl[] = "/tmp/pivot-metrics-cfg-XXXXXX.yaml";
  const int fd = ::mkstemps(tmpl, 5);
  ::close(fd);
  std::ofstream(tmpl) << "version: \"3\"\nserver:\n  command: php w.php\nhttp:\n  address: 127.0.0.1:1\n"
                         "metrics:\n  collect:\n    hits:\n      type: meter\n";
  int status = -1;
  const std::string out = run_command(std::string(PIVOT_BINARY) + " serve -c " + tmpl + " 2>&1", &status);
  CHECK(status == 2);
  CHECK_THAT(out, Contains("metrics.collect.hits.type") && Contains("counter, gauge, histogram, summary"));
  ::unlink(tmpl);
}

TEST_CASE("metrics: without a metrics section there is no metrics service", "[integration][metrics]") {
  const int rpc_port = free_port();
  ServerProcess s(config_yaml(1, "", "app.php", "rpc:\n  listen: tcp://127.0.0.1:" + std::to_string(rpc_port) + "\n"));
  RpcConn c(rpc_port);
  CHECK(c.error("metrics.Add", R"({"name":"x","value":1})") == "rpc: can't find service metrics.Add");
  CHECK(s.log().find("event=metrics_listening") == std::string::npos);
}
