#include <catch2/catch.hpp>

#include <map>

#include "server/config/config_error.hpp"
#include "server/config/env_expand.hpp"
#include "server/config/loader.hpp"

using namespace pivot::config;
using Catch::Matchers::Contains;

namespace {

EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Config parse(const std::string& yaml, const std::vector<std::string>& overrides = {}, std::map<std::string, std::string> env = {}) {
  return parse_config(yaml, "test.yaml", overrides, fake_env(std::move(env)));
}

const char* kMinimal = R"(
version: "3"
server:
  command: "php worker.php"
http:
  address: 127.0.0.1:8080
)";

}  // namespace

TEST_CASE("a minimal .rr.yaml gets RoadRunner's defaults", "[config]") {
  const Config c = parse(kMinimal);
  CHECK(c.server.command == std::vector<std::string>{"php", "worker.php"});
  CHECK(c.server.relay == "pipes");
  CHECK(c.http.host == "127.0.0.1");
  CHECK(c.http.port == 8080);
  CHECK(c.http.pool.num_workers >= 1);
  CHECK(c.http.pool.max_jobs == 0);
  CHECK(c.http.pool.allocate_timeout == std::chrono::seconds(60));
  CHECK(c.http.pool.destroy_timeout == std::chrono::seconds(60));
  CHECK(c.http.max_request_size == 1000ULL * 1024 * 1024);
  CHECK(c.logs.level == "info");
  CHECK(c.logs.encoding == "console");
}

TEST_CASE("every supported key is read", "[config]") {
  const Config c = parse(R"(
version: "3"
server:
  command: ["php", "-d", "memory_limit=256M", "worker.php"]
  env:
    app_env: prod
    DSN: "${DB_DSN:-sqlite::memory:}"
  relay: pipes
http:
  address: ":9000"
  io_threads: 2
  max_request_size: 5
  internal_error_code: 503
  pool:
    num_workers: 3
    max_jobs: 100
    max_queue_size: 10
    allocate_timeout: 500ms
    destroy_timeout: 1m30s
    reset_timeout: 2
logs:
  level: debug
  encoding: json
)");
  CHECK(c.server.command.size() == 4);
  CHECK(c.server.command[2] == "memory_limit=256M");
  REQUIRE(c.server.env.size() == 2);
  CHECK(c.server.env[0] == std::pair<std::string, std::string>{"APP_ENV", "prod"});
  CHECK(c.server.env[1].second == "sqlite::memory:");
  CHECK(c.http.host == "0.0.0.0");
  CHECK(c.http.port == 9000);
  CHECK(c.http.io_threads == 2);
  CHECK(c.http.max_request_size == 5ULL * 1024 * 1024);
  CHECK(c.http.internal_error_code == 503);
  CHECK(c.http.pool.num_workers == 3);
  CHECK(c.http.pool.max_jobs == 100);
  CHECK(c.http.pool.max_queue_size == 10);
  CHECK(c.http.pool.allocate_timeout == std::chrono::milliseconds(500));
  CHECK(c.http.pool.destroy_timeout == std::chrono::seconds(90));
  CHECK(c.http.pool.reset_timeout == std::chrono::seconds(2));
  CHECK(c.logs.level == "debug");
  CHECK(c.logs.encoding == "json");
}

TEST_CASE("${VAR} and ${VAR:-default} are expanded in every string", "[config]") {
  const EnvLookup env = fake_env({{"PORT", "9001"}, {"EMPTY", ""}});
  CHECK(expand_env("127.0.0.1:${PORT}", env, "k") == "127.0.0.1:9001");
  CHECK(expand_env("${MISSING:-x}", env, "k") == "x");
  CHECK(expand_env("${EMPTY:-fallback}", env, "k") == "fallback");
  CHECK(expand_env("$PORT/$$", env, "k") == "9001/$");
  CHECK_THROWS_WITH(expand_env("${PORT", env, "http.address"), Contains("http.address") && Contains("unterminated"));
  const Config c = parse("server: {command: \"php ${SCRIPT:-w.php}\"}\nhttp: {address: \"127.0.0.1:${PORT}\"}", {}, {{"PORT", "7001"}});
  CHECK(c.http.port == 7001);
  CHECK(c.server.command[1] == "w.php");
}

