#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <chrono>

#include "protocol/frame.hpp"
#include "protocol/proto/kv.pb.h"
#include "protocol/rpc_frame.hpp"
#include "server/core/rpc_registry.hpp"
#include "server/plugins/kv/kv_codec.hpp"
#include "server/plugins/kv/kv_service.hpp"
#include "server/plugins/kv/rfc3339.hpp"

using pivot::core::RpcCall;
using pivot::core::RpcRegistry;
using pivot::core::RpcResult;
namespace flags = pivot::protocol::flags;
namespace codec = pivot::kv::codec;
namespace rfc3339 = pivot::kv::rfc3339;
namespace kvpb = ::kv::v1;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using namespace std::chrono_literals;

namespace {

/// A KvService over two memory storages ("local", "other") and its registry.
struct Service {
  asio::io_context io;
  RpcRegistry registry;
  pivot::kv::KvService service;

  static pivot::config::KvConfig config() {
    pivot::config::KvConfig c;
    c.enabled = true;
    for (const char* name : {"local", "other"}) {
      pivot::config::KvStorageConfig s;
      s.name = name;
      s.driver = "memory";
      c.storages.push_back(s);
    }
    return c;
  }

  Service() : service(io, config(), std::make_shared<spdlog::logger>("kv")) { service.register_methods(registry); }

  RpcResult call(const std::string& method, std::uint8_t codec_flag, const std::string& body) {
    const RpcCall c{method, codec_flag, body};  // must outlive the coroutine, which holds a reference
    auto fut = asio::co_spawn(io, registry.dispatch(c), asio::use_future);
    io.restart();
    io.run();
    return fut.get();
  }

  kvpb::Response proto(const std::string& method, const kvpb::Request& req) {
    const RpcResult r = call(method, flags::kCodecProto, req.SerializeAsString());
    INFO(r.error);
    REQUIRE(r.ok);
    CHECK(r.codec == flags::kCodecProto);
    kvpb::Response resp;
    REQUIRE(resp.ParseFromString(r.body));
    return resp;
  }
};

kvpb::Request request(const std::string& storage, std::vector<std::tuple<std::string, std::string, std::string>> items) {
  kvpb::Request r;
  r.set_storage(storage);
  for (auto& [k, v, t] : items) {
    auto* i = r.add_items();
    i->set_key(k);
    i->set_value(v);
    i->set_timeout(t);
  }
  return r;
}

std::vector<std::string> keys(const kvpb::Response& r) {
  std::vector<std::string> out;
  for (const auto& i : r.items()) out.push_back(i.key());
  return out;
}

}  // namespace

TEST_CASE("kv rfc3339: Go's RFC3339 layout, with offsets and fractions", "[kv][rfc3339]") {
  using pivot::kv::TimePoint;
  TimePoint t;
  REQUIRE(rfc3339::parse("2026-01-02T03:04:05Z", t));
  CHECK(t == TimePoint(1767323045s));
  CHECK(rfc3339::format(t) == "2026-01-02T03:04:05Z");
  REQUIRE(rfc3339::parse("2026-01-02T05:04:05+02:00", t));
  CHECK(rfc3339::format(t) == "2026-01-02T03:04:05Z");
  REQUIRE(rfc3339::parse("2026-01-01T23:34:05-03:30", t));
  CHECK(rfc3339::format(t) == "2026-01-02T03:04:05Z");
  REQUIRE(rfc3339::parse("2026-01-02T03:04:05.250000+00:00", t));
  CHECK(t == TimePoint(1767323045s + 250ms));
  CHECK(rfc3339::format(t) == "2026-01-02T03:04:05Z");  // truncated like Go's RFC3339 layout
  REQUIRE(rfc3339::parse("2024-02-29T00:00:00.123456789Z", t));
  CHECK(t.time_since_epoch().count() % 1'000'000 == 123456);
  REQUIRE(rfc3339::parse("9999-12-31T23:59:59Z", t));  // far beyond the nanosecond clock's 2262
  CHECK(rfc3339::format(t) == "9999-12-31T23:59:59Z");
  for (const char* bad : {"", "2026-01-02", "2026-01-02 03:04:05Z", "2026-01-02T03:04:05", "2026-02-30T00:00:00Z",
                          "2026-01-02T24:00:00Z", "2026-01-02T03:04:05.Z", "2026-01-02T03:04:05+0200", "2026-01-02T03:04:05Zjunk",
                          "tomorrow", "2026-1-02T03:04:05Z"}) {
    INFO(bad);
    CHECK_FALSE(rfc3339::parse(bad, t));
  }
}

