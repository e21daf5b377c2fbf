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
