#include <catch2/catch.hpp>

#include <map>

#include "server/config/config_error.hpp"
#include "server/config/loader.hpp"
#include "server/config/metrics_collector.hpp"

using namespace pivot::config;
using Catch::Matchers::Contains;

namespace {

Config parse_metrics(const std::string& metrics_yaml) {
  const std::string yaml =
      std::string("version: \"3\"\nserver:\n  command: \"php w.php\"\nhttp:\n  address: 127.0.0.1:8080\n") + metrics_yaml;
  return parse_config(yaml, "test.yaml", {}, [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
}

std::string error_of(const std::string& metrics_yaml) {
  try {
    parse_metrics(metrics_yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

MetricsCollectorConfig collector(std::string type, std::string name = "jobs") {
  MetricsCollectorConfig c;
  c.name = std::move(name);
  c.type = std::move(type);
  return c;
}

}  // namespace

TEST_CASE("metrics config: off without the section, RoadRunner's default address with it", "[metrics][config]") {
  CHECK_FALSE(parse_metrics("").metrics.enabled);
  const auto c = parse_metrics("metrics:\n  collect: {}\n");
  CHECK(c.metrics.enabled);
  CHECK(c.metrics.host == "127.0.0.1");
  CHECK(c.metrics.port == 2112);
  CHECK(c.metrics.collect.empty());
  const auto a = parse_metrics("metrics:\n  address: 0.0.0.0:9180\n");
  CHECK(a.metrics.host == "0.0.0.0");
  CHECK(a.metrics.port == 9180);
  CHECK(a.warnings.empty());  // metrics is no longer "not supported yet"
}

TEST_CASE("metrics config: metrics.collect with every field, in the file's order", "[metrics][config]") {
  const auto c = parse_metrics(
      "metrics:\n"
      "  collect:\n"
      "    app_requests:\n"
      "      type: counter\n"
      "      namespace: shop\n"
      "      subsystem: api\n"
      "      help: \"Requests by route\"\n"
      "      labels: [\"route\", \"code\"]\n"
      "    latency:\n"
      "      type: histogram\n"
      "      buckets: [0.1, 0.5, 1, .inf]\n"
      "    sizes:\n"
      "      type: summary\n"
      "      labels: [kind]\n"
      "      objectives:\n"
      "        0.5: 0.05\n"
      "        0.99: 0.001\n");
  REQUIRE(c.metrics.collect.size() == 3);
  REQUIRE(c.warnings.size() == 1);  // collectors but no rpc section to feed them
  CHECK_THAT(c.warnings[0], Contains("metrics.collect") && Contains("rpc.listen"));
  const auto& r = c.metrics.collect[0];
  CHECK(r.name == "app_requests");
  CHECK(r.type == "counter");
  CHECK(r.namespace_name == "shop");
  CHECK(r.subsystem == "api");
  CHECK(r.help == "Requests by route");
  CHECK(r.labels == std::vector<std::string>{"route", "code"});
  CHECK(metrics_full_name(r) == "shop_api_app_requests");
  CHECK(c.metrics.collect[1].buckets.size() == 4);
  CHECK(c.metrics.collect[1].buckets[1] == 0.5);
  CHECK(std::isinf(c.metrics.collect[1].buckets[3]));
  const auto& s = c.metrics.collect[2];
  REQUIRE(s.objectives.size() == 2);
  CHECK(s.objectives[0] == std::pair<double, double>(0.5, 0.05));
  CHECK(s.objectives[1] == std::pair<double, double>(0.99, 0.001));
}

TEST_CASE("metrics config: errors name the key and what is allowed", "[metrics][config]") {
  CHECK_THAT(error_of("metrics:\n  collect:\n    x:\n      help: h\n"),
             Contains("metrics.collect.x.type is required") && Contains("counter, gauge, histogram, summary"));
  CHECK_THAT(error_of("metrics:\n  collect:\n    x:\n      type: meter\n"),
             Contains("metrics.collect.x.type") && Contains("\"meter\" is not allowed"));
  CHECK_THAT(error_of("metrics:\n  collect:\n    x:\n      type: counter\n      lables: [a]\n"),
             Contains("metrics.collect.x.lables is unknown") && Contains("did you mean metrics.collect.x.labels"));
  CHECK_THAT(error_of("metrics:\n  collect:\n    9x:\n      type: gauge\n"),
             Contains("metrics.collect.9x: \"9x\" is not a valid metric name"));
  CHECK_THAT(error_of("metrics:\n  collect:\n    x:\n      type: histogram\n      buckets: [1, 0.5]\n"),
             Contains("metrics.collect.x: histogram buckets must be in increasing order: 1 >= 0.5"));
  CHECK_THAT(error_of("metrics:\n  collect:\n    x:\n      type: histogram\n      buckets: [1, fast]\n"),
             Contains("metrics.collect.x.buckets[1]: expected a number, got \"fast\""));
  CHECK_THAT(error_of("metrics:\n  collect:\n    x:\n      type: gauge\n      labels: [\"a-b\"]\n"),
             Contains("\"a-b\" is not a valid label name for metric \"x\""));
  CHECK_THAT(error_of("metrics:\n  collect:\n    a_b:\n      type: gauge\n    b:\n      type: gauge\n      namespace: a\n"),
             Contains("metrics.collect.b: its full name a_b is already used by metrics.collect.a_b"));
  CHECK_THAT(error_of("metrics:\n  address: nowhere\n"), Contains("metrics.address"));
  CHECK_THAT(error_of("metrics:\n  adress: 1.2.3.4:1\n"), Contains("did you mean metrics.address"));
}

TEST_CASE("metrics collector checks: client_golang's rules and words", "[metrics][config]") {
  CHECK(metrics_collector_problem(collector("counter")).empty());
  CHECK(metrics_collector_problem(collector("meter")) == "unknown collector type meter");
  CHECK(metrics_collector_problem(collector("", "x")) == "unknown collector type ");
  CHECK(metrics_collector_problem(collector("gauge", "")) == "\"\" is not a valid metric name");
  auto h = collector("histogram");
  h.labels = {"le"};
  CHECK(metrics_collector_problem(h) == "\"le\" is not allowed as label name in histograms");
  auto s = collector("summary");
  s.labels = {"quantile"};
  CHECK(metrics_collector_problem(s) == "\"quantile\" is not allowed as label name in summaries");
  s.labels = {"a", "a"};
  CHECK_THAT(metrics_collector_problem(s), Contains("duplicate label names"));
  s.labels = {"__reserved"};
  CHECK_THAT(metrics_collector_problem(s), Contains("is not a valid label name"));
  s.labels = {};
  s.objectives = {{1.5, 0.1}};
  CHECK(metrics_collector_problem(s) == "summary objective 1.5 is not a quantile between 0 and 1");
  auto n = collector("gauge", "depth");
  n.namespace_name = "app";
  CHECK(metrics_full_name(n) == "app_depth");
  n.namespace_name.clear();
  n.subsystem = "queue";
  CHECK(metrics_full_name(n) == "queue_depth");
  CHECK(metrics_format_number(0.25) == "0.25");
  CHECK(metrics_format_number(2) == "2");
}
