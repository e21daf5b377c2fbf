#include <catch2/catch.hpp>

#include "server/http/request_parser.hpp"

using pivot::http::RequestParser;
using Status = RequestParser::Status;

namespace {

Status feed_all(RequestParser& p, std::string_view data, std::size_t& used) {
  Status st = Status::need_more;
  used = p.feed(data, st);
  return st;
}

}  // namespace

TEST_CASE("a simple GET", "[http][parser]") {
  RequestParser p(8192, 1024);
  std::size_t used = 0;
  const std::string_view req = "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nX-A: 1\r\nx-a: 2\r\n\r\n";
  REQUIRE(feed_all(p, req, used) == Status::complete);
  CHECK(used == req.size());
  auto& r = p.request();
  CHECK(r.method == "GET");
  CHECK(r.target == "/a?b=1");
  CHECK(r.host == "example.com");
  REQUIRE(r.headers.size() == 2);
  CHECK(r.headers[0].name == "X-A");
  CHECK(r.headers[1].name == "X-A");
  CHECK(r.headers[1].value == "2");
  CHECK(r.keep_alive);
}

TEST_CASE("pipelined requests are returned one at a time", "[http][parser]") {
  RequestParser p(8192, 1024);
  const std::string data = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\nHost: h\r\n\r\n";
  std::string_view rest = data;
  std::vector<std::string> targets;
  while (!rest.empty()) {
    Status st = Status::need_more;
    const std::size_t used = p.feed(rest, st);
    REQUIRE(st == Status::complete);
    targets.push_back(p.request().target);
    if (p.request().target == "/2") CHECK(p.request().body == "abc");
    rest.remove_prefix(used);
    p.resume();
  }
  CHECK(targets == std::vector<std::string>{"/1", "/2", "/3"});
}

TEST_CASE("chunked bodies are decoded, split anywhere", "[http][parser]") {
  const std::string data = "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  RequestParser p(8192, 1024);
  Status st = Status::need_more;
  for (std::size_t i = 0; i < data.size(); ++i) {
    p.feed(std::string_view(data).substr(i, 1), st);
    if (i + 1 < data.size()) REQUIRE(st == Status::need_more);
  }
  REQUIRE(st == Status::complete);
  CHECK(p.request().body == "hello world");
}

