#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/config_template.hpp"
#include "tests/integration/harness.hpp"

using namespace pivot::test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

TEST_CASE("curl gets hello from a PHP worker", "[integration][http]") {
  ServerProcess s(config_yaml(2));
  int st = 0;
  const std::string out = run_command("curl -sS -i http://127.0.0.1:" + std::to_string(s.port()) + "/", &st);
  REQUIRE(st == 0);
  CHECK_THAT(out, StartsWith("HTTP/1.1 200 OK\r\n"));
  CHECK_THAT(out, Contains("Hello from "));
  CHECK_THAT(out, Contains("Date: "));
  CHECK_THAT(out, Contains("Content-Type: text/plain"));
}

TEST_CASE("the worker sees method, uri, multi-value headers, query, cookies and body", "[integration][http]") {
  ServerProcess s(config_yaml(1));
  const Response r = request(s.port(), "POST", "/echo?a=1&b[]=x&b[]=y", "the body",
                             {"X-Multi: one", "X-Multi: two", "Cookie: sid=abc%20def; theme=dark", "Content-Type: text/plain"});
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type") == "application/json");
  const auto j = nlohmann::json::parse(r.body);
  CHECK(j["method"] == "POST");
  CHECK(j["uri"] == "http://127.0.0.1:" + std::to_string(s.port()) + "/echo?a=1&b[]=x&b[]=y");
  CHECK(j["path"] == "/echo");
  CHECK(j["rawQuery"] == "a=1&b[]=x&b[]=y");
  CHECK(j["query"]["a"] == "1");
  CHECK(j["query"]["b"] == nlohmann::json::array({"x", "y"}));
  CHECK(j["headers"]["X-Multi"] == nlohmann::json::array({"one", "two"}));
  CHECK(j["cookies"]["sid"] == "abc def");
  CHECK(j["cookies"]["theme"] == "dark");
  CHECK(j["body"] == "the body");
  CHECK(j["protocol"] == "HTTP/1.1");
  CHECK(j["remoteAddr"] == "127.0.0.1");
}

TEST_CASE("chunked request bodies reach the worker decoded", "[integration][http]") {
  ServerProcess s(config_yaml(1));
  Connection c(s.port());
  c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n");
  const Response r = c.read_response();
  REQUIRE(r.status == 200);
  CHECK(nlohmann::json::parse(r.body)["body"] == "abcdefg");
}

TEST_CASE("a 1 MB request body and a 1 MB response", "[integration][http]") {
  ServerProcess s(config_yaml(1));
  std::string body(1024 * 1024, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  const Response r = request(s.port(), "POST", "/echo", body, {"Content-Type: application/octet-stream"});
  REQUIRE(r.status == 200);
  const auto j = nlohmann::json::parse(r.body);
  CHECK(j["bodyLength"] == body.size());
  CHECK(j["body"] == body);

  const Response big = request(s.port(), "GET", "/big?bytes=1048576");
  REQUIRE(big.status == 200);
  CHECK(big.body.size() == 1048576);
  CHECK(big.header("content-length") == "1048576");
  CHECK(big.body.find_first_not_of('x') == std::string::npos);

  // curl sends Expect: 100-continue for large bodies; the server must answer it.
  int st = 0;
  const std::string out = run_command("head -c 2000000 /dev/zero | tr '\\0' 'q' | curl -sS --max-time 10 --data-binary @- -H 'Content-Type: application/octet-stream' "
                                      "http://127.0.0.1:" + std::to_string(s.port()) + "/echo",
                                      &st);
  REQUIRE(st == 0);
  CHECK(nlohmann::json::parse(out)["bodyLength"] == 2000000);
}

TEST_CASE("keep-alive serves several requests on one connection", "[integration][http]") {
  ServerProcess s(config_yaml(1));
  Connection c(s.port());
  for (int i = 0; i < 5; ++i) {
    c.send("GET /echo?i=" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    const Response r = c.read_response();
    REQUIRE(r.status == 200);
    CHECK(nlohmann::json::parse(r.body)["query"]["i"] == std::to_string(i));
    CHECK(r.header("connection").empty());
  }
  CHECK_FALSE(c.closed_by_peer(std::chrono::milliseconds(100)));
}

TEST_CASE("pipelined requests are answered in order", "[integration][http]") {
  ServerProcess s(config_yaml(2));
  Connection c(s.port());
  std::string batch;
  for (int i = 0; i < 4; ++i) batch += "GET /echo?i=" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  batch += "POST /echo?i=4 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfifth";
  c.send(batch);
  for (int i = 0; i < 5; ++i) {
    const Response r = c.read_response();
    REQUIRE(r.status == 200);
    const auto j = nlohmann::json::parse(r.body);
    CHECK(j["query"]["i"] == std::to_string(i));
    if (i == 4) CHECK(j["body"] == "fifth");
  }
}

TEST_CASE("HEAD gets Content-Length and no body; Connection: close closes", "[integration][http]") {
  ServerProcess s(config_yaml(1));
  Connection c(s.port());
  c.send("HEAD /big?bytes=1234 HTTP/1.1\r\nHost: x\r\n\r\n");
  Response r = c.read_response(true);
  REQUIRE(r.status == 200);
  CHECK(r.header("content-length") == "1234");
  c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  r = c.read_response();
  REQUIRE(r.status == 200);
  CHECK(r.header("connection") == "close");
  CHECK(c.closed_by_peer(std::chrono::seconds(2)));
}

TEST_CASE("HTTP/1.0 closes by default", "[integration][http]") {
  ServerProcess s(config_yaml(1));
  Connection c(s.port());
  c.send("GET /echo HTTP/1.0\r\n\r\n");
  const Response r = c.read_response();
  REQUIRE(r.status == 200);
  CHECK(nlohmann::json::parse(r.body)["protocol"] == "HTTP/1.0");
  CHECK(c.closed_by_peer(std::chrono::seconds(2)));
}

TEST_CASE("malformed requests get 400 and the connection is closed", "[integration][http]") {
  ServerProcess s(config_yaml(1));
  {
    Connection c(s.port());
    c.send("THIS IS NOT HTTP\r\n\r\n");
    CHECK(c.read_response().status == 400);
    CHECK(c.closed_by_peer(std::chrono::seconds(2)));
  }
  {
    Connection c(s.port());
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    CHECK(c.read_response().status == 400);
    CHECK(c.closed_by_peer(std::chrono::seconds(2)));
  }
  CHECK(s.wait_log("event=bad_request", std::chrono::seconds(2), 2));
  // The server is still fine.
  CHECK(request(s.port(), "GET", "/").status == 200);
}

TEST_CASE("worker statuses and multi-value response headers pass through", "[integration][http]") {
  ServerProcess s(config_yaml(1));
  const Response r = request(s.port(), "GET", "/status?code=418");
  CHECK(r.status == 418);
  REQUIRE(r.headers.at("x-custom").size() == 2);
  CHECK(r.headers.at("x-custom")[1] == "b");
}