TEST_CASE("kv codec: base64 as Go's []byte, and the JSON shape of kv.v1 messages", "[kv][codec]") {
  std::string out;
  for (const std::string& s : {std::string(), std::string("v"), std::string("ab"), std::string("abc"), std::string("\0\xff\x10zz", 5)}) {
    REQUIRE(codec::base64_decode(codec::base64_encode(s), out));
    CHECK(out == s);
  }
  CHECK(codec::base64_encode("v") == "dg==");
  CHECK_FALSE(codec::base64_decode("dg=", out));
  CHECK_FALSE(codec::base64_decode("d=g=", out));
  CHECK_FALSE(codec::base64_decode("dg!=", out));

  kvpb::Request req;
  std::string error;
  // Field names match case-insensitively (Go); unknown fields are ignored; null is the zero value.
  REQUIRE(codec::decode_request(flags::kCodecJson,
                                R"({"Storage":"local","ITEMS":[{"key":"a","value":"dg==","timeout":"2026-01-02T03:04:05Z","x":1},null,{"key":"b","value":null}]})",
                                req, error));
  CHECK(req.storage() == "local");
  REQUIRE(req.items_size() == 3);
  CHECK(req.items(0).value() == "v");
  CHECK(req.items(0).timeout() == "2026-01-02T03:04:05Z");
  CHECK(req.items(2).key() == "b");
  CHECK(codec::request_to_json(request("s", {{"k", "v", ""}})) == R"({"storage":"s","items":[{"key":"k","value":"dg=="}]})");

  CHECK_FALSE(codec::decode_request(flags::kCodecJson, R"({"storage":5})", req, error));
  CHECK_THAT(error, Contains("storage") && Contains("number"));
  CHECK_FALSE(codec::decode_request(flags::kCodecJson, R"({"storage":"x","items":[{"key":"a","value":"not base64!"}]})", req, error));
  CHECK_THAT(error, Contains("base64"));
  CHECK_FALSE(codec::decode_request(flags::kCodecJson, "{nope", req, error));
  CHECK_FALSE(codec::decode_request(flags::kCodecProto, "\xff\xff\xff", req, error));
  CHECK_FALSE(codec::decode_request(flags::kCodecRaw, "x", req, error));
  CHECK_THAT(error, Contains("protobuf and json"));
  REQUIRE(codec::decode_request(flags::kCodecProto, "", req, error));  // empty: the zero value
  CHECK(req.storage().empty());

  kvpb::Response resp;
  CHECK(codec::encode_response(flags::kCodecJson, resp) == "{}");
  auto* i = resp.add_items();
  i->set_key("a");
  i->set_value("v");
  resp.add_items()->set_key("b");
  CHECK(codec::encode_response(flags::kCodecJson, resp) == R"({"items":[{"key":"a","value":"dg=="},{"key":"b"}]})");
}

