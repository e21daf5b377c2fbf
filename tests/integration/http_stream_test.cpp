// Streamed responses, 1xx interim responses and protobuf response contexts (issue #4 part 6;
// protocol doc §2.6, §3.5, §3.6) against the real binary and real PHP workers (workers/stream.php).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/config_template.hpp"
#include "tests/integration/harness.hpp"

using namespace pivot::test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

/// A raw client that records when each piece of the response arrived.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~RawClient() { close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  void send(const std::string& s) { REQUIRE(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size())); }

  void get(const std::string& target, const std::string& version = "HTTP/1.1") {
    send("GET " + target + " " + version + "\r\nHost: test\r\n\r\n");
  }

  /// Reads until `needle` is in the received bytes (true) or EOF / timeout (false).
  bool read_until(const std::string& needle, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    while (data.find(needle) == std::string::npos) {
      if (!fill(deadline)) return false;
    }
    return true;
  }

  /// Reads until the server closes the connection (true) or the timeout (false).
  bool read_to_eof(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    while (!eof) {
      if (!fill(deadline) && !eof) return false;
    }
    return true;
  }

  /// When the byte at `offset` arrived.
  Clock::time_point arrival(std::size_t offset) const {
    for (const auto& [end, t] : arrivals_) {
      if (offset < end) return t;
    }
    return Clock::time_point::max();
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::string data;
  bool eof = false;

 private:
  bool fill(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      eof = true;
      return false;
    }
    data.append(buf, static_cast<std::size_t>(n));
    arrivals_.emplace_back(data.size(), Clock::now());
    return true;
  }

  int fd_ = -1;
  std::vector<std::pair<std::size_t, Clock::time_point>> arrivals_;
};

/// Decodes a chunked body starting at `pos`; false when the framing is wrong or incomplete.
bool dechunk(const std::string& s, std::size_t pos, std::string& body) {
  body.clear();
  for (;;) {
    const auto eol = s.find("\r\n", pos);
    if (eol == std::string::npos) return false;
    const std::size_t n = std::stoul(s.substr(pos, eol - pos), nullptr, 16);
    pos = eol + 2;
    if (n == 0) return s.compare(pos, 2, "\r\n") == 0;
    if (pos + n + 2 > s.size() || s.compare(pos + n, 2, "\r\n") != 0) return false;
    body.append(s, pos, n);
    pos += n + 2;
  }
}

std::string head_of(const std::string& s) { return s.substr(0, s.find("\r\n\r\n") + 4); }