TEST_CASE("Content-Length together with Transfer-Encoding is rejected", "[http][parser]") {
  RequestParser p(8192, 1024);
  std::size_t used = 0;
  CHECK(feed_all(p, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", used) == Status::error);
  CHECK(p.error_status() == 400);
}

TEST_CASE("limits give 431 and 413", "[http][parser]") {
  std::size_t used = 0;
  {
    RequestParser p(64, 1024);
    CHECK(feed_all(p, "GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + std::string(100, 'a') + "\r\n\r\n", used) == Status::error);
    CHECK(p.error_status() == 431);
  }
  {
    RequestParser p(8192, 10);
    CHECK(feed_all(p, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", used) == Status::error);
    CHECK(p.error_status() == 413);
  }
  {
    RequestParser p(8192, 10);
    CHECK(feed_all(p, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n", used) == Status::error);
    CHECK(p.error_status() == 413);
  }
}

TEST_CASE("malformed requests give 400", "[http][parser]") {
  std::size_t used = 0;
  RequestParser p(8192, 1024);
  CHECK(feed_all(p, "HELLO\r\n\r\n", used) == Status::error);
  CHECK(p.error_status() == 400);
  RequestParser q(8192, 1024);
  CHECK(feed_all(q, "GET / HTTP/1.1\r\nBad Header\r\n\r\n", used) == Status::error);
}

TEST_CASE("Expect: 100-continue pauses before the body", "[http][parser]") {
  RequestParser p(8192, 1024);
  std::size_t used = 0;
  const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n";
  REQUIRE(feed_all(p, head + "ok", used) == Status::expect_continue);
  CHECK(used == head.size());
  p.resume();
  REQUIRE(feed_all(p, "ok", used) == Status::complete);
  CHECK(p.request().body == "ok");
}

TEST_CASE("HTTP/1.0 and Connection: close end keep-alive", "[http][parser]") {
  std::size_t used = 0;
  RequestParser p(8192, 1024);
  REQUIRE(feed_all(p, "GET / HTTP/1.0\r\n\r\n", used) == Status::complete);
  CHECK_FALSE(p.request().keep_alive);
  CHECK(p.request().version_minor == 0);
  RequestParser q(8192, 1024);
  REQUIRE(feed_all(q, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", used) == Status::complete);
  CHECK_FALSE(q.request().keep_alive);
}

namespace {

/// Streams multipart bodies, buffers everything else; records what it got.
class TestSink final : public RequestParser::BodySink {
 public:
  std::string streamed;
  int headers_seen = 0;
  bool reject_next = false;
  std::size_t fail_after = SIZE_MAX;
  int status = 400;
  std::string reason = "nope";

  Decision on_headers(const pivot::http::HttpRequest& req) override {
    ++headers_seen;
    if (reject_next) return Decision::reject;
    for (const auto& h : req.headers) {
      if (h.name == "Content-Type" && h.value.starts_with("multipart/")) return Decision::stream;
    }
    return Decision::buffer;
  }
  bool on_body(std::string_view data) override {
    streamed.append(data);
    return streamed.size() <= fail_after;
  }
  int error_status() const noexcept override { return status; }
  const std::string& error_reason() const noexcept override { return reason; }
};

}  // namespace

TEST_CASE("a body sink takes streamed bodies; others stay in the request", "[http][parser]") {
  TestSink sink;
  RequestParser p(8192, 1024);
  p.set_body_sink(&sink);
  const std::string data =
      "POST /u HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
      "POST /j HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
  Status st = Status::need_more;
  const std::size_t head_end = data.find("\r\n\r\n") + 4;
  std::size_t off = p.feed(std::string_view(data).substr(0, head_end), st);
  REQUIRE(st == Status::need_more);
  CHECK(p.in_body());
  for (; off < data.size() && st != Status::complete; ++off) p.feed(std::string_view(data).substr(off, 1), st);
  REQUIRE(st == Status::complete);
  CHECK(sink.streamed == "hello world");
  CHECK(p.request().body.empty());
  CHECK_FALSE(p.in_body());
  p.resume();
  p.feed(std::string_view(data).substr(off), st);
  REQUIRE(st == Status::complete);
  CHECK(p.request().body == "{}");
  CHECK(sink.headers_seen == 2);
}

TEST_CASE("a body sink can reject at the headers or mid-body; limits still apply to streamed bodies", "[http][parser]") {
  std::size_t used = 0;
  {
    TestSink sink;
    sink.reject_next = true;
    sink.status = 400;
    RequestParser p(8192, 1024);
    p.set_body_sink(&sink);
    CHECK(feed_all(p, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n", used) == Status::error);
    CHECK(p.error_status() == 400);
    CHECK(p.error_reason() == "nope");
  }
  {
    TestSink sink;
    sink.fail_after = 3;
    sink.status = 413;
    RequestParser p(8192, 1024);
    p.set_body_sink(&sink);
    CHECK(feed_all(p, "POST / HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/x\r\nContent-Length: 5\r\n\r\nhello", used) == Status::error);
    CHECK(p.error_status() == 413);
  }
  {
    TestSink sink;
    RequestParser p(8192, 10);
    p.set_body_sink(&sink);
    CHECK(feed_all(p, "POST / HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n",
                   used) == Status::error);
    CHECK(p.error_status() == 413);
    CHECK(sink.streamed == "12345678");
  }
}

TEST_CASE("the bad-input sweep's statuses: 400, 413, 501 and 505 where Go or RFC 9112 require them", "[http][parser]") {
  const auto status_of = [](std::string_view req, std::uint64_t max_body = 1024) {
    RequestParser p(8192, max_body);
    std::size_t used = 0;
    const Status st = feed_all(p, req, used);
    return st == Status::error ? p.error_status() : (st == Status::complete ? 200 : 0);
  };
  CHECK(status_of("GET / HTTP/1.1\r\nHost: h\r\n\r\n") == 200);
  CHECK(status_of("FOO / HTTP/1.1\r\nHost: h\r\n\r\n") == 501);       // unknown method token
  CHECK(status_of("G@T / HTTP/1.1\r\nHost: h\r\n\r\n") == 400);       // not a token
  CHECK(status_of("THIS IS NOT HTTP\r\n\r\n") == 400);
  CHECK(status_of("GET /\r\n\r\n") == 400);                           // HTTP/0.9 simple request
  CHECK(status_of("GET / HTTP/0.9\r\nHost: h\r\n\r\n") == 505);
  CHECK(status_of("GET / HTTP/1.2\r\nHost: h\r\n\r\n") == 505);
  CHECK(status_of("GET / HTTP/2.0\r\nHost: h\r\n\r\n") == 505);
  CHECK(status_of("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") == 505);        // HTTP/2 preface
  CHECK(status_of("GET / HTTP/1.1\rHost: h\r\r") == 400);             // bare CR is malformed, not 505
  CHECK(status_of("GET / HTTP/1.1\r\n\r\n") == 400);                  // no Host
  CHECK(status_of("GET / HTTP/1.0\r\n\r\n") == 200);
  CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400);
  CHECK(status_of("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n") == 400);
  CHECK(status_of("GET / HTTP/1.1\r\nHost: h\r\nX-A : v\r\n\r\n") == 400);
  CHECK(status_of("GET * HTTP/1.1\r\nHost: h\r\n\r\n") == 400);
  CHECK(status_of("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n") == 200);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n") == 501);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") == 400);  // chunked twice (llhttp)
  CHECK(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") == 200);
  // A chunk that cannot fit is refused at its size line, before its bytes.
  CHECK(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n401\r\n", 1024) == 413);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n", 1024) == 0);
}