TEST_CASE("-o overrides set nested keys before validation", "[config]") {
  const Config c = parse(kMinimal, {"http.pool.num_workers=7", "http.address=127.0.0.1:1234", "server.command=php other.php"});
  CHECK(c.http.pool.num_workers == 7);
  CHECK(c.http.port == 1234);
  CHECK(c.server.command[1] == "other.php");
  CHECK_THROWS_WITH(parse(kMinimal, {"nonsense"}), Contains("key.path=value"));
}

TEST_CASE("config errors name the key path and what is allowed", "[config]") {
  CHECK_THROWS_AS(parse(std::string(kMinimal) + "  pool: {num_wrkers: 2}\n"), ConfigError);
  CHECK_THROWS_WITH(parse(std::string(kMinimal) + "  pool: {num_wrkers: 2}\n"),
                    Contains("http.pool.num_wrkers") && Contains("did you mean http.pool.num_workers"));
  CHECK_THROWS_WITH(parse(std::string(kMinimal) + "  pool: {num_workers: lots}\n"),
                    Contains("http.pool.num_workers") && Contains("integer"));
  CHECK_THROWS_WITH(parse(std::string(kMinimal) + "  pool: {allocate_timeout: soon}\n"),
                    Contains("http.pool.allocate_timeout") && Contains("duration"));
  CHECK_THROWS_WITH(parse(std::string(kMinimal) + "logs: {encoding: xml}\n"), Contains("logs.encoding") && Contains("console, json"));
  CHECK_THROWS_WITH(parse("server: {command: php w.php, relay: \"tcp://127.0.0.1:7000\"}\nhttp: {address: \":1\"}"),
                    Contains("server.relay") && Contains("not supported yet"));
  CHECK_THROWS_WITH(parse("version: \"2.7\"\n"), Contains("version"));
  CHECK_THROWS_WITH(parse("http: {address: \"127.0.0.1:1\"}"), Contains("server.command"));
  CHECK_THROWS_WITH(parse("server: {command: php w.php}\nhttp: {address: nope}"), Contains("http.address"));
  CHECK_THROWS_WITH(parse("server: [1, 2"), Contains("test.yaml:"));
  CHECK_THROWS_WITH(parse("bogus: 1\n" + std::string(kMinimal)), Contains("bogus") && Contains("unknown"));
}

TEST_CASE("RoadRunner sections we do not implement yet are warnings, not errors", "[config]") {
  // Metrics plugin: `metrics` is implemented now; `jobs` is still a warning.
  const Config c = parse(std::string(kMinimal) + "jobs:\n  num_pollers: 2\n");
  REQUIRE(c.warnings.size() == 1);
  CHECK_THAT(c.warnings[0], Contains("jobs"));
}

TEST_CASE("pool.debug forces max_jobs 1", "[config]") {
  const Config c = parse(std::string(kMinimal) + "  pool: {debug: true, max_jobs: 50}\n");
  CHECK(c.http.pool.debug);
  CHECK(c.http.pool.max_jobs == 1);
}

TEST_CASE("the shipped configs parse: reference, minimal and examples", "[config]") {
  for (const char* rel : {"/config/reference.yaml", "/config/pivot.yaml", "/examples/hello/.pivot.yaml", "/examples/psr7/.pivot.yaml"}) {
    INFO(rel);
    Config c;
    REQUIRE_NOTHROW(c = load_config(std::string(PIVOT_SOURCE_DIR) + rel, {}, fake_env({})));
    CHECK(c.warnings.empty());
    CHECK_FALSE(c.server.command.empty());
  }
}