std::string temp_marker() {
  char tmpl[] = "/tmp/pivot-stream-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  ::close(fd);
  ::unlink(tmpl);
  return tmpl;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool wait_file(const std::string& path, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (!read_file(path).empty()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::string stream_yaml(int workers, const std::string& pool_extra = "", const std::string& http_extra = "") {
  std::string y = config_yaml(workers, pool_extra, "stream.php");
  if (!http_extra.empty()) y.insert(y.find("  pool:\n"), http_extra);
  return y;
}

}  // namespace

TEST_CASE("a streamed response of 10 chunks arrives chunk by chunk, chunked, and the connection is reused",
          "[integration][stream]") {
  ServerProcess s(stream_yaml(1, "", "  access_logs: true\n"));
  RawClient c(s.port());
  const auto sent = Clock::now();
  c.get("/stream?n=10&ms=100");
  REQUIRE(c.read_until("\r\n0\r\n\r\n"));
  const std::string head = head_of(c.data);
  CHECK_THAT(head, StartsWith("HTTP/1.1 200 OK\r\n"));
  CHECK_THAT(head, Contains("Transfer-Encoding: chunked\r\n"));
  CHECK_THAT(head, Contains("X-Stream: yes\r\n"));
  CHECK_THAT(head, Contains("Content-Type: text/plain\r\n"));
  CHECK_THAT(head, !Contains("Content-Length"));
  // Each frame is one chunk on the wire.
  CHECK_THAT(c.data, Contains("\r\n\r\n8\r\nchunk 1\n\r\n8\r\nchunk 2\n\r\n"));
  std::string body;
  REQUIRE(dechunk(c.data, head.size(), body));
  std::string expected;
  for (int i = 1; i <= 10; ++i) expected += "chunk " + std::to_string(i) + "\n";
  CHECK(body == expected);
  // The worker sleeps 100 ms between chunks: the first one must arrive long before the last.
  const auto first = c.arrival(c.data.find("chunk 1"));
  const auto last = c.arrival(c.data.find("chunk 10"));
  CHECK(first - sent < 400ms);
  CHECK(last - first >= 700ms);
  // Chunks arrive spread out, not in one burst at the end.
  CHECK(c.arrival(c.data.find("chunk 5")) - first >= 300ms);
  // Keep-alive: the same connection serves the next request.
  c.data.clear();
  c.get("/pid");
  REQUIRE(c.read_until("\r\n\r\n"));
  CHECK_THAT(c.data, StartsWith("HTTP/1.1 200 OK"));
  CHECK(s.wait_log("logger=access", 5s, 2));
  CHECK_THAT(s.log(), Contains("path=\"/stream\" status=200 bytes_sent=" + std::to_string(expected.size()) + " "));
}

TEST_CASE("a client that disconnects mid-stream stops the generator; the worker serves the next request",
          "[integration][stream]") {
  ServerProcess s(stream_yaml(1));
  const std::string pid = request(s.port(), "GET", "/pid").body;
  const std::string marker = temp_marker();
  {
    RawClient c(s.port());
    c.get("/stream?n=100&ms=50&marker=" + marker);
    REQUIRE(c.read_until("chunk 2\n"));
  }  // closed mid-stream
  REQUIRE(wait_file(marker, 10s));
  // The generator saw StreamStoppedException and its finally block ran, well before its 100 chunks.
  CHECK(read_file(marker) == "stopped " + pid);
  CHECK(s.wait_log("event=stream_drained", 5s));
  CHECK_THAT(s.log(), Contains("event=stream_stop pool=http pid=" + pid));
  const Response next = request(s.port(), "GET", "/pid");
  CHECK(next.status == 200);
  CHECK(next.body == pid);  // the same worker: not killed
  std::remove(marker.c_str());
}

TEST_CASE("PING/PONG over more than 5 chunks keeps the stream going", "[integration][stream]") {
  ServerProcess s(stream_yaml(1));
  RawClient c(s.port());
  c.get("/stream?n=17");  // PINGs on frames 6, 11 and 16: the worker blocks until each PONG
  REQUIRE(c.read_until("\r\n0\r\n\r\n", 10s));
  std::string body;
  REQUIRE(dechunk(c.data, head_of(c.data).size(), body));
  CHECK_THAT(body, Contains("chunk 17\n"));
  const Response next = request(s.port(), "GET", "/pid");
  CHECK(next.status == 200);
}

TEST_CASE("103 Early Hints goes out as an interim response and its headers do not leak", "[integration][stream]") {
  ServerProcess s(stream_yaml(1));
  SECTION("then a plain 200") {
    RawClient c(s.port());
    c.get("/early-hints");
    REQUIRE(c.read_until("final body"));
    CHECK_THAT(c.data, StartsWith("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\nHTTP/1.1 200 OK\r\n"));
    const std::string final_head = c.data.substr(c.data.find("HTTP/1.1 200"));
    CHECK_THAT(final_head, !Contains("Link:"));
    CHECK_THAT(final_head, Contains("Content-Length: 10\r\n"));
  }
  SECTION("then a stream") {
    RawClient c(s.port());
    c.get("/early-hints-stream?n=3");
    REQUIRE(c.read_until("\r\n0\r\n\r\n"));
    CHECK_THAT(c.data, StartsWith("HTTP/1.1 103 Early Hints\r\nLink: </app.js>; rel=preload; as=script\r\n\r\nHTTP/1.1 200 OK\r\n"));
    const std::string rest = c.data.substr(c.data.find("HTTP/1.1 200"));
    CHECK_THAT(head_of(rest), !Contains("Link:"));
    CHECK_THAT(head_of(rest), Contains("Transfer-Encoding: chunked"));
    std::string body;
    REQUIRE(dechunk(rest, head_of(rest).size(), body));
    CHECK(body == "chunk 1\nchunk 2\nchunk 3\n");
  }
  SECTION("HTTP/1.0 clients get no interim response and a close-delimited stream") {
    RawClient c(s.port());
    c.get("/early-hints-stream?n=3", "HTTP/1.0");
    REQUIRE(c.read_to_eof());
    CHECK_THAT(c.data, StartsWith("HTTP/1.1 200 OK\r\n"));
    CHECK_THAT(head_of(c.data), Contains("Connection: close\r\n"));
    CHECK_THAT(head_of(c.data), !Contains("Transfer-Encoding"));
    CHECK(c.data.substr(head_of(c.data).size()) == "chunk 1\nchunk 2\nchunk 3\n");
  }
}

TEST_CASE("a worker killed mid-stream: the connection closes and the pool replaces it", "[integration][stream]") {
  ServerProcess s(stream_yaml(1));
  const std::string pid = request(s.port(), "GET", "/pid").body;
  RawClient c(s.port());
  c.get("/die-mid-stream?ms=200");
  REQUIRE(c.read_until("second\n"));
  REQUIRE(c.read_to_eof());
  CHECK_THAT(c.data, !Contains("\r\n0\r\n\r\n"));  // never completed
  CHECK(s.wait_log("event=worker_ready", 10s, 2));
  const Response next = request(s.port(), "GET", "/pid");
  CHECK(next.status == 200);
  CHECK(next.body != pid);
  CHECK_THAT(s.log(), Contains("event=stream_broken"));
}

TEST_CASE("an ERROR frame mid-stream closes the connection and the worker is replaced", "[integration][stream]") {
  ServerProcess s(stream_yaml(1));
  const std::string pid = request(s.port(), "GET", "/pid").body;
  RawClient c(s.port());
  c.get("/error-mid-stream");
  REQUIRE(c.read_to_eof());
  CHECK_THAT(c.data, Contains("partial\n"));
  CHECK_THAT(c.data, !Contains("\r\n0\r\n\r\n"));
  CHECK(s.wait_log("event=stream_error_frame", 5s));
  CHECK(s.wait_log("event=worker_ready", 10s, 2));
  const Response next = request(s.port(), "GET", "/pid");
  CHECK(next.status == 200);
  CHECK(next.body != pid);
}

TEST_CASE("protobuf response contexts (flags 0x80) are decoded", "[integration][stream]") {
  ServerProcess s(stream_yaml(1));
  const Response r = request(s.port(), "GET", "/proto");
  CHECK(r.status == 200);
  CHECK(r.header("content-type") == "text/plain");
  CHECK(r.body == "Hello");
  const Response multi = request(s.port(), "GET", "/proto-multi");
  CHECK(multi.status == 201);
  CHECK(multi.headers.at("x-multi") == std::vector<std::string>{"a", "b"});
  const Response bad = request(s.port(), "GET", "/proto-bad-status");
  CHECK(bad.status == 500);
  CHECK(bad.body == "unknown status code from worker: 700\n");
  RawClient c(s.port());
  c.get("/proto-stream");
  REQUIRE(c.read_until("\r\n0\r\n\r\n"));
  const std::string head = head_of(c.data);
  CHECK_THAT(head, StartsWith("HTTP/1.1 202 Accepted\r\n"));
  CHECK_THAT(head, Contains("X-First: 1\r\n"));
  CHECK_THAT(head, !Contains("X-Late"));  // header changes after the first frame are ignored
  std::string body;
  REQUIRE(dechunk(c.data, head.size(), body));
  CHECK(body == "p1\np2\np3\n");
}

TEST_CASE("a worker that ignores STOP is killed after http.pool.stream_timeout and replaced", "[integration][stream]") {
  ServerProcess s(stream_yaml(1, "    stream_timeout: 500ms\n"));
  const std::string pid = request(s.port(), "GET", "/pid").body;
  {
    RawClient c(s.port());
    c.get("/ignore-stop?n=200&ms=50");
    REQUIRE(c.read_until("tick 2\n"));
  }
  REQUIRE(s.wait_log("event=stream_drain_timeout pool=http pid=" + pid, 10s));
  CHECK(s.wait_log("event=worker_ready", 10s, 2));
  const Response next = request(s.port(), "GET", "/pid");
  CHECK(next.status == 200);
  CHECK(next.body != pid);
}

TEST_CASE("a 1xx body is dropped and 101 is never sent", "[integration][stream]") {
  ServerProcess s(stream_yaml(1));
  RawClient c(s.port());
  c.get("/raw-informational");
  REQUIRE(c.read_until("final"));
  CHECK_THAT(c.data, StartsWith("HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\n"));
  CHECK_THAT(c.data, !Contains("dropped"));
  // Not a bare "101": the random X-Request-Id hex may contain it.
  CHECK_THAT(c.data, !Contains("HTTP/1.1 101"));
  CHECK_THAT(c.data, !Contains("Upgrade"));
}

TEST_CASE("exec_ttl applies to each chunk read, not to the whole stream", "[integration][stream]") {
  ServerProcess s(stream_yaml(1, "    supervisor:\n      exec_ttl: 500ms\n"));
  SECTION("chunks 200 ms apart: a 1.2 s stream completes") {
    RawClient c(s.port());
    c.get("/stream?n=7&ms=200");
    REQUIRE(c.read_until("\r\n0\r\n\r\n"));
    CHECK_THAT(c.data, Contains("chunk 7\n"));
  }
  SECTION("a chunk 1 s late: the worker is killed and the connection closed") {
    RawClient c(s.port());
    c.get("/stream?n=3&ms=1000");
    REQUIRE(c.read_to_eof());
    CHECK_THAT(c.data, Contains("chunk 1\n"));
    CHECK_THAT(c.data, !Contains("chunk 2\n"));
    CHECK(s.wait_log("event=exec_ttl_expired", 5s));
    CHECK_THAT(s.log(), Contains("during=stream"));
  }
}

TEST_CASE("a request pipelined behind a response that turns out to be a stream is answered after it",
          "[integration][stream][pipeline]") {
  ServerProcess s(stream_yaml(1, "    pipeline_depth: 2\n    pipeline_max_exec: 5s\n"));
  const std::string pid = request(s.port(), "GET", "/pid").body;  // the worker's first timing
  RawClient c(s.port());
  c.get("/stream?n=5&ms=50&first_ms=300");
  std::this_thread::sleep_for(100ms);  // queued while the worker has not sent the first frame yet
  const Response queued = request(s.port(), "GET", "/pid");
  CHECK(queued.status == 200);
  CHECK(queued.body == pid);
  REQUIRE(c.read_until("\r\n0\r\n\r\n"));
  std::string body;
  REQUIRE(dechunk(c.data, head_of(c.data).size(), body));
  CHECK(body == "chunk 1\nchunk 2\nchunk 3\nchunk 4\nchunk 5\n");
  CHECK(s.wait_log("event=exec_pipelined pool=http pid=" + pid, 1s));
}

TEST_CASE("a stream stopped by its client with a request pipelined behind it: both end well",
          "[integration][stream][pipeline]") {
  ServerProcess s(stream_yaml(1, "    pipeline_depth: 2\n    pipeline_max_exec: 5s\n"));
  const std::string pid = request(s.port(), "GET", "/pid").body;
  const std::string marker = temp_marker();
  std::future<Response> queued;
  {
    RawClient c(s.port());
    c.get("/stream?n=100&ms=50&first_ms=300&marker=" + marker);
    std::this_thread::sleep_for(100ms);
    queued = std::async(std::launch::async, [&] { return request(s.port(), "GET", "/pid"); });
    REQUIRE(c.read_until("chunk 2\n"));
  }  // closed mid-stream: the STOP frame goes into the pipe behind the queued request
  REQUIRE(wait_file(marker, 10s));
  CHECK(read_file(marker) == "stopped " + pid);
  const Response r = queued.get();
  CHECK(r.status == 200);
  CHECK(r.body == pid);
  CHECK(s.wait_log("event=stream_drained", 5s));
  CHECK(s.wait_log("event=exec_pipelined pool=http pid=" + pid, 1s));
  CHECK(request(s.port(), "GET", "/pid").body == pid);  // the same worker serves on
  std::remove(marker.c_str());
}
