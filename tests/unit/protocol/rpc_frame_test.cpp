#include <catch2/catch.hpp>

#include <string>

#include "protocol/frame.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/proto/http.pb.h"
#include "protocol/proto/jobs.pb.h"
#include "protocol/proto/kv.pb.h"
#include "protocol/rpc_frame.hpp"

using namespace pivot::protocol;

namespace {

/// Hex with optional spaces ("15 08 11 ...") to bytes.
std::string hex(const std::string& text) {
  std::string digits;
  for (char c : text) {
    if (c != ' ') digits.push_back(c);
  }
  std::string out;
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2) out.push_back(static_cast<char>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  return out;
}

/// Decodes `wire` (exactly one frame, CRC verified) into an RpcMessage.
RpcMessage decode(const std::string& wire) {
  FrameDecoder d(1 << 20);
  std::error_code ec;
  REQUIRE(d.feed(wire, ec) == wire.size());
  REQUIRE_FALSE(ec);
  REQUIRE(d.done());
  RpcMessage m;
  REQUIRE_FALSE(parse_rpc_frame(d.frame(), m));
  return m;
}

// Protocol doc §1.5 (f) and §5.1, byte for byte.
const std::string kInformerList = hex("15 08 11 00 00 00 b0 49 0c 3a 00 00 01 00 00 00 0d 00 00 00") + "informer.List" + "true";
const std::string kMGetRequest = hex(
    "15 80 13 00 00 00 68 7a 93 11 00 00 03 00 00 00 07 00 00 00 6b 76 2e 4d 47 65 74 0a 05 6c 6f 63 61 6c 12 03 0a 01 61");
const std::string kMGetReply =
    hex("15 80 0f 00 00 00 4f 92 5c 0b 00 00 03 00 00 00 07 00 00 00 6b 76 2e 4d 47 65 74 0a 06 0a 01 61 12 01 76");
const std::string kSetReply = hex("15 80 06 00 00 00 c5 dd 54 76 00 00 04 00 00 00 06 00 00 00 6b 76 2e 53 65 74");
const std::string kErrorReply =
    hex("15 48 23 00 00 00 d3 21 dd 38 00 00 07 00 00 00 07 00 00 00") + "kv.MGet" + "rpc_mget: no such storage: x";

}  // namespace

TEST_CASE("rpc frame: protocol doc 1.5 (f) informer.List request", "[protocol][rpc]") {
  CHECK(encode_rpc_frame(1, "informer.List", flags::kCodecJson, "true") == kInformerList);
  const RpcMessage m = decode(kInformerList);
  CHECK(m.seq == 1);
  CHECK(m.method == "informer.List");
  CHECK(m.flags == flags::kCodecJson);
  CHECK(m.body == "true");
  CHECK_FALSE(m.is_error());
}

TEST_CASE("rpc frame: protocol doc 5.1 examples encode and parse byte for byte", "[protocol][rpc]") {
  SECTION("kv.MGet request, proto, seq 3") {
    CHECK(encode_rpc_frame(3, "kv.MGet", flags::kCodecProto, hex("0a 05 6c 6f 63 61 6c 12 03 0a 01 61")) == kMGetRequest);
    const RpcMessage m = decode(kMGetRequest);
    CHECK(m.seq == 3);
    CHECK(m.method == "kv.MGet");
    CHECK(m.flags == flags::kCodecProto);
    CHECK(m.body == hex("0a 05 6c 6f 63 61 6c 12 03 0a 01 61"));
  }
  SECTION("kv.MGet reply") {
    CHECK(encode_rpc_frame(3, "kv.MGet", flags::kCodecProto, hex("0a 06 0a 01 61 12 01 76")) == kMGetReply);
    const RpcMessage m = decode(kMGetReply);
    CHECK(m.seq == 3);
    CHECK(m.body == hex("0a 06 0a 01 61 12 01 76"));
  }
  SECTION("empty kv.Set reply, seq 4: the payload is only the method name") {
    CHECK(encode_rpc_frame(4, "kv.Set", flags::kCodecProto, "") == kSetReply);
    const RpcMessage m = decode(kSetReply);
    CHECK(m.seq == 4);
    CHECK(m.method == "kv.Set");
    CHECK(m.body.empty());
  }
  SECTION("JSON error reply, seq 7") {
    CHECK(encode_rpc_frame(7, "kv.MGet", flags::kCodecJson | flags::kError, "rpc_mget: no such storage: x") == kErrorReply);
    const RpcMessage m = decode(kErrorReply);
    CHECK(m.seq == 7);
    CHECK(m.is_error());
    CHECK((m.flags & ~flags::kError) == flags::kCodecJson);
    CHECK(m.body == "rpc_mget: no such storage: x");
  }
}

