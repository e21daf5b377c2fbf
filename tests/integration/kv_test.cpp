#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "protocol/frame.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/proto/kv.pb.h"
#include "protocol/rpc_frame.hpp"
#include "tests/integration/config_template.hpp"
#include "tests/integration/harness.hpp"
#include "tests/integration/rpc_client.hpp"
#include "tests/integration/redis_process.hpp"

using namespace pivot::test;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
namespace pf = pivot::protocol::flags;
namespace kvpb = ::kv::v1;

namespace {

/// The shared raw RPC client plus the kv.v1 protobuf calls.
class RpcConn : public RpcClient {
 public:
  using RpcClient::RpcClient;

  /// A protobuf call that must succeed; returns the decoded kv.v1.Response.
  kvpb::Response proto(const std::string& method, const kvpb::Request& req) {
    const auto m = call(method, pf::kCodecProto, req.SerializeAsString());
    INFO(method << " -> " << m.body);
    REQUIRE_FALSE(m.is_error());
    CHECK(m.flags == pf::kCodecProto);
    kvpb::Response resp;
    REQUIRE(resp.ParseFromString(m.body));
    return resp;
  }

  /// A protobuf call that must fail; returns the error text.
  std::string proto_error(const std::string& method, const kvpb::Request& req) {
    const auto m = call(method, pf::kCodecProto, req.SerializeAsString());
    CHECK(m.is_error());
    CHECK(m.flags == (pf::kCodecProto | pf::kError));
    return m.body;
  }
};

struct KvItem {
  std::string key, value, timeout;
};

kvpb::Request req(const std::string& storage, const std::vector<KvItem>& items = {}) {
  kvpb::Request r;
  r.set_storage(storage);
  for (const auto& i : items) {
    auto* it = r.add_items();
    it->set_key(i.key);
    it->set_value(i.value);
    it->set_timeout(i.timeout);
  }
  return r;
}

kvpb::Request keys(const std::string& storage, const std::vector<std::string>& ks) {
  kvpb::Request r;
  r.set_storage(storage);
  for (const auto& k : ks) r.add_items()->set_key(k);
  return r;
}

std::vector<std::string> keys_of(const kvpb::Response& r) {
  std::vector<std::string> out;
  for (const auto& i : r.items()) out.push_back(i.key());
  return out;
}

/// now + `d` as RFC 3339 UTC with milliseconds, as a client computes an absolute TTL.
std::string rfc3339_in(std::chrono::milliseconds d) {
  const auto t = std::chrono::system_clock::now() + d;
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<long long>(ms));
  return buf;
}

