#include <catch2/catch.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <optional>
#include <stdexcept>

#include "protocol/frame.hpp"
#include "server/cli/workers_command.hpp"
#include "server/config/loader.hpp"
#include "server/core/rpc_registry.hpp"
#include "server/plugins/rpc/listen_address.hpp"
#include "server/plugins/rpc/rpc_args.hpp"

using pivot::core::RpcCall;
using pivot::core::RpcRegistry;
using pivot::core::RpcResult;
namespace flags = pivot::protocol::flags;
namespace args = pivot::rpc::args;

namespace {

RpcResult run(const RpcRegistry& r, const std::string& method, const std::string& body = "") {
  asio::io_context io;
  const RpcCall call{method, flags::kCodecJson, body};
  auto fut = asio::co_spawn(io, r.dispatch(call), asio::use_future);
  io.run();
  return fut.get();
}

RpcRegistry sample() {
  RpcRegistry r;
  r.add("informer.List", [](const RpcCall& c) -> asio::awaitable<RpcResult> {
    co_return RpcResult::reply("[\"http\"] for " + c.body, flags::kCodecJson);
  });
  r.add("informer.Workers", [](const RpcCall&) -> asio::awaitable<RpcResult> { co_return RpcResult::fail("boom"); });
  r.add("a.b.c", [](const RpcCall&) -> asio::awaitable<RpcResult> { co_return RpcResult::reply("abc", flags::kCodecRaw); });
  return r;
}

}  // namespace

TEST_CASE("rpc registry: dispatches to the registered handler", "[rpc][registry]") {
  const RpcRegistry r = sample();
  const RpcResult ok = run(r, "informer.List", "true");
  CHECK(ok.ok);
  CHECK(ok.body == "[\"http\"] for true");
  CHECK(ok.codec == flags::kCodecJson);
  const RpcResult err = run(r, "informer.Workers");
  CHECK_FALSE(err.ok);
  CHECK(err.error == "boom");
  CHECK(run(r, "a.b.c").body == "abc");  // the service is "a.b", split at the last dot
  CHECK(r.methods() == std::vector<std::string>{"a.b.c", "informer.List", "informer.Workers"});
}

TEST_CASE("rpc registry: lookup failures use Go net/rpc's exact texts", "[rpc][registry]") {
  const RpcRegistry r = sample();
  CHECK(run(r, "nodot").error == "rpc: service/method request ill-formed: nodot");
  CHECK(run(r, "").error == "rpc: service/method request ill-formed: ");
  CHECK(run(r, "nosuch.Method").error == "rpc: can't find service nosuch.Method");
  CHECK(run(r, "informer.Nope").error == "rpc: can't find method informer.Nope");
  CHECK(run(r, "informer.").error == "rpc: can't find method informer.");
  CHECK(run(r, "a.b.d").error == "rpc: can't find method a.b.d");
  CHECK(run(r, "a.c").error == "rpc: can't find service a.c");   // "a" is not a service, "a.b" is
  CHECK(run(r, "kv.Clear").error == "rpc: can't find service kv.Clear");
  for (const char* m : {"nodot", "nosuch.Method", "informer.Nope"}) CHECK_FALSE(run(r, m).ok);
}

TEST_CASE("rpc registry: bad registrations are refused", "[rpc][registry]") {
  RpcRegistry r = sample();
  auto h = [](const RpcCall&) -> asio::awaitable<RpcResult> { co_return RpcResult{}; };
  CHECK_THROWS_AS(r.add("informer.List", h), std::invalid_argument);
  CHECK_THROWS_AS(r.add("nodot", h), std::invalid_argument);
  CHECK_THROWS_AS(r.add("x.", h), std::invalid_argument);
  CHECK_THROWS_AS(r.add("x.Y", nullptr), std::invalid_argument);
}

TEST_CASE("rpc args: JSON, raw and the gob arguments of rr workers / rr reset", "[rpc][args]") {
  std::string s, err;
  bool b = false;
  SECTION("JSON") {
    CHECK(args::decode_string({"informer.Workers", flags::kCodecJson, "\"http\""}, s, err));
    CHECK(s == "http");
    CHECK(args::decode_bool({"informer.List", flags::kCodecJson, "true"}, b, err));
    CHECK(b);
    CHECK_FALSE(args::decode_string({"informer.Workers", flags::kCodecJson, "42"}, s, err));
    CHECK_THAT(err, Catch::Matchers::Contains("informer.Workers"));
    CHECK_FALSE(args::decode_bool({"informer.List", flags::kCodecJson, "{"}, b, err));
  }
  SECTION("empty argument is Go's zero value") {
    CHECK(args::decode_string({"informer.Workers", flags::kCodecJson, ""}, s, err));
    CHECK(s.empty());
  }
  SECTION("raw") {
    CHECK(args::decode_string({"resetter.Reset", flags::kCodecRaw, "http"}, s, err));
    CHECK(s == "http");
  }
  SECTION("gob (flags 0x20 or no codec bit)") {
    const std::string gob_true("\x03\x02\x00\x01", 4), gob_false("\x03\x02\x00\x00", 4);
    const std::string gob_http = std::string("\x07\x0c\x00\x04", 4) + "http";
    CHECK(args::gob_decode_bool(gob_true, b));
    CHECK(b);
    CHECK(args::gob_decode_bool(gob_false, b));
    CHECK_FALSE(b);
    CHECK(args::gob_decode_string(gob_http, s));
    CHECK(s == "http");
    CHECK(args::decode_string({"informer.Workers", flags::kCodecGob, gob_http}, s, err));
    CHECK(s == "http");
    CHECK(args::decode_bool({"informer.List", 0x00, gob_true}, b, err));
    CHECK(b);
    CHECK_FALSE(args::gob_decode_string(gob_true, s));           // a bool is not a string
    CHECK_FALSE(args::gob_decode_bool(gob_http, b));
    CHECK_FALSE(args::gob_decode_string(gob_http.substr(0, 6), s));  // truncated
    // JSON replies for gob callers (Go's client decodes by the reply's flags).
    CHECK(args::reply_codec({"informer.List", flags::kCodecGob, gob_true}) == flags::kCodecJson);
  }
  SECTION("unsupported codecs are errors, not crashes") {
    CHECK_FALSE(args::decode_string({"informer.Workers", flags::kCodecProto, "\x0a\x01x"}, s, err));
    CHECK_THAT(err, Catch::Matchers::Contains("protobuf"));
  }
}

