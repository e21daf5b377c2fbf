#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <vector>

#include "protocol/http_payload.hpp"
#include "protocol/protocol_error.hpp"

using namespace pivot::protocol;

TEST_CASE("request context has RoadRunner's keys and shapes", "[protocol][http]") {
  const std::vector<HeaderField> headers{{"Accept", "*/*"}, {"X-Multi", "a"}, {"Cookie", "sid=1"}, {"X-Multi", "b"}};
  const std::vector<std::pair<std::string, std::string>> cookies{{"sid", "1"}};
  HttpRequestContext ctx;
  ctx.remote_addr = "127.0.0.1";
  ctx.protocol = "HTTP/1.1";
  ctx.method = "GET";
  ctx.uri = "http://localhost:8080/p?a=1";
  ctx.raw_query = "a=1";
  ctx.headers = headers;
  ctx.cookies = cookies;
  std::string out;
  append_request_context(out, ctx);
  const auto j = nlohmann::json::parse(out);
  CHECK(j["remoteAddr"] == "127.0.0.1");
  CHECK(j["protocol"] == "HTTP/1.1");
  CHECK(j["method"] == "GET");
  CHECK(j["uri"] == "http://localhost:8080/p?a=1");
  CHECK(j["headers"]["X-Multi"] == nlohmann::json::array({"a", "b"}));
  CHECK(j["headers"]["Accept"] == nlohmann::json::array({"*/*"}));
  CHECK(j["headers"]["Cookie"] == nlohmann::json::array({"sid=1"}));
  CHECK(j["cookies"]["sid"] == "1");
  CHECK(j["rawQuery"] == "a=1");
  CHECK(j["parsed"] == false);
  CHECK(j["uploads"].is_null());
  CHECK(j["attributes"].is_object());
  CHECK(j.size() == 10);
}

TEST_CASE("response context decoding", "[protocol][http]") {
  HttpResponseContext r;
  SECTION("status and multi-value headers") {
    REQUIRE_FALSE(decode_response_context(R"({"status":201,"headers":{"Set-Cookie":["a=1","b=2"],"X":"y"}})", r));
    CHECK(r.status == 201);
    REQUIRE(r.headers.size() == 3);
    CHECK(r.headers[0].name == "Set-Cookie");
    CHECK(r.headers[1].value == "b=2");
    CHECK(r.headers[2].value == "y");
  }
  SECTION("PHP's empty array and empty object") {
    REQUIRE_FALSE(decode_response_context(R"({"status":404,"headers":[]})", r));
    CHECK(r.status == 404);
    CHECK(r.headers.empty());
    REQUIRE_FALSE(decode_response_context("{}", r));
    CHECK(r.status == 200);
  }
  SECTION("empty context means 200") {
    REQUIRE_FALSE(decode_response_context("", r));
    CHECK(r.status == 200);
  }
  SECTION("numbers as header values and unknown keys") {
    REQUIRE_FALSE(decode_response_context(R"({"headers":{"X-N":[5]},"extra":{"a":[1]},"status":200})", r));
    CHECK(r.headers[0].value == "5");
  }
  SECTION("errors") {
    CHECK(decode_response_context(R"({"status":99})", r) == ProtocolError::bad_status);
    CHECK(decode_response_context(R"({"status":600})", r) == ProtocolError::bad_status);
    CHECK(decode_response_context(R"({"status":200)", r) == ProtocolError::bad_json);
    CHECK(decode_response_context("garbage", r) == ProtocolError::bad_json);
  }
}

TEST_CASE("header names are canonicalized like Go", "[protocol][http]") {
  std::string n = "content-TYPE";
  canonicalize_header_name(n);
  CHECK(n == "Content-Type");
  n = "x-forwarded-for";
  canonicalize_header_name(n);
  CHECK(n == "X-Forwarded-For");
  n = "bad header";
  canonicalize_header_name(n);
  CHECK(n == "bad header");
}

TEST_CASE("cookies are split, unescaped, last one wins", "[protocol][http]") {
  std::vector<std::pair<std::string, std::string>> c;
  parse_cookie_header("a=1; b=hello%20world; c=\"q\"; bad=%zz; a=2", c);
  REQUIRE(c.size() == 3);
  CHECK(c[0] == std::pair<std::string, std::string>{"a", "2"});
  CHECK(c[1].second == "hello world");
  CHECK(c[2].second == "q");
}
