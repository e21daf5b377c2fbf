#include <catch2/catch.hpp>

#include <prometheus/text_serializer.h>

#include <thread>

#include "server/plugins/metrics/app_metrics.hpp"

using pivot::config::MetricsCollectorConfig;
using pivot::metrics::AppMetrics;
using Catch::Matchers::Contains;

namespace {

MetricsCollectorConfig spec(std::string name, std::string type, std::vector<std::string> labels = {}) {
  MetricsCollectorConfig c;
  c.name = std::move(name);
  c.type = std::move(type);
  c.labels = std::move(labels);
  return c;
}

std::string text(const AppMetrics& app) { return prometheus::TextSerializer().Serialize(app.collect()); }

}  // namespace

TEST_CASE("app metrics: counter, gauge, histogram and summary with and without labels", "[metrics]") {
  AppMetrics app({"rr_http_request_total"});
  auto c = spec("hits", "counter", {"route"});
  c.namespace_name = "shop";
  c.help = "Hits by route";
  REQUIRE(app.declare(c).empty());
  REQUIRE(app.declare(spec("depth", "gauge")).empty());
  auto h = spec("latency", "histogram", {"kind"});
  h.buckets = {0.1, 1};
  REQUIRE(app.declare(h).empty());
  auto s = spec("sizes", "summary", {"kind"});
  s.objectives = {{0.5, 0.05}};
  REQUIRE(app.declare(s).empty());
  CHECK(app.size() == 4);

  CHECK(app.add("hits", 2, {"/a"}).empty());
  CHECK(app.add("hits", 1.5, {"/a"}).empty());
  CHECK(app.add("depth", 10, {}).empty());
  CHECK(app.sub("depth", 3, {}).empty());
  CHECK(app.observe("latency", 0.05, {"db"}).empty());
  CHECK(app.observe("latency", 5, {"db"}).empty());
  CHECK(app.observe("sizes", 42, {"img"}).empty());

  const std::string out = text(app);
  INFO(out);
  CHECK_THAT(out, Contains("# HELP shop_hits Hits by route\n# TYPE shop_hits counter\nshop_hits{route=\"/a\"} 3.5\n"));
  CHECK_THAT(out, Contains("depth 7\n"));
  CHECK_THAT(out, Contains("latency_bucket{kind=\"db\",le=\"0.1\"} 1\n"));
  CHECK_THAT(out, Contains("latency_bucket{kind=\"db\",le=\"1\"} 1\n"));
  CHECK_THAT(out, Contains("latency_bucket{kind=\"db\",le=\"+Inf\"} 2\n"));
  CHECK_THAT(out, Contains("latency_count{kind=\"db\"} 2\n"));
  CHECK_THAT(out, Contains("sizes{kind=\"img\",quantile=\"0.5\"} 42\n"));
  CHECK_THAT(out, Contains("sizes_count{kind=\"img\"} 1\n"));

  CHECK(app.set("depth", -1, {}).empty());
  CHECK_THAT(text(app), Contains("depth -1\n"));
}

TEST_CASE("app metrics: a re-declare succeeds and changes nothing", "[metrics]") {
  AppMetrics app({});
  REQUIRE(app.declare(spec("jobs", "counter")).empty());
  CHECK(app.add("jobs", 1, {}).empty());
  CHECK(app.declare(spec("jobs", "gauge", {"x"})).empty());  // not "tried to register existing collector"
  CHECK(app.size() == 1);
  CHECK(app.add("jobs", 1, {}).empty());  // still the plain counter
  CHECK_THAT(text(app), Contains("# TYPE jobs counter\njobs 2\n"));
}

