#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "protocol/frame.hpp"
#include "protocol/frame_decoder.hpp"
#include "server/http/request_translator.hpp"

using namespace pivot;

TEST_CASE("a parsed request becomes a 0x14 frame with the context length option", "[http][translator]") {
  http::HttpRequest req;
  req.method = "POST";
  req.target = "/path/x?a=1&b[]=2#frag";
  req.host = "example.com:8080";
  req.headers = {{"Content-Type", "application/json"}, {"Cookie", "sid=abc%21; theme=dark"}, {"X-Multi", "1"}, {"X-Multi", "2"}};
  req.body = R"({"k":"v"})";
  http::RequestTranslator t;
  std::string frame;
  t.build_frame(frame, req, "10.0.0.7", "localhost:80");

  CHECK(static_cast<unsigned char>(frame[0]) == 0x14);
  CHECK(static_cast<unsigned char>(frame[1]) == protocol::flags::kCodecJson);
  protocol::FrameDecoder d(1 << 20);
  std::error_code ec;
  d.feed(frame, ec);
  REQUIRE(d.done());
  const auto& f = d.frame();
  REQUIRE(f.options.size() == 1);
  const std::string ctx = f.payload.substr(0, f.options[0]);
  CHECK(f.payload.substr(f.options[0]) == req.body);
  const auto j = nlohmann::json::parse(ctx);
  CHECK(j["remoteAddr"] == "10.0.0.7");
  CHECK(j["method"] == "POST");
  CHECK(j["uri"] == "http://example.com:8080/path/x?a=1&b[]=2#frag");
  CHECK(j["rawQuery"] == "a=1&b[]=2");
  CHECK(j["headers"]["X-Multi"] == nlohmann::json::array({"1", "2"}));
  CHECK_FALSE(j["headers"].contains("Host"));
  CHECK(j["cookies"]["sid"] == "abc!");
  CHECK(j["cookies"]["theme"] == "dark");
}

TEST_CASE("HEAD bodies are not forwarded and a missing Host falls back", "[http][translator]") {
  http::HttpRequest req;
  req.method = "HEAD";
  req.target = "/";
  req.version_minor = 0;
  req.body = "ignored";
  http::RequestTranslator t;
  std::string frame;
  t.build_frame(frame, req, "127.0.0.1", "localhost:8080");
  protocol::FrameDecoder d(1 << 20);
  std::error_code ec;
  d.feed(frame, ec);
  REQUIRE(d.done());
  CHECK(d.frame().payload.size() == d.frame().options[0]);
  const auto j = nlohmann::json::parse(d.frame().payload);
  CHECK(j["uri"] == "http://localhost:8080/");
  CHECK(j["protocol"] == "HTTP/1.0");
}

TEST_CASE("a parsed form replaces the body; uploads, https and extra headers reach the context", "[http][translator]") {
  http::HttpRequest req;
  req.method = "POST";
  req.target = "/f?x=1";
  req.host = "example.com";
  req.headers = {{"Content-Type", "multipart/form-data; boundary=b"}};
  req.body = "raw bytes that must not be sent";
  const std::vector<protocol::HeaderField> extra{{"X-Request-Id", "0123456789abcdef0123456789abcdef"}};
  http::RequestMeta meta;
  meta.remote_ip = "203.0.113.9";
  meta.fallback_host = "localhost:80";
  meta.https = true;
  meta.extra_headers = extra;
  meta.parsed = true;
  meta.form_body = R"({"a":"1"})";
  meta.uploads_json = R"({"f":{"name":"a.txt","mime":"text/plain","size":1,"error":0,"tmpName":"/tmp/uploadX"}})";
  http::RequestTranslator t;
  std::string frame;
  t.build_frame(frame, req, meta);
  protocol::FrameDecoder d(1 << 20);
  std::error_code ec;
  d.feed(frame, ec);
  REQUIRE(d.done());
  const auto& f = d.frame();
  CHECK(f.payload.substr(f.options[0]) == meta.form_body);
  const auto j = nlohmann::json::parse(f.payload.substr(0, f.options[0]));
  CHECK(j["remoteAddr"] == "203.0.113.9");
  CHECK(j["uri"] == "https://example.com/f?x=1");
  CHECK(j["parsed"] == true);
  CHECK(j["uploads"]["f"]["tmpName"] == "/tmp/uploadX");
  CHECK(j["headers"]["X-Request-Id"] == nlohmann::json::array({"0123456789abcdef0123456789abcdef"}));
  CHECK(j["headers"]["Content-Type"] == nlohmann::json::array({"multipart/form-data; boundary=b"}));

  // An empty parsed form is an empty body, never the raw bytes.
  meta.form_body = "";
  t.build_frame(frame, req, meta);
  protocol::FrameDecoder d2(1 << 20);
  d2.feed(frame, ec);
  REQUIRE(d2.done());
  CHECK(d2.frame().payload.size() == d2.frame().options[0]);
}
