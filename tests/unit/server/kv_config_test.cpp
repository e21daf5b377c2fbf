#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "server/config/config_error.hpp"
#include "server/config/env_expand.hpp"
#include "server/config/loader.hpp"

using namespace pivot::config;
using Catch::Matchers::Contains;

namespace {

Config parse_kv(const std::string& kv_yaml, bool with_rpc = true, std::map<std::string, std::string> env = {}) {
  const std::string yaml = std::string("version: \"3\"\nserver:\n  command: \"php w.php\"\nhttp:\n  address: 127.0.0.1:8080\n") +
                           (with_rpc ? "rpc:\n  listen: tcp://127.0.0.1:6001\n" : "") + kv_yaml;
  return parse_config(yaml, "test.yaml", {}, [env](const std::string& k) -> std::optional<std::string> {
    const auto it = env.find(k);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

std::string error_of(const std::string& kv_yaml) {
  try {
    parse_kv(kv_yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

bool has_warning(const Config& c, const std::string& needle) {
  return std::any_of(c.warnings.begin(), c.warnings.end(), [&](const std::string& w) { return w.find(needle) != std::string::npos; });
}

}  // namespace

TEST_CASE("kv config: memory and redis storages with RoadRunner's keys and our defaults", "[kv][config]") {
  const Config c = parse_kv(R"(
kv:
  local:
    driver: memory
    config: {}
  fast:
    driver: memory
    config:
      interval: 250ms
  cache:
    driver: redis
    config:
      addrs: ["redis.internal:6380"]
      username: app
      password: "${REDIS_PASSWORD}"
      db: 3
      prefix: "app1:"
      dial_timeout: 2s
      read_timeout: 500ms
      pool_size: 8
  defaults:
    driver: redis
)",
                            true, {{"REDIS_PASSWORD", "s3cret"}});
  REQUIRE(c.kv.enabled);
  REQUIRE(c.kv.storages.size() == 4);
  CHECK(c.kv.storages[0].name == "local");
  CHECK(c.kv.storages[0].driver == "memory");
  CHECK(c.kv.storages[0].memory.interval == std::chrono::seconds(1));
  CHECK(c.kv.storages[1].memory.interval == std::chrono::milliseconds(250));
  const auto& r = c.kv.storages[2].redis;
  CHECK(c.kv.storages[2].driver == "redis");
  CHECK(r.host == "redis.internal");
  CHECK(r.port == 6380);
  CHECK(r.username == "app");
  CHECK(r.password == "s3cret");
  CHECK(r.db == 3);
  CHECK(r.prefix == "app1:");
  CHECK(r.dial_timeout == std::chrono::seconds(2));
  CHECK(r.read_timeout == std::chrono::milliseconds(500));
  CHECK(r.write_timeout == std::chrono::milliseconds(500));  // defaults to read_timeout, as go-redis
  CHECK(r.pool_size == 8);
  const auto& d = c.kv.storages[3].redis;  // no config section at all
  CHECK(d.host == "127.0.0.1");
  CHECK(d.port == 6379);
  CHECK(d.db == 0);
  CHECK(d.prefix.empty());
  CHECK(d.dial_timeout == std::chrono::seconds(5));
  CHECK(d.read_timeout == std::chrono::seconds(3));
  CHECK(d.write_timeout == std::chrono::seconds(3));
  CHECK(d.pool_size == 4);
  CHECK(c.warnings.empty());
}

TEST_CASE("kv config: 0 means the go-redis default; ':port' means the local server", "[kv][config]") {
  const Config c = parse_kv(R"(
kv:
  r:
    driver: redis
    config:
      addrs: [":7000"]
      dial_timeout: 0
      read_timeout: 0
      write_timeout: 0
      pool_size: 0
)");
  const auto& r = c.kv.storages.at(0).redis;
  CHECK(r.host == "127.0.0.1");
  CHECK(r.port == 7000);
  CHECK(r.dial_timeout == std::chrono::seconds(5));
  CHECK(r.read_timeout == std::chrono::seconds(3));
  CHECK(r.write_timeout == std::chrono::seconds(3));
  CHECK(r.pool_size == 4);
}

TEST_CASE("kv config: errors name the key path and what is allowed", "[kv][config]") {
  const std::string unknown = error_of("kv:\n  store:\n    driver: boltdb\n");
  CHECK_THAT(unknown, Contains("kv.store.driver") && Contains("boltdb") && Contains("memory, redis"));
  CHECK_THAT(error_of("kv:\n  store:\n    config: {}\n"), Contains("kv.store.driver is required") && Contains("memory, redis"));
  CHECK_THAT(error_of("kv:\n  store:\n    driver: memory\n    config:\n      addrs: [\"x:1\"]\n"),
             Contains("kv.store.config.addrs is unknown"));
  CHECK_THAT(error_of("kv:\n  store:\n    driver: memory\n    drvier: x\n"), Contains("kv.store.drvier is unknown") && Contains("did you mean kv.store.driver"));
  CHECK_THAT(error_of("kv:\n  store:\n    driver: memory\n    config:\n      interval: 1ms\n"),
             Contains("kv.store.config.interval") && Contains("at least 10ms"));
  CHECK_THAT(error_of("kv:\n  r:\n    driver: redis\n    config:\n      addrs: \"127.0.0.1:6379\"\n"),
             Contains("kv.r.config.addrs") && Contains("list"));
  CHECK_THAT(error_of("kv:\n  r:\n    driver: redis\n    config:\n      addrs: []\n"), Contains("kv.r.config.addrs"));
  CHECK_THAT(error_of("kv:\n  r:\n    driver: redis\n    config:\n      addrs: [\"nohost\"]\n"), Contains("kv.r.config.addrs[0]"));
  CHECK_THAT(error_of("kv:\n  r:\n    driver: redis\n    config:\n      db: -1\n"), Contains("kv.r.config.db"));
  CHECK_THAT(error_of("kv:\n  r:\n    driver: redis\n    config:\n      read_timeout: soon\n"), Contains("kv.r.config.read_timeout"));
  CHECK_THAT(error_of("kv:\n  r: 5\n"), Contains("kv.r"));
}

TEST_CASE("kv config: unsupported RoadRunner redis keys, extra addresses and a missing rpc section warn", "[kv][config]") {
  const Config c = parse_kv(R"(
kv:
  r:
    driver: redis
    config:
      addrs: ["127.0.0.1:6379", "127.0.0.1:6380"]
      master_name: mymaster
      max_retries: 5
)");
  CHECK(c.kv.storages.at(0).redis.port == 6379);
  CHECK(has_warning(c, "kv.r.config.addrs: only the first address"));
  CHECK(has_warning(c, "kv.r.config.master_name is not supported yet"));
  CHECK(has_warning(c, "kv.r.config.max_retries is not supported yet"));

  const Config no_rpc = parse_kv("kv:\n  local:\n    driver: memory\n", false);
  CHECK(no_rpc.kv.enabled);
  CHECK(has_warning(no_rpc, "reached over RPC only"));
  // And kv is no longer one of the "not implemented yet" sections.
  CHECK_FALSE(has_warning(no_rpc, "config key kv is not supported yet"));
}
