#include <catch2/catch.hpp>

#include <string>

#include "protocol/frame.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/http_response_proto.hpp"
#include "protocol/proto/http.pb.h"
#include "protocol/protocol_error.hpp"

using namespace pivot::protocol;

namespace {

/// Hex with optional spaces ("08 c8 01 ...") to bytes.
std::string hex(const std::string& text) {
  std::string digits;
  for (char c : text) {
    if (c != ' ') digits.push_back(c);
  }
  std::string out;
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2) out.push_back(static_cast<char>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  return out;
}

// Protocol doc §3.5: Response{status:200, headers:{"Content-Type":["text/plain"]}}, 33 bytes.
const std::string kContext = hex("08 c8 01 12 1c 0a 0c") + "Content-Type" + hex("12 0c 0a 0a") + "text/plain";

}  // namespace

TEST_CASE("the worked example of §3.5 decodes: the 33-byte context", "[protocol][proto_response]") {
  REQUIRE(kContext.size() == 33);
  HttpResponseContext ctx;
  REQUIRE_FALSE(decode_proto_response_context(kContext, ctx));
  CHECK(ctx.status == 200);
  REQUIRE(ctx.headers.size() == 1);
  CHECK(ctx.headers[0].name == "Content-Type");
  CHECK(ctx.headers[0].value == "text/plain");
}

TEST_CASE("the worked example of §3.5 decodes: the whole frame with body Hello", "[protocol][proto_response]") {
  const std::string wire = hex("14 80 26 00 00 00 5e a1 3a 1d 00 00 21 00 00 00") + kContext + "Hello";
  FrameDecoder d(1 << 20);
  std::error_code ec;
  REQUIRE(d.feed(wire, ec) == wire.size());
  REQUIRE_FALSE(ec);
  REQUIRE(d.done());
  const Frame& f = d.frame();
  CHECK(f.flags == flags::kCodecProto);
  REQUIRE(f.options.size() == 1);
  REQUIRE(f.options[0] == 33);
  CHECK(f.payload.substr(33) == "Hello");
  HttpResponseContext ctx;
  REQUIRE_FALSE(decode_reply_context(f.flags, std::string_view(f.payload).substr(0, f.options[0]), ctx));
  CHECK(ctx.status == 200);
  REQUIRE(ctx.headers.size() == 1);
  CHECK(ctx.headers[0].value == "text/plain");
  // And the frame we would encode for it is the same bytes.
  std::string encoded;
  const std::uint32_t opt = 33;
  append_frame(encoded, flags::kCodecProto, std::span<const std::uint32_t>(&opt, 1), kContext + "Hello");
  CHECK(encoded == wire);
}

TEST_CASE("multi-value headers and unknown fields, cross-checked with libprotobuf", "[protocol][proto_response]") {
  http::v1::Response m;
  m.set_status(404);
  auto& hs = *m.mutable_headers();
  hs["Set-Cookie"].add_value("a=1");
  hs["Set-Cookie"].add_value("b=2");
  hs["X-Empty"];  // a name without values adds nothing
  std::string bytes = m.SerializeAsString();
  bytes += hex("18 05") + hex("2a 03 61 62 63");  // unknown varint field 3, unknown bytes field 5
  HttpResponseContext ctx;
  REQUIRE_FALSE(decode_proto_response_context(bytes, ctx));
  CHECK(ctx.status == 404);
  REQUIRE(ctx.headers.size() == 2);
  CHECK(ctx.headers[0].name == "Set-Cookie");
  CHECK(ctx.headers[0].value == "a=1");
  CHECK(ctx.headers[1].value == "b=2");
}

TEST_CASE("proto contexts: empty, bad status, malformed", "[protocol][proto_response]") {
  HttpResponseContext ctx;
  ctx.headers.push_back({"Stale", "x"});
  SECTION("an empty context is 200 without headers (RoadRunner skips it)") {
    REQUIRE_FALSE(decode_proto_response_context("", ctx));
    CHECK(ctx.status == 200);
    CHECK(ctx.headers.empty());
  }
  SECTION("a status outside 100..599 is reported with the status") {
    http::v1::Response m;
    m.set_status(700);
    CHECK(decode_proto_response_context(m.SerializeAsString(), ctx) == ProtocolError::bad_status);
    CHECK(ctx.status == 700);
    m.set_status(-1);
    CHECK(decode_proto_response_context(m.SerializeAsString(), ctx) == ProtocolError::bad_status);
    CHECK(ctx.status == -1);
  }
  SECTION("headers without a status: status 0 is out of range, as in RoadRunner") {
    http::v1::Response m;
    (*m.mutable_headers())["A"].add_value("b");
    CHECK(decode_proto_response_context(m.SerializeAsString(), ctx) == ProtocolError::bad_status);
    CHECK(ctx.status == 0);
  }
  SECTION("truncated bytes") {
    CHECK(decode_proto_response_context(kContext.substr(0, 20), ctx) == ProtocolError::bad_protobuf);
    CHECK(decode_proto_response_context(hex("08"), ctx) == ProtocolError::bad_protobuf);
    CHECK(decode_proto_response_context(hex("0b"), ctx) == ProtocolError::bad_protobuf);  // group wire type
  }
  SECTION("JSON contexts still decode when the flags say so") {
    REQUIRE_FALSE(decode_reply_context(0, R"({"status":201,"headers":{"A":["1"]}})", ctx));
    CHECK(ctx.status == 201);
    CHECK(decode_reply_context(0, R"({"status":99})", ctx) == ProtocolError::bad_status);
    CHECK(ctx.status == 99);
  }
}