TEST_CASE("kv service: every method over the protobuf codec", "[kv][service]") {
  Service s;
  CHECK(s.proto("kv.Set", request("local", {{"a", "v", ""}, {"b", "w", ""}, {"t", "x", "2999-01-01T00:00:00Z"}})).items_size() == 0);
  CHECK(keys(s.proto("kv.Has", request("local", {{"a", "", ""}, {"nope", "", ""}, {"t", "", ""}, {"a", "", ""}}))) ==
        std::vector<std::string>{"a", "t"});  // once each, request order

  // The documented MGet reply (protocol doc §5.1): Response{items:[{key:"a",value:"v"}]}.
  const RpcResult mget = s.call("kv.MGet", flags::kCodecProto, request("local", {{"a", "", ""}}).SerializeAsString());
  CHECK(mget.body == std::string("\x0a\x06\x0a\x01\x61\x12\x01\x76", 8));
  const auto both = s.proto("kv.MGet", request("local", {{"b", "", ""}, {"missing", "", ""}, {"a", "", ""}}));
  REQUIRE(both.items_size() == 2);
  CHECK(both.items(0).key() == "b");
  CHECK(both.items(0).value() == "w");
  CHECK(both.items(1).value() == "v");

  const auto ttl = s.proto("kv.TTL", request("local", {{"t", "", ""}, {"a", "", ""}, {"missing", "", ""}}));
  REQUIRE(ttl.items_size() == 2);
  CHECK(ttl.items(0).timeout() == "2999-01-01T00:00:00Z");
  CHECK(ttl.items(1).key() == "a");
  CHECK(ttl.items(1).timeout().empty());  // found, no TTL

  s.proto("kv.MExpire", request("local", {{"a", "", "2998-06-01T12:00:00.5+02:00"}}));
  CHECK(s.proto("kv.TTL", request("local", {{"a", "", ""}})).items(0).timeout() == "2998-06-01T10:00:00Z");
  s.proto("kv.MExpire", request("local", {{"a", "", "2000-01-01T00:00:00Z"}}));  // in the past: gone
  CHECK(s.proto("kv.Has", request("local", {{"a", "", ""}})).items_size() == 0);

  s.proto("kv.Delete", request("local", {{"b", "", ""}}));
  CHECK(keys(s.proto("kv.Has", request("local", {{"b", "", ""}, {"t", "", ""}}))) == std::vector<std::string>{"t"});
  s.proto("kv.Set", request("other", {{"o", "1", ""}}));
  s.proto("kv.Clear", request("local", {}));
  CHECK(s.proto("kv.Has", request("local", {{"t", "", ""}})).items_size() == 0);
  CHECK(s.proto("kv.Has", request("other", {{"o", "", ""}})).items_size() == 1);  // storages are separate
}

TEST_CASE("kv service: the JSON codec answers in JSON", "[kv][service]") {
  Service s;
  const RpcResult set = s.call("kv.Set", flags::kCodecJson, R"({"storage":"local","items":[{"key":"a","value":"dg=="}]})");
  REQUIRE(set.ok);
  CHECK(set.codec == flags::kCodecJson);
  CHECK(set.body == "{}");
  const RpcResult get = s.call("kv.MGet", flags::kCodecJson, R"({"storage":"local","items":[{"key":"a"},{"key":"zz"}]})");
  CHECK(get.body == R"({"items":[{"key":"a","value":"dg=="}]})");
  CHECK(s.call("kv.Has", flags::kCodecJson, R"({"storage":"local","items":[{"key":"zz"}]})").body == "{}");
}

TEST_CASE("kv service: RoadRunner's error texts", "[kv][service]") {
  Service s;
  auto error = [&](const std::string& method, const kvpb::Request& req) {
    const RpcResult r = s.call(method, flags::kCodecProto, req.SerializeAsString());
    CHECK_FALSE(r.ok);
    return r.error;
  };
  CHECK(error("kv.MGet", request("nope", {{"a", "", ""}})) == "rpc_mget: no such storage: nope");
  CHECK(error("kv.Set", request("nope", {})) == "rpc_set: no such storage: nope");
  CHECK(error("kv.Clear", request("nope", {})) == "rcp_delete: no such storage: nope");  // Go's spelling
  CHECK(error("kv.Has", request("", {{"a", "", ""}})) == "rpc_has: no storage provided");
  CHECK(error("kv.TTL", request("", {})) == "rpc_ttl: no storage provided");
  CHECK(error("kv.MGet", request("local", {{"  ", "", ""}})) == "rpc_mget:\n\tin_memory_plugin_mget: key can't be empty string");
  CHECK(error("kv.MExpire", request("local", {{"a", "", ""}})) ==
        "rpc_mexpire:\n\tin_memory_plugin_mexpire: timeout for MExpire is empty or key is empty");
  CHECK_THAT(error("kv.Set", request("local", {{"a", "v", "tomorrow"}})),
             Contains("rpc_set:\n\tin_memory_plugin_set: invalid RFC 3339 time") && Contains("\"tomorrow\""));
  const RpcResult bad = s.call("kv.Set", flags::kCodecJson, R"({"storage":"local","items":"x"})");
  CHECK_FALSE(bad.ok);
  CHECK_THAT(bad.error, StartsWith("rpc_set: json:"));
  const RpcResult raw = s.call("kv.Set", flags::kCodecRaw, "bytes");
  CHECK_THAT(raw.error, Contains("protobuf and json"));
  // Nothing was stored by the failed calls.
  CHECK(s.proto("kv.Has", request("local", {{"a", "", ""}})).items_size() == 0);
}
