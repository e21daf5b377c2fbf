#include <catch2/catch.hpp>

#include <vector>

#include "server/http/response_head.hpp"
#include "server/http/status_map.hpp"

using namespace pivot::http;
using pivot::protocol::HeaderField;

TEST_CASE("response head: worker headers, Date, Content-Length; framing headers are the server's", "[http][response]") {
  const std::vector<HeaderField> hs{{"Content-Type", "text/plain"}, {"Content-Length", "999"}, {"Set-Cookie", "a=1"},
                                    {"Set-Cookie", "b=2"}, {"Transfer-Encoding", "chunked"}, {"X-Evil", "a\r\nInjected: 1"}};
  std::string out;
  ResponseHeadOptions o;
  o.status = 201;
  o.content_length = 5;
  o.date = "Tue, 24 Nov 2026 06:46:25 GMT";
  CHECK(append_response_head(out, o, hs) == 1);
  CHECK(out ==
        "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
        "Date: Tue, 24 Nov 2026 06:46:25 GMT\r\nContent-Length: 5\r\n\r\n");
}

TEST_CASE("no Content-Length on 204/304, Connection: close when closing", "[http][response]") {
  std::string out;
  ResponseHeadOptions o;
  o.status = 204;
  o.close = true;
  o.date = "D";
  append_response_head(out, o, {});
  CHECK(out == "HTTP/1.1 204 No Content\r\nDate: D\r\nConnection: close\r\n\r\n");
}

TEST_CASE("the failure table", "[http][status]") {
  using pivot::pool::Outcome;
  CHECK(status_for(Outcome::SoftError, 500) == 500);
  CHECK(status_for(Outcome::SoftError, 555) == 555);
  CHECK(status_for(Outcome::NoWorker, 500) == 503);
  CHECK(status_for(Outcome::QueueFull, 500) == 503);
  CHECK(status_for(Outcome::Stopping, 500) == 503);
  CHECK(status_for(Outcome::Crashed, 500) == 502);
  CHECK(status_for(Outcome::ProtocolError, 500) == 502);
  CHECK(status_for(Outcome::Timeout, 500) == 504);
}

TEST_CASE("DateCache gives an IMF-fixdate", "[http][response]") {
  DateCache d;
  const std::string s(d.now());
  CHECK(s.size() == 29);
  CHECK(s.substr(25) == " GMT");
}

TEST_CASE("X-Request-Id is the server's: added after Date, a worker's copy is dropped", "[http][response]") {
  const std::vector<HeaderField> hs{{"x-request-id", "from-php"}, {"X-Other", "1"}};
  std::string out;
  ResponseHeadOptions o;
  o.date = "D";
  o.request_id = "abc";
  append_response_head(out, o, hs);
  CHECK(out == "HTTP/1.1 200 OK\r\nX-Other: 1\r\nDate: D\r\nX-Request-Id: abc\r\nContent-Length: 0\r\n\r\n");
  out.clear();
  o.request_id = {};
  append_response_head(out, o, hs);
  CHECK(out == "HTTP/1.1 200 OK\r\nx-request-id: from-php\r\nX-Other: 1\r\nDate: D\r\nContent-Length: 0\r\n\r\n");
}