TEST_CASE("rpc args: base64 like Go's []byte in JSON", "[rpc][args]") {
  CHECK(args::base64_encode("") == "");
  CHECK(args::base64_encode("f") == "Zg==");
  CHECK(args::base64_encode("fo") == "Zm8=");
  CHECK(args::base64_encode("foo") == "Zm9v");
  CHECK(args::base64_encode("{\"rpc\":1}") == "eyJycGMiOjF9");
}

TEST_CASE("rpc listen address: loopback unless named, unix paths, normalised text", "[rpc][address]") {
  using pivot::rpc::ListenAddress;
  const auto empty_host = ListenAddress::parse("tcp://:6001");
  CHECK(empty_host.host == "127.0.0.1");
  CHECK(empty_host.to_string() == "tcp://127.0.0.1:6001");
  CHECK(ListenAddress::parse("tcp://0.0.0.0:7000").host == "0.0.0.0");
  CHECK(ListenAddress::parse("tcp://[::1]:6001").to_string() == "tcp://[::1]:6001");
  const auto u = ListenAddress::parse("unix:///run/pivot.sock");
  CHECK(u.kind == ListenAddress::Kind::unix_socket);
  CHECK(u.path == "/run/pivot.sock");
  CHECK(u.to_string() == "unix:///run/pivot.sock");
  CHECK_THROWS_AS(ListenAddress::parse("http://x:1"), std::invalid_argument);
  CHECK_THROWS_AS(ListenAddress::parse("tcp://127.0.0.1"), std::invalid_argument);
  CHECK_THROWS_AS(ListenAddress::parse("tcp://127.0.0.1:70000"), std::invalid_argument);
  CHECK_THROWS_AS(ListenAddress::parse("unix://"), std::invalid_argument);
}

TEST_CASE("workers table: human sizes and ages like rr workers", "[rpc][cli]") {
  using namespace pivot::cli;
  CHECK(human_bytes(0) == "0 B");
  CHECK(human_bytes(9) == "9 B");
  CHECK(human_bytes(512) == "512 B");
  CHECK(human_bytes(8'400'000) == "8.4 MB");
  CHECK(human_bytes(21'000'000) == "21 MB");
  CHECK(human_bytes(21'495'808) == "22 MB");  // 21.5 rounds like Go's %.0f
  CHECK(human_bytes(1'500'000'000) == "1.5 GB");
  CHECK(human_age(0) == "0s");
  CHECK(human_age(45) == "45s");
  CHECK(human_age(65) == "1m5s");
  CHECK(human_age(7203) == "2h0m3s");

  const auto reply = nlohmann::ordered_json::parse(
      R"({"workers":[{"pid":4242,"status":2,"numExecs":17,"created":1000000000000,"memoryUsage":21000000,)"
      R"("CPUPercent":1.5,"command":"php app.php","statusStr":"ready"}]})");
  const std::string t = format_workers_table("http", reply, 1000000000000 + 65'000'000'000LL);
  CHECK_THAT(t, Catch::Matchers::StartsWith("Workers of [http]:\n"));
  CHECK_THAT(t, Catch::Matchers::Contains("| 4242 | ready  |    17 | 21 MB  | 1.50 | 1m5s    |"));
  CHECK_THAT(t, Catch::Matchers::Contains("PID") && Catch::Matchers::Contains("CREATED"));
  CHECK_THAT(format_workers_table("jobs", nlohmann::ordered_json::parse(R"({"workers":null})"), 0),
             Catch::Matchers::Contains("no such plugin"));
}

TEST_CASE("rpc.Config JSON: the effective config, typed like YAML, after -o and ${VAR}", "[rpc][config]") {
  const std::string yaml = R"(version: "3"
server:
  command: "php ${APP_DIR}/worker.php"
  env:
    quoted_number: "42"
http:
  address: 127.0.0.1:8080
  pool:
    num_workers: 4
    debug: false
rpc:
  listen: tcp://127.0.0.1:6001
logs:
  level: ~
)";
  const auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "APP_DIR") return std::string("/srv/app");
    return std::nullopt;
  };
  const auto cfg = pivot::config::parse_config(yaml, "test.yaml", {"http.pool.num_workers=8"}, env);
  const auto j = nlohmann::ordered_json::parse(cfg.json);
  CHECK(j["version"] == "3");                                   // quoted: stays a string
  CHECK(j["server"]["command"] == "php /srv/app/worker.php");   // ${VAR} expanded
  CHECK(j["server"]["env"]["quoted_number"] == "42");
  CHECK(j["http"]["pool"]["num_workers"] == 8);                 // the -o override, as an integer
  CHECK(j["http"]["pool"]["debug"] == false);
  CHECK(j["rpc"]["listen"] == "tcp://127.0.0.1:6001");
  CHECK(j["logs"]["level"].is_null());
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"version", "server", "http", "rpc", "logs"});  // file order
}