std::string hex(const std::string& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

/// pivot-server with an RPC port, a memory storage "local" (sweeping every 100 ms) and a Redis
/// storage "redis" (prefix "pivot-test:") on a redis-server started for the test.
struct KvServer {
  RedisProcess redis;
  int rpc_port = free_port();
  ServerProcess server{config_yaml(1, "", "app.php",
                                   "rpc:\n  listen: tcp://127.0.0.1:" + std::to_string(rpc_port) +
                                       "\n"
                                       "kv:\n"
                                       "  local:\n"
                                       "    driver: memory\n"
                                       "    config:\n"
                                       "      interval: 100ms\n"
                                       "  redis:\n"
                                       "    driver: redis\n"
                                       "    config:\n"
                                       "      addrs: [\"127.0.0.1:" +
                                       std::to_string(redis.port()) +
                                       "\"]\n"
                                       "      prefix: \"pivot-test:\"\n"
                                       "      dial_timeout: 2s\n"
                                       "      read_timeout: 2s\n")};

  std::string rr_rpc() const { return "tcp://127.0.0.1:" + std::to_string(rpc_port); }

  /// Runs tests/integration/workers/kv_scenario.php with RR_RPC set; returns its JSON.
  nlohmann::json php(const std::string& args) const {
    int status = -1;
    const std::string out =
        run_command("RR_RPC=" + rr_rpc() + " php " + workers_dir() + "/kv_scenario.php " + args + " 2>&1", &status);
    INFO("php kv_scenario.php " << args << ":\n" << out);
    REQUIRE(status == 0);
    const auto j = nlohmann::json::parse(out, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    return j;
  }
};

const std::vector<std::string> kStorages{"local", "redis"};

}  // namespace

TEST_CASE("kv: every KV\\Storage method from PHP, on the memory and the Redis driver", "[integration][kv]") {
  KvServer kv;
  for (const auto& storage : kStorages) {
    INFO("storage " << storage);
    const auto j = kv.php("scenario " + storage);
    INFO(j.dump());
    CHECK_FALSE(j.contains("error"));
    CHECK(j["set"] == true);
    CHECK(j["get_str"] == "hello");
    CHECK(j["get_arr"] == nlohmann::json::parse(R"({"a":1,"n":[1.5,true,null]})"));
    CHECK(j["get_int"] == 42);
    CHECK(j["get_bin_hex"] == "00ff2062696e61727920c3bc");  // bytes survive base64 + serialize()
    CHECK(j["get_obj_class"] == "ArrayObject");
    CHECK(j["get_missing"] == "dflt");
    CHECK(j["has_str"] == true);
    CHECK(j["has_missing"] == false);
    CHECK(j["get_multiple"] == nlohmann::json::parse(R"({"str":"hello","missing":"d","int":42})"));
    CHECK(j["get_numeric_key"] == "three");
    CHECK(j["ttl_m1_seconds"].get<int>() >= 3598);
    CHECK(j["ttl_m1_seconds"].get<int>() <= 3600);
    CHECK(j["ttl_str"].is_null());
    CHECK(j["ttl_missing"].is_null());
    CHECK_THAT(j["multiple_ttl"]["m1"].get<std::string>(), Contains("+00:00"));
    CHECK(j["multiple_ttl"]["str"].is_null());
    CHECK(j["ttl_str_after_expire_seconds"].get<int>() >= 118);
    CHECK(j["ttl_str_after_expire_seconds"].get<int>() <= 120);
    CHECK(j["has_missing_after_expire"] == false);  // MExpire does not create keys
    CHECK(j["has_int_after_delete"] == false);
    CHECK(j["after_delete_multiple"] == nlohmann::json::parse(R"({"m1":null,"m2":null,"3":"three"})"));
    CHECK(j["has_zero_ttl"] == false);
    CHECK(j["has_negative_ttl"] == false);
    CHECK(j["ttl_interval_seconds"].get<int>() >= 3598);
    CHECK(j["raw_json"] == R"({"x":1})");
    CHECK(j["has_after_clear"] == false);
  }
  CHECK_THAT(kv.server.log(), Contains("event=kv_redis_available storage=redis address=" + kv.redis.address()));
}

TEST_CASE("kv: every method from raw protobuf frames, on both drivers", "[integration][kv]") {
  KvServer kv;
  RpcConn c(kv.rpc_port);

  // The documented kv.MGet request and reply bytes (protocol doc §5.1), seq 3.
  c.proto("kv.Set", req("local", {{"a", "v", ""}}));
  const std::string request = pivot::protocol::encode_rpc_frame(3, "kv.MGet", pf::kCodecProto, keys("local", {"a"}).SerializeAsString());
  CHECK(hex(request) == "158013000000687a931100000300000007000000" + hex("kv.MGet") + "0a056c6f63616c12030a0161");
  c.send_raw(request);
  CHECK(hex(c.read_raw()) == "15800f0000004f925c0b00000300000007000000" + hex("kv.MGet") + "0a060a0161120176");

  for (const auto& storage : kStorages) {
    INFO("storage " << storage);
    c.proto("kv.Clear", req(storage));
    const std::string far = "2999-01-01T00:00:00Z";
    CHECK(c.proto("kv.Set", req(storage, {{"a", "v1", ""}, {"b", std::string("\0\xff", 2), ""}, {"t", "x", far}})).items_size() == 0);

    CHECK(keys_of(c.proto("kv.Has", keys(storage, {"a", "nope", "t", "b"}))) == std::vector<std::string>{"a", "t", "b"});

    const auto got = c.proto("kv.MGet", keys(storage, {"b", "nope", "a"}));
    REQUIRE(got.items_size() == 2);
    CHECK(got.items(0).key() == "b");
    CHECK(got.items(0).value() == std::string("\0\xff", 2));
    CHECK(got.items(1).value() == "v1");

    const auto ttl = c.proto("kv.TTL", keys(storage, {"t", "a", "nope"}));
    REQUIRE(ttl.items_size() == 2);
    CHECK(ttl.items(0).key() == "t");
    // Redis keeps a relative TTL (PTTL) that we turn back into a time: allow a second of drift.
    CHECK_THAT(ttl.items(0).timeout(), Catch::Matchers::StartsWith("2998-12-31T23:59:5") || Catch::Matchers::Equals(far));
    CHECK(ttl.items(1).key() == "a");
    CHECK(ttl.items(1).timeout().empty());

    c.proto("kv.MExpire", req(storage, {{"a", "", rfc3339_in(1h)}, {"nope", "", rfc3339_in(1h)}}));
    const auto after = c.proto("kv.TTL", keys(storage, {"a", "nope"}));
    REQUIRE(after.items_size() == 1);
    CHECK_FALSE(after.items(0).timeout().empty());

    c.proto("kv.Delete", keys(storage, {"a", "nope"}));
    CHECK(keys_of(c.proto("kv.Has", keys(storage, {"a", "b", "t"}))) == std::vector<std::string>{"b", "t"});

    // JSON codec, same messages: values are base64 like Go's []byte.
    const auto set = c.call("kv.Set", pf::kCodecJson, R"({"storage":")" + storage + R"(","items":[{"key":"j","value":"aGk="}]})");
    CHECK_FALSE(set.is_error());
    CHECK(set.flags == pf::kCodecJson);
    CHECK(set.body == "{}");
    const auto mget = c.call("kv.MGet", pf::kCodecJson, R"({"storage":")" + storage + R"(","items":[{"key":"j"},{"key":"zz"}]})");
    CHECK(mget.flags == pf::kCodecJson);
    CHECK(mget.body == R"({"items":[{"key":"j","value":"aGk="}]})");

    c.proto("kv.Clear", req(storage));
    CHECK(c.proto("kv.Has", keys(storage, {"a", "b", "t", "j"})).items_size() == 0);
  }

  // Redis: keys carry the prefix, and kv.Clear with a prefix leaves other keys alone.
  c.proto("kv.Set", req("redis", {{"p", "v", ""}}));
  CHECK(kv.redis.command({"GET", "pivot-test:p"}) == "$1\r\nv\r\n");
  CHECK(kv.redis.command({"SET", "not-ours", "x"}) == "+OK\r\n");
  c.proto("kv.Clear", req("redis"));
  CHECK(kv.redis.command({"EXISTS", "pivot-test:p"}) == ":0\r\n");
  CHECK(kv.redis.command({"EXISTS", "not-ours"}) == ":1\r\n");
}

TEST_CASE("kv: a 1 s TTL is gone after 1.5 s on both drivers", "[integration][kv]") {
  KvServer kv;
  for (const auto& storage : kStorages) {
    INFO("storage " << storage);
    // From PHP: set('short', 'v', 1), read, sleep 1.5 s, read again.
    const auto j = kv.php("ttl " + storage);
    CHECK(j["has_before"] == true);
    CHECK(j["get_before"] == "v");
    CHECK(j["has_after"] == false);
    CHECK(j["get_after"] == "expired");
    CHECK(j["ttl_after"].is_null());
    CHECK(j["long_after"] == "v");
  }

  // From protobuf frames, with a key nobody reads: the memory storage's sweep removes it.
  RpcConn c(kv.rpc_port);
  for (const auto& storage : kStorages) c.proto("kv.Set", req(storage, {{"unread", "v", rfc3339_in(1000ms)}, {"kept", "v", ""}}));
  CHECK(kv.redis.command({"PTTL", "pivot-test:unread"}) != ":-1\r\n");
  std::this_thread::sleep_for(1500ms);
  CHECK(kv.server.wait_log("event=kv_sweep storage=local expired=", 3s));
  CHECK(kv.redis.command({"EXISTS", "pivot-test:unread"}) == ":0\r\n");  // Redis expired it itself
  for (const auto& storage : kStorages) {
    CHECK(keys_of(c.proto("kv.Has", keys(storage, {"unread", "kept"}))) == std::vector<std::string>{"kept"});
    CHECK(c.proto("kv.MGet", keys(storage, {"unread"})).items_size() == 0);
  }
}

TEST_CASE("kv: a Redis restart is survived without restarting pivot-server", "[integration][kv]") {
  KvServer kv;
  REQUIRE(kv.php("set redis before 1")["ok"] == true);
  CHECK(kv.php("get redis before")["value"] == "1");

  kv.redis.kill();
  const auto down = kv.php("get redis before");
  CHECK(down["error_class"] == "Pivot\\Worker\\KV\\KvException");
  CHECK_THAT(down["error"].get<std::string>(),
             Contains("redis_driver_mget: redis unavailable") && Contains(kv.redis.address()) && Contains("refused"));
  {
    RpcConn c(kv.rpc_port);
    CHECK_THAT(c.proto_error("kv.Set", req("redis", {{"x", "y", ""}})), Contains("rpc_set:\n\tredis_driver_set: redis unavailable"));
    CHECK(c.proto("kv.MGet", keys("local", {"x"})).items_size() == 0);  // the memory storage is unaffected
  }
  CHECK(kv.server.wait_log("event=kv_redis_unavailable storage=redis address=" + kv.redis.address(), 2s));

  kv.redis.start();  // same port, empty data set
  CHECK(kv.php("get redis before")["value"] == "MISSING");
  CHECK(kv.php("set redis after 2")["ok"] == true);
  CHECK(kv.php("get redis after")["value"] == "2");
  CHECK(kv.server.wait_log("event=kv_redis_available storage=redis", 2s, 2));
  CHECK(::kill(kv.server.pid(), 0) == 0);

  // Also after a clean Redis shutdown (connections closed by the server, not cut).
  kv.redis.stop();
  kv.redis.start();
  CHECK(kv.php("set redis again 3")["ok"] == true);
  CHECK(kv.php("get redis again")["value"] == "3");
}

TEST_CASE("kv: 10,000 keys set and read back by 4 concurrent PHP processes, on both drivers", "[integration][kv]") {
  KvServer kv;
  RpcConn c(kv.rpc_port);
  for (const auto& storage : kStorages) {
    INFO("storage " << storage);
    c.proto("kv.Clear", req(storage));
    std::string cmd = "(";
    for (int w = 0; w < 4; ++w) {
      cmd += "RR_RPC=" + kv.rr_rpc() + " php " + workers_dir() + "/kv_scenario.php bulk " + storage + " " + std::to_string(w) +
             " 2500 & ";
    }
    cmd += "wait) 2>&1";
    int status = -1;
    const std::string out = run_command(cmd, &status);
    INFO(out);
    CHECK(status == 0);
    std::istringstream lines(out);
    int reports = 0;
    for (std::string line; std::getline(lines, line);) {
      const auto j = nlohmann::json::parse(line, nullptr, false);
      REQUIRE_FALSE(j.is_discarded());
      CHECK(j["written"] == 2500);
      CHECK(j["read_ok"] == 2500);
      CHECK(j["bad"].empty());
      ++reports;
    }
    CHECK(reports == 4);

    std::vector<std::string> all;
    for (int w = 0; w < 4; ++w) {
      for (int i = 0; i < 2500; ++i) all.push_back("bulk:" + std::to_string(w) + ":" + std::to_string(i));
    }
    CHECK(c.proto("kv.Has", keys(storage, all)).items_size() == 10000);
  }
  CHECK(kv.redis.command({"DBSIZE"}) == ":10000\r\n");
}

TEST_CASE("kv: error texts that PHP clients match on", "[integration][kv]") {
  KvServer kv;
  RpcConn c(kv.rpc_port);
  CHECK(c.proto_error("kv.MGet", keys("nope", {"a"})) == "rpc_mget: no such storage: nope");
  CHECK(c.proto_error("kv.Set", req("nope", {{"a", "b", ""}})) == "rpc_set: no such storage: nope");
  CHECK(c.proto_error("kv.Has", keys("", {"a"})) == "rpc_has: no storage provided");
  CHECK(c.proto_error("kv.Clear", req("")) == "rcp_delete: no storage provided");
  CHECK(c.proto_error("kv.MGet", keys("redis", {" "})) == "rpc_mget:\n\tredis_driver_mget: key can't be empty string");
  CHECK_THAT(c.proto_error("kv.Set", req("local", {{"a", "b", "not a time"}})), Contains("invalid RFC 3339 time"));

  const auto json = c.call("kv.TTL", pf::kCodecJson, R"({"storage":"nope","items":[{"key":"a"}]})");
  CHECK(json.flags == (pf::kCodecJson | pf::kError));
  CHECK(json.body == "rpc_ttl: no such storage: nope");
  CHECK(c.call("kv.Nope", pf::kCodecProto, "").body == "rpc: can't find method kv.Nope");
  CHECK(c.proto("kv.Has", keys("local", {"a"})).items_size() == 0);  // the connection still serves

  const auto php = kv.php("get nope a");
  CHECK(php["error_class"] == "Pivot\\Worker\\KV\\StorageException");
  CHECK(php["error"] == "rpc_mget: no such storage: nope");
  CHECK(php["method"] == "kv.MGet");
}

TEST_CASE("kv: config errors name kv.<name>.driver and the allowed values", "[integration][kv]") {
  char tmpl[] = "/tmp/pivot-kv-cfg-XXXXXX.yaml";
  const int fd = ::mkstemps(tmpl, 5);
  ::close(fd);
  std::ofstream(tmpl) << "version: \"3\"\nserver:\n  command: php w.php\nhttp:\n  address: 127.0.0.1:1\n"
                         "rpc:\n  listen: tcp://127.0.0.1:1\nkv:\n  sessions:\n    driver: memcached\n";
  int status = -1;
  const std::string out = run_command(std::string(PIVOT_BINARY) + " serve -c " + tmpl + " 2>&1", &status);
  CHECK(status == 2);
  CHECK_THAT(out, Contains("kv.sessions.driver") && Contains("memcached") && Contains("memory, redis"));
  ::unlink(tmpl);
}