TEST_CASE("app metrics: RoadRunner's error texts", "[metrics]") {
  AppMetrics app({"rr_http_request_total"});
  REQUIRE(app.declare(spec("c", "counter", {"a"})).empty());
  REQUIRE(app.declare(spec("g", "gauge", {"a"})).empty());
  REQUIRE(app.declare(spec("h", "histogram", {"a"})).empty());
  REQUIRE(app.declare(spec("s", "summary", {"a"})).empty());
  REQUIRE(app.declare(spec("plain_s", "summary")).empty());
  REQUIRE(app.declare(spec("plain_c", "counter")).empty());

  CHECK(app.declare(spec("x", "meter")) == "metrics_plugin_declare: unknown collector type meter");
  CHECK(app.declare(spec("rr_http_request_total", "counter")) ==
        "metrics_plugin_declare: duplicate metrics collector registration attempted: rr_http_request_total is already registered");
  CHECK(app.add("nope", 1, {}) == "metrics_plugin_add: undefined collector nope, try first Declare the desired collector");
  CHECK(app.sub("nope", 1, {}) == "metrics_plugin_sub: undefined collector nope");
  CHECK(app.set("nope", 1, {}) == "metrics_plugin_set: undefined collector nope");
  CHECK(app.observe("nope", 1, {}) == "metrics_plugin_observe: undefined collector nope");
  CHECK(app.unregister("nope") == "metrics_plugin_unregister: undefined collector nope");

  CHECK(app.add("g", 1, {}) == "metrics_plugin_add: required labels for collector g");
  CHECK(app.add("c", 1, {}) == "metrics_plugin_add: required labels for collector `c`");
  CHECK(app.sub("g", 1, {}) == "metrics_plugin_sub: required labels for collector g");
  CHECK(app.set("g", 1, {}) == "metrics_plugin_set: required labels for collector g");
  CHECK(app.observe("h", 1, {}) == "metrics_plugin_observe: required labels for collector `h`");
  CHECK(app.observe("s", 1, {}) == "metrics_plugin_observe: required labels for collector `s`");

  CHECK(app.add("h", 1, {"x"}) == "metrics_plugin_add: collector h does not support method `Add`");
  CHECK(app.sub("c", 1, {"x"}) == "metrics_plugin_sub: collector `c` does not support method `Sub`");
  CHECK(app.set("c", 1, {"x"}) == "metrics_plugin_set: collector `c` does not support method Set");
  CHECK(app.observe("g", 1, {"x"}) == "metrics_plugin_observe: collector `g` does not support method `Observe`");
  CHECK(app.observe("plain_s", 1, {}) == "metrics_plugin_observe: collector `plain_s` does not support method `Observe`");
  CHECK(app.add("plain_c", -1, {}) == "metrics_plugin_add: counter cannot decrease in value");
  CHECK(app.add("c", 1, {"x", "y"}) ==
        "metrics_plugin_add: inconsistent label cardinality: expected 1 label values but got 2 in []string{\"x\", \"y\"}");
}

TEST_CASE("app metrics: unregister removes the series; the name can be declared again", "[metrics]") {
  AppMetrics app({});
  REQUIRE(app.declare(spec("q", "gauge", {"k"})).empty());
  CHECK(app.set("q", 5, {"a"}).empty());
  CHECK_THAT(text(app), Contains("q{k=\"a\"} 5"));
  CHECK(app.unregister("q").empty());
  CHECK(app.size() == 0);
  CHECK(text(app).find("q{") == std::string::npos);
  CHECK(app.declare(spec("q", "counter")).empty());
  CHECK(app.add("q", 1, {}).empty());
  CHECK_THAT(text(app), Contains("# TYPE q counter\nq 1\n"));
}

TEST_CASE("app metrics: concurrent calls from several threads", "[metrics]") {
  AppMetrics app({});
  REQUIRE(app.declare(spec("n", "counter", {"t"})).empty());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&app, t] {
      for (int i = 0; i < 1000; ++i) {
        (void)app.add("n", 1, {std::to_string(t % 2)});
        (void)app.declare(spec("n", "counter", {"t"}));
        (void)app.collect();
      }
    });
  }
  for (auto& th : threads) th.join();
  const std::string out = text(app);
  CHECK_THAT(out, Contains("n{t=\"0\"} 2000\n") && Contains("n{t=\"1\"} 2000\n"));
}
