#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "server/config/config_error.hpp"
#include "server/config/loader.hpp"

using namespace pivot::config;
using Catch::Matchers::Contains;

namespace {

Config parse_jobs(const std::string& jobs_yaml, bool with_rpc = true) {
  const std::string yaml = std::string("version: \"3\"\nserver:\n  command: \"php w.php\"\nhttp:\n  address: 127.0.0.1:8080\n") +
                           (with_rpc ? "rpc:\n  listen: tcp://127.0.0.1:6001\n" : "") + jobs_yaml;
  return parse_config(yaml, "test.yaml", {}, [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
}

std::string error_of(const std::string& jobs_yaml) {
  try {
    parse_jobs(jobs_yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("jobs config: RoadRunner's keys, our defaults and extensions", "[jobs][config]") {
  const Config c = parse_jobs(R"(jobs:
  pool:
    num_workers: 3
  consume: ["default", "emails"]
  pipelines:
    default:
      driver: memory
      config:
        priority: 5
        prefetch: 100
        retry:
          max_attempts: 7
        dead_letter: failed
    emails:
      driver: memory
    failed:
      driver: memory
    remote:
      driver: amqp
      config:
        queue: q1
        exchange: ex
)");
  REQUIRE(c.jobs.enabled);
  CHECK(c.jobs.pool.num_workers == 3);
  CHECK(c.jobs.num_pollers == 5);  // num_workers + 2
  CHECK(c.jobs.pipeline_size == 1000000);
  CHECK(c.jobs.consume == std::vector<std::string>{"default", "emails"});
  REQUIRE(c.jobs.pipelines.size() == 4);
  const auto& d = c.jobs.pipelines[0];
  CHECK(d.name == "default");
  CHECK(d.priority == 5);
  CHECK(d.prefetch == 100);
  CHECK(d.max_attempts == 7);
  CHECK(d.dead_letter == "failed");
  const auto& e = c.jobs.pipelines[1];
  CHECK(e.priority == 10);
  CHECK(e.max_attempts == 3);
  CHECK(e.dead_letter.empty());
  const auto& r = c.jobs.pipelines[3];
  CHECK(r.driver == "amqp");
  REQUIRE(r.config);
  CHECK(r.config->at("queue") == "q1");  // driver keys are kept for the driver
  CHECK(r.config->at("exchange") == "ex");
}

TEST_CASE("jobs config: a .rr.yaml jobs section loads", "[jobs][config]") {
  const Config c = parse_jobs(R"(jobs:
  num_pollers: 10
  timeout: 60
  pipeline_size: 100000
  pool:
    num_workers: 2
    allocate_timeout: 60s
    destroy_timeout: 60s
  consume: ["test-1"]
  pipelines:
    test-1:
      driver: memory
      config:
        priority: 10
        prefetch: 10000
)");
  CHECK(c.jobs.num_pollers == 10);
  CHECK(c.jobs.pipeline_size == 100000);
  CHECK(c.jobs.timeout == std::chrono::seconds(60));
}

TEST_CASE("jobs config: errors name the key path and what is allowed", "[jobs][config]") {
  CHECK_THAT(error_of("jobs:\n  pipelines:\n    a:\n      driver: kafka\n"),
             Contains("jobs.pipelines.a.driver") && Contains("\"kafka\" is not allowed; use one of: memory, amqp"));
  CHECK_THAT(error_of("jobs:\n  pipelines:\n    a:\n      config: {}\n"), Contains("jobs.pipelines.a.driver is required"));
  CHECK_THAT(error_of("jobs:\n  consume: [b]\n  pipelines:\n    a:\n      driver: memory\n"),
             Contains("jobs.consume[0]") && Contains("no pipeline named \"b\"") && Contains("declared: a"));
  CHECK_THAT(error_of("jobs:\n  pipelines:\n    a:\n      driver: memory\n      config:\n        retry:\n          max_attempts: 0\n"),
             Contains("jobs.pipelines.a.config.retry.max_attempts: must be at least 1"));
  CHECK_THAT(error_of("jobs:\n  pipelines:\n    a:\n      driver: memory\n      config:\n        dead_letter: nope\n"),
             Contains("jobs.pipelines.a.config.dead_letter") && Contains("no pipeline named \"nope\""));
  CHECK_THAT(error_of("jobs:\n  pipelines:\n    a:\n      driver: memory\n      config:\n        queue: x\n"),
             Contains("jobs.pipelines.a.config.queue is unknown for the memory driver"));
  CHECK_THAT(error_of("jobs:\n  pipelines:\n    a:\n      driver: memory\n      config:\n        priority: high\n"),
             Contains("jobs.pipelines.a.config.priority: expected a whole number"));
  CHECK_THAT(error_of("jobs:\n  pipelinez: {}\n"), Contains("jobs.pipelinez is unknown") && Contains("did you mean jobs.pipelines?"));
}

TEST_CASE("jobs config: Declare's string map parses like the file", "[jobs][config]") {
  const auto p = parse_jobs_pipeline(
      "d", nlohmann::json{{"driver", "memory"}, {"config", {{"priority", "3"}, {"max_attempts", "2"}, {"prefetch", "5"}}}}, "jobs.pipelines.d");
  CHECK(p.priority == 3);
  CHECK(p.max_attempts == 2);
  CHECK(p.prefetch == 5);
  CHECK_THROWS_WITH(parse_jobs_pipeline("d", nlohmann::json{{"driver", "memory"}, {"config", {{"priority", "x"}}}}, "jobs.pipelines.d"),
                    Contains("jobs.pipelines.d.config.priority"));
}

TEST_CASE("jobs config: no rpc section warns", "[jobs][config]") {
  const Config c = parse_jobs("jobs:\n  pipelines:\n    a:\n      driver: memory\n", false);
  bool warned = false;
  for (const auto& w : c.warnings) warned = warned || w.find("config key jobs: jobs are pushed over RPC") != std::string::npos;
  CHECK(warned);
}
