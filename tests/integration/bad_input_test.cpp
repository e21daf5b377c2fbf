// The bad-input sweep (issue #7 part 5): malformed HTTP over raw sockets to the real binary. Each
// row states the statuses the server must answer (in order, for pipelined input) before it
// closes the connection, or none at all ("close"). Every read has a timeout, so a hang fails the
// row instead of the suite; after every row a normal request on a fresh connection must still
// get 200 and the server must still be running.
#include <catch2/catch.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/integration/config_template.hpp"
#include "tests/integration/harness.hpp"

using namespace pivot::test;

namespace {

using namespace std::string_literals;
using Clock = std::chrono::steady_clock;

/// The longest the server may take to answer a row or to close after it: a hang fails the row.
constexpr auto kRowTimeout = std::chrono::seconds(5);

struct Row {
  std::string name;
  std::string bytes;
  std::vector<int> statuses;  ///< answers in order; empty: the connection is closed without one
};

/// What one raw connection saw: the statuses of complete responses, and how it ended.
struct Seen {
  std::vector<int> statuses;
  bool closed = false;  ///< EOF or reset from the server
  bool hung = false;    ///< nothing happened within kRowTimeout
  std::string leftover; ///< bytes that were not a complete response
};

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

/// Parses complete responses at the front of `buf` (Content-Length framed) into `statuses`.
void take_responses(std::string& buf, std::vector<int>& statuses) {
  for (;;) {
    const auto end = buf.find("\r\n\r\n");
    if (end == std::string::npos || !buf.starts_with("HTTP/1.1 ") || buf.size() < 12) return;
    std::size_t length = 0;
    const std::string head = buf.substr(0, end);
    if (const auto cl = head.find("\r\nContent-Length: "); cl != std::string::npos) {
      length = std::stoul(head.substr(cl + 18));
    }
    if (buf.size() < end + 4 + length) return;
    statuses.push_back(std::stoi(buf.substr(9, 3)));
    buf.erase(0, end + 4 + length);
  }
}

/// Sends `bytes` (the server may close before taking them all) and reads until the server
/// closes the connection or kRowTimeout passes without it.
Seen run_row(int port, const std::string& bytes) {
  Seen seen;
  const int fd = connect_to(port);
  std::size_t off = 0;
  std::string buf;
  if (bytes.empty()) ::shutdown(fd, SHUT_WR);  // a client that connects and leaves
  const auto deadline = Clock::now() + kRowTimeout;
  while (!seen.closed && Clock::now() < deadline) {
    pollfd p{fd, static_cast<short>(POLLIN | (off < bytes.size() ? POLLOUT : 0)), 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (::poll(&p, 1, static_cast<int>(std::max<long long>(left, 1))) <= 0) continue;
    if (p.revents & POLLIN) {
      char chunk[16384];
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        seen.closed = true;
      } else {
        buf.append(chunk, static_cast<std::size_t>(n));
        take_responses(buf, seen.statuses);
      }
    } else if (p.revents & (POLLERR | POLLHUP)) {
      seen.closed = true;
    } else if (p.revents & POLLOUT) {
      const ssize_t n = ::send(fd, bytes.data() + off, std::min<std::size_t>(bytes.size() - off, 65536), MSG_NOSIGNAL);
      if (n <= 0) {
        off = bytes.size();  // the server stopped reading (it answered and closed): read what it said
      } else {
        off += static_cast<std::size_t>(n);
      }
    }
  }
  seen.hung = !seen.closed;
  seen.leftover = buf;
  ::close(fd);
  return seen;
}

std::string describe(const std::vector<int>& statuses) {
  std::string out = "[";
  for (int s : statuses) out += (out.size() > 1 ? "," : "") + std::to_string(s);
  return out + "]";
}

const std::string kGood = "GET /pid HTTP/1.1\r\nHost: a\r\n\r\n";
const std::string kClose = "Connection: close\r\n";

std::string post_chunked(const std::string& chunks) {
  return "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks;
}

std::string get(const std::string& line, const std::string& headers = "Host: a\r\n") {
  return line + "\r\n" + headers + kClose + "\r\n";
}

std::string many_headers(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += "X-H" + std::to_string(i) + ": v\r\n";
  return out;
}

std::vector<Row> rows() {
  const std::string tls_hello = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"s + std::string(40, '\0');
  return {
      // Chunked bodies.
      {"chunk size not hex", post_chunked("zz\r\nhello\r\n0\r\n\r\n"), {400}},
      {"chunk size overflowing 64 bits", post_chunked("fffffffffffffffffff\r\nhello\r\n0\r\n\r\n"), {400}},
      {"chunk size negative", post_chunked("-5\r\nhello\r\n0\r\n\r\n"), {400}},
      {"chunk size beyond max_request_size, body never sent", post_chunked("ffffffffffff\r\nhello"), {413}},
      {"chunk extension with a control byte", post_chunked("5;\x01\r\nhello\r\n0\r\n\r\n"), {400}},
      {"chunk data longer than its size", post_chunked("5\r\nhelloXX\r\n0\r\n\r\n"), {400}},
      // Framing conflicts (request smuggling).
      {"Content-Length and Transfer-Encoding",
       "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {400}},
      {"Transfer-Encoding and Content-Length",
       "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", {400}},
      {"Transfer-Encoding without chunked last", "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc", {400}},
      {"Transfer-Encoding chunked then identity",
       "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", {400}},
      {"Transfer-Encoding with an unknown coding", "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
       {501}},
      {"duplicate differing Content-Length",
       "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", {400}},
      {"duplicate equal Content-Length", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
       {400}},
      {"Content-Length list", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello", {400}},
      {"Content-Length negative", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\nhello", {400}},
      {"Content-Length overflowing 64 bits", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\nx",
       {400}},
      {"Content-Length beyond max_request_size", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 9999999999999\r\n\r\nx", {413}},
      // Header sizes (http.max_header_size, 64 KiB by default).
      {"one 70 KB header line", get("GET /pid HTTP/1.1", "Host: a\r\nX-Big: " + std::string(70000, 'a') + "\r\n"), {431}},
      {"20000 headers", get("GET /pid HTTP/1.1", "Host: a\r\n" + many_headers(20000)), {431}},
      {"2000 headers (under the byte limit)", get("GET /pid HTTP/1.1", "Host: a\r\n" + many_headers(2000)), {200}},
      // NUL bytes.
      {"NUL in a header name", get("GET /pid HTTP/1.1", "Host: a\r\nX-A\0b: v\r\n"s), {400}},
      {"NUL in a header value", get("GET /pid HTTP/1.1", "Host: a\r\nX-A: v\0w\r\n"s), {400}},
      {"NUL in the URI", get("GET /a\0b HTTP/1.1"s), {400}},
      {"NUL in the method", get("G\0T /pid HTTP/1.1"s), {400}},
      // Methods.
      {"unknown method token", get("FOO /pid HTTP/1.1"), {501}},
      {"lower-case method", get("get /pid HTTP/1.1"), {501}},
      {"method with a non-token byte", get("G@T /pid HTTP/1.1"), {400}},
      {"method too long", get("GETTTTTTTTTTTTTTTTTTTTTTT /pid HTTP/1.1"), {501}},
      // Versions.
      {"HTTP/0.9 request line (no version)", "GET /pid\r\n\r\n", {400}},
      {"request line with a trailing space and no version", get("GET /pid "), {400}},
      {"HTTP/0.9 version", get("GET /pid HTTP/0.9"), {505}},
      {"HTTP/1.2", get("GET /pid HTTP/1.2"), {505}},
      {"HTTP/2.0 request line", get("GET /pid HTTP/2.0"), {505}},
      {"HTTP/3.0", get("GET /pid HTTP/3.0"), {505}},
      {"HTTP/2 connection preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"s, {505}},
      {"misspelt protocol", get("GET /pid HTTX/1.1"), {400}},
      // Request targets.
      {"100 KB URI", get("GET /" + std::string(100000, 'a') + " HTTP/1.1"), {431}},
      {"non-ASCII URI", get("GET /pid/\xc3\xa9\xff HTTP/1.1"), {200}},
      {"asterisk-form with GET", get("GET * HTTP/1.1"), {400}},
      {"asterisk-form with OPTIONS", get("OPTIONS * HTTP/1.1"), {200}},
      {"absolute-form with another host", get("GET http://evil.example/pid HTTP/1.1"), {200}},
      {"absolute-form https with port and query", get("GET https://evil.example:444/pid?x=1 HTTP/1.1"), {200}},
      {"authority-form with GET", get("GET evil.example:443 HTTP/1.1"), {400}},
      {"space inside the URI", get("GET /a b HTTP/1.1"), {400}},
      {"empty URI", get("GET  HTTP/1.1"), {400}},
      // Line endings and header syntax.
      {"bare LF line endings", "GET /pid HTTP/1.1\nHost: a\nConnection: close\n\n", {400}},
      {"bare CR line endings", "GET /pid HTTP/1.1\rHost: a\r\r", {400}},
      {"obs-fold continuation line (joined with a space, as Go does)", get("GET /pid HTTP/1.1", "Host: a\r\nX-A: one\r\n two\r\n"),
       {200}},
      {"whitespace before the colon", get("GET /pid HTTP/1.1", "Host: a\r\nX-A : v\r\n"), {400}},
      {"header line starting with a space", get("GET /pid HTTP/1.1", " Host: a\r\n"), {400}},
      {"header line without a colon", get("GET /pid HTTP/1.1", "Host: a\r\nNoColon\r\n"), {400}},
      // Host.
      {"HTTP/1.1 without Host", get("GET /pid HTTP/1.1", ""), {400}},
      {"HTTP/1.0 without Host", get("GET /pid HTTP/1.0", ""), {200}},
      {"two Host headers", get("GET /pid HTTP/1.1", "Host: a\r\nHost: b\r\n"), {400}},
      {"Host with a slash", get("GET /pid HTTP/1.1", "Host: a/b\r\n"), {400}},
      // Not HTTP at all, and garbage after a good request.
      {"TLS ClientHello on the plain port", tls_hello, {400}},
      {"binary garbage", "\xff\xfe\xfd\r\n\r\n", {400}},
      {"empty lines before the request line", "\r\n\r\n" + get("GET /pid HTTP/1.1"), {200}},
      {"pipelined garbage after a good request", kGood + "GARBAGE GARBAGE\r\n\r\n", {200, 400}},
      {"pipelined TLS bytes after a good request", kGood + tls_hello, {200, 400}},
      {"good request, then a bad chunk in the next", kGood + post_chunked("zz\r\n"), {200, 400}},
      {"connect and close without a byte", "", {}},
  };
}

}  // namespace

TEST_CASE("bad-input sweep: malformed HTTP gets its status or a close, never a hang or a crash", "[integration][bad_input]") {
  ServerProcess s(config_yaml(2));
  const auto table = rows();
  int passed = 0;
  for (const auto& row : table) {
    INFO("row: " << row.name);
    const auto t0 = Clock::now();
    const Seen seen = run_row(s.port(), row.bytes);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    INFO("answered " << describe(seen.statuses) << " closed=" << seen.closed << " after " << ms
                     << " ms; leftover: " << seen.leftover.substr(0, 120));
    const bool ok_row = !seen.hung && seen.closed && seen.statuses == row.statuses && seen.leftover.empty();
    CHECK_FALSE(seen.hung);
    CHECK(seen.statuses == row.statuses);
    CHECK(seen.leftover.empty());
    // The server is alive and serving a normal request on a fresh connection.
    const bool alive = ::kill(s.pid(), 0) == 0;
    CHECK(alive);
    const Response after = request(s.port(), "GET", "/pid");
    CHECK(after.status == 200);
    if (ok_row && alive && after.status == 200) ++passed;
  }
  std::printf("bad input sweep: %zu rows, %d passed%s\n", table.size(), passed,
              passed == static_cast<int>(table.size()) ? ", all passed" : "");
  CHECK(passed == static_cast<int>(table.size()));
  // No row made a worker die: the two workers spawned at start are the only ones.
  CHECK_FALSE(s.wait_log("event=worker_spawned", std::chrono::milliseconds(1), 3));
}