TEST_CASE("pool.supervisor keys parse with RoadRunner's defaults", "[config]") {
  const Config off = parse(kMinimal);
  CHECK_FALSE(off.http.pool.supervisor.enabled);
  const Config c = parse(kMinimal, {"http.pool.supervisor.ttl=1m", "http.pool.supervisor.exec_ttl=250ms",
                                    "http.pool.supervisor.max_worker_memory=128", "http.pool.supervisor.idle_ttl=10"});
  const auto& sv = c.http.pool.supervisor;
  CHECK(sv.enabled);
  CHECK(sv.watch_tick == std::chrono::seconds(5));
  CHECK(sv.ttl == std::chrono::minutes(1));
  CHECK(sv.exec_ttl == std::chrono::milliseconds(250));
  CHECK(sv.idle_ttl == std::chrono::seconds(10));
  CHECK(sv.max_worker_memory == 128);
  CHECK_THROWS_WITH(parse(kMinimal, {"http.pool.supervisor.max_worker_memry=1"}),
                    Contains("http.pool.supervisor.max_worker_memry is unknown") && Contains("did you mean http.pool.supervisor.max_worker_memory"));
  CHECK_THROWS_WITH(parse(kMinimal, {"http.pool.supervisor.watch_tick=1ms"}), Contains("http.pool.supervisor.watch_tick"));
  CHECK_THROWS_WITH(parse(kMinimal, {"http.pool.supervisor.exec_ttl=soon"}), Contains("http.pool.supervisor.exec_ttl"));
}

TEST_CASE("status section: address and unavailable_status_code", "[config]") {
  CHECK_FALSE(parse(kMinimal).status.enabled);
  const Config c = parse(kMinimal, {"status.address=127.0.0.1:9999", "status.unavailable_status_code=500"});
  CHECK(c.status.enabled);
  CHECK(c.status.host == "127.0.0.1");
  CHECK(c.status.port == 9999);
  CHECK(c.status.unavailable_status_code == 500);
  CHECK_THROWS_WITH(parse(kMinimal, {"status.address=nope"}), Contains("status.address"));
}

TEST_CASE("http request keys: forms, uploads, proxies, timeouts, limits", "[config]") {
  const Config d = parse(kMinimal);
  CHECK_FALSE(d.http.raw_body);
  CHECK_FALSE(d.http.access_logs);
  CHECK(d.http.uploads.dir.empty());
  CHECK(d.http.uploads.forbid == std::vector<std::string>{".php", ".exe", ".bat"});
  CHECK(d.http.uploads.allow.empty());
  CHECK(d.http.uploads.max_file_size == 0);
  CHECK(d.http.uploads.max_files == 1000);
  CHECK(d.http.trusted_subnets.empty());
  CHECK(d.http.read_header_timeout == std::chrono::seconds(10));
  CHECK(d.http.read_timeout == std::chrono::seconds(60));
  CHECK(d.http.write_timeout == std::chrono::seconds(60));
  CHECK(d.http.idle_timeout == std::chrono::seconds(60));
  CHECK(d.http.max_connections == 10000);
  CHECK(d.warnings.empty());

  const Config c = parse(std::string(kMinimal) + R"(  raw_body: true
  access_logs: true
  uploads:
    dir: /var/tmp/up
    forbid: [".PHP", ".sh"]
    allow: [".jpg"]
    max_file_size: 64
  trusted_subnets: ["10.0.0.0/8", "::1/128"]
  read_header_timeout: 2s
  read_timeout: 0
  write_timeout: 1m
  idle_timeout: 500ms
  max_connections: 3
)");
  CHECK(c.http.raw_body);
  CHECK(c.http.access_logs);
  CHECK(c.http.uploads.dir == "/var/tmp/up");
  CHECK(c.http.uploads.forbid == std::vector<std::string>{".php", ".sh"});
  CHECK(c.http.uploads.allow == std::vector<std::string>{".jpg"});
  CHECK(c.http.uploads.max_file_size == 64ULL * 1024 * 1024);
  REQUIRE(c.http.trusted_subnets.size() == 2);
  CHECK(c.http.trusted_subnets[0].prefix == 8 + 96);
  CHECK(c.http.trusted_subnets[1].prefix == 128);
  CHECK(c.http.read_header_timeout == std::chrono::seconds(2));
  CHECK(c.http.read_timeout == std::chrono::seconds(0));
  CHECK(c.http.idle_timeout == std::chrono::milliseconds(500));
  CHECK(c.http.max_connections == 3);
  CHECK(c.warnings.empty());

  CHECK_THROWS_WITH(parse(kMinimal, {"http.uploads.forbid=[php]"}),
                    Contains("http.uploads.forbid[0]") && Contains("with the dot"));
  CHECK_THROWS_WITH(parse(kMinimal, {"http.uploads.allow=.jpg"}), Contains("http.uploads.allow") && Contains("list"));
  CHECK_THROWS_WITH(parse(kMinimal, {"http.uploads.max_file_size=-1"}), Contains("http.uploads.max_file_size") && Contains("0.."));
  CHECK_THROWS_WITH(parse(kMinimal, {"http.uploads.dirr=/tmp"}), Contains("did you mean http.uploads.dir"));
  CHECK_THROWS_WITH(parse(kMinimal, {"http.trusted_subnets=[\"10.0.0.0/40\"]"}), Contains("http.trusted_subnets[0]"));
  CHECK_THROWS_WITH(parse(kMinimal, {"http.read_header_timeout=later"}), Contains("http.read_header_timeout") && Contains("duration"));
  CHECK_THROWS_WITH(parse(kMinimal, {"http.max_connections=0"}), Contains("http.max_connections") && Contains("1.."));
  CHECK_THROWS_WITH(parse(kMinimal, {"http.raw_body=maybe"}), Contains("http.raw_body") && Contains("true or false"));
}