TEST_CASE("rpc frame: wrong option count and bad method length are errors", "[protocol][rpc]") {
  Frame f;
  f.payload = "informer.Listtrue";
  RpcMessage m;
  SECTION("no options") { CHECK(parse_rpc_frame(f, m) == make_error_code(RpcFrameError::bad_option_count)); }
  SECTION("one option (a worker data frame)") {
    f.options = {13};
    CHECK(parse_rpc_frame(f, m) == RpcFrameError::bad_option_count);
  }
  SECTION("three options") {
    f.options = {1, 13, 0};
    CHECK(parse_rpc_frame(f, m) == RpcFrameError::bad_option_count);
  }
  SECTION("method length beyond the payload") {
    f.options = {1, 18};
    CHECK(parse_rpc_frame(f, m) == RpcFrameError::bad_method_length);
  }
  SECTION("method length equal to the payload is fine (empty argument)") {
    f.options = {9, 17};
    REQUIRE_FALSE(parse_rpc_frame(f, m));
    CHECK(m.seq == 9);
    CHECK(m.method == "informer.Listtrue");
    CHECK(m.body.empty());
  }
  CHECK_FALSE(make_error_code(RpcFrameError::bad_method_length).message().empty());
}

TEST_CASE("rpc frame: codec selection follows Go's order", "[protocol][rpc]") {
  CHECK(rpc_codec(0x80) == flags::kCodecProto);
  CHECK(rpc_codec(0xA0) == flags::kCodecProto);  // gob|proto from `rr`: proto wins
  CHECK(rpc_codec(0x08) == flags::kCodecJson);
  CHECK(rpc_codec(0x48) == flags::kCodecJson);
  CHECK(rpc_codec(0x0C) == flags::kCodecJson);
  CHECK(rpc_codec(0x04) == flags::kCodecRaw);
  CHECK(rpc_codec(0x10) == flags::kCodecMsgpack);
  CHECK(rpc_codec(0x20) == flags::kCodecGob);
  CHECK(rpc_codec(0x00) == flags::kCodecGob);  // no codec bit: gob
}

TEST_CASE("proto: the kv.MGet payloads of protocol doc 5.1", "[protocol][proto]") {
  kv::v1::Request req;
  REQUIRE(req.ParseFromString(hex("0a 05 6c 6f 63 61 6c 12 03 0a 01 61")));
  CHECK(req.storage() == "local");
  REQUIRE(req.items_size() == 1);
  CHECK(req.items(0).key() == "a");
  CHECK(req.items(0).value().empty());
  CHECK(req.items(0).timeout().empty());

  kv::v1::Response resp;
  auto* item = resp.add_items();
  item->set_key("a");
  item->set_value("v");
  CHECK(resp.SerializeAsString() == hex("0a 06 0a 01 61 12 01 76"));
  CHECK(encode_rpc_frame(3, "kv.MGet", flags::kCodecProto, resp.SerializeAsString()) == kMGetReply);
  CHECK(kv::v1::Response().SerializeAsString().empty());  // kv.Set's empty reply
}

TEST_CASE("proto: http.v1.Response example of protocol doc 3.5 (33 bytes)", "[protocol][proto]") {
  http::v1::Response r;
  r.set_status(200);
  (*r.mutable_headers())["Content-Type"].add_value("text/plain");
  const std::string ctx = r.SerializeAsString();
  CHECK(ctx == hex("08 c8 01 12 1c 0a 0c") + "Content-Type" + hex("12 0c 0a 0a") + "text/plain");
  CHECK(ctx.size() == 33);

  // The whole response frame with body "Hello": one option = context length.
  std::string frame;
  const std::uint32_t opt = static_cast<std::uint32_t>(ctx.size());
  append_frame(frame, flags::kCodecProto, std::span<const std::uint32_t>(&opt, 1), ctx + "Hello");
  CHECK(frame == hex("14 80 26 00 00 00 5e a1 3a 1d 00 00 21 00 00 00") + ctx + "Hello");

  http::v1::Response back;
  REQUIRE(back.ParseFromString(ctx));
  CHECK(back.status() == 200);
  REQUIRE(back.headers().count("Content-Type") == 1);
  CHECK(back.headers().at("Content-Type").value(0) == "text/plain");
}

TEST_CASE("proto: jobs.v1 messages use the documented field numbers", "[protocol][proto]") {
  jobs::v1::PushRequest push;
  push.mutable_job()->set_job("ping");
  push.mutable_job()->set_id("7");
  push.mutable_job()->mutable_options()->set_pipeline("default");
  push.mutable_job()->mutable_options()->set_auto_ack(true);
  // Job{1:"ping", 2:"7", 5:Options{2:"default", 6:true}} wrapped in PushRequest field 1.
  CHECK(push.SerializeAsString() == hex("0a 16 0a 04") + "ping" + hex("12 01") + "7" + hex("2a 0b 12 07") + "default" + hex("30 01"));
  jobs::v1::Pipelines p;
  REQUIRE(p.ParseFromString(hex("0a 07") + "default"));
  REQUIRE(p.pipelines_size() == 1);
  CHECK(p.pipelines(0) == "default");
}