TEST_CASE("http.pool.stream_timeout: default 60s, a duration, never 0", "[config][stream]") {
  CHECK(parse(kMinimal).http.pool.stream_timeout == std::chrono::seconds(60));
  CHECK(parse(std::string(kMinimal) + "  pool: {stream_timeout: 750ms}\n").http.pool.stream_timeout == std::chrono::milliseconds(750));
  CHECK_THROWS_WITH(parse(std::string(kMinimal) + "  pool: {stream_timeout: 0}\n"),
                    Contains("http.pool.stream_timeout") && Contains("greater than 0"));
}

TEST_CASE("http.pool pipelining and sched_batch: defaults, values, errors that name the key", "[config][pipeline]") {
  const auto dflt = parse(kMinimal).http.pool;
  CHECK(dflt.pipeline_depth == 2);  // on for HTTP (bench/README.md)
  CHECK(dflt.pipeline_max_exec == std::chrono::milliseconds(2));
  CHECK(dflt.pipeline_max_wait == std::chrono::milliseconds(5));
  CHECK(dflt.sched_batch);
  const auto set =
      parse(std::string(kMinimal) + "  pool: {pipeline_depth: 0, pipeline_max_exec: 50ms, pipeline_max_wait: 0, sched_batch: false}\n").http.pool;
  CHECK(set.pipeline_depth == 0);
  CHECK(set.pipeline_max_exec == std::chrono::milliseconds(50));
  CHECK(set.pipeline_max_wait == std::chrono::milliseconds(0));
  CHECK_FALSE(set.sched_batch);
  // The jobs pool keeps RoadRunner's one job per worker unless told otherwise.
  const auto jobs = parse(std::string(kMinimal) + "jobs:\n  pool: {num_workers: 1}\n").jobs.pool;
  CHECK(jobs.pipeline_depth == 0);
  CHECK_FALSE(jobs.sched_batch);
  CHECK_THROWS_WITH(parse(kMinimal, {"http.pool.pipeline_max_wait=-1ms"}), Contains("http.pool.pipeline_max_wait"));
  CHECK_THROWS_WITH(parse(kMinimal, {"http.pool.pipeline_depth=17"}), Contains("http.pool.pipeline_depth") && Contains("0..16"));
  CHECK_THROWS_WITH(parse(kMinimal, {"http.pool.pipeline_max_exec=soon"}), Contains("http.pool.pipeline_max_exec") && Contains("duration"));
  CHECK_THROWS_WITH(parse(kMinimal, {"http.pool.sched_batch=sometimes"}), Contains("http.pool.sched_batch") && Contains("true or false"));
}
