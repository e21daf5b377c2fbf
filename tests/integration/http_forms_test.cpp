// The request side of issue #4 against the real binary and real php: server-parsed forms,
// streamed uploads, limits with their statuses, timeouts, max_connections, the access log,
// X-Request-Id and trusted proxies.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/integration/harness.hpp"

using namespace pivot::test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

/// A config for the fixture app with `http_extra` lines under `http:` (indented two spaces).
std::string forms_yaml(const std::string& http_extra, const std::string& logs_extra = "", int workers = 1) {
  return "version: \"3\"\n"
         "server:\n"
         "  command: \"php {{WORKERS}}/app.php\"\n"
         "http:\n"
         "  address: 127.0.0.1:{{PORT}}\n" +
         http_extra +
         "  pool:\n"
         "    num_workers: " + std::to_string(workers) + "\n"
         "logs:\n"
         "  level: debug\n" + logs_extra;
}

/// A fresh directory (uploads dir, test files), removed at the end.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/pivot-forms-it-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::size_t files() const {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(path), std::filesystem::directory_iterator{}));
  }
  /// Polls until the directory is empty (temp files go right after the response is written).
  bool wait_empty(std::chrono::milliseconds timeout = std::chrono::seconds(3)) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (files() != 0) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }
  std::string write(const std::string& name, const std::string& data) const {
    const std::string p = path + "/" + name;
    std::ofstream(p, std::ios::binary) << data;
    return p;
  }
};

std::string url(const ServerProcess& s, const std::string& path) { return "http://127.0.0.1:" + std::to_string(s.port()) + path; }

std::string md5_of(const std::string& file) {
  const std::string out = run_command("md5sum '" + file + "'");
  return out.substr(0, 32);
}

/// curl with -sS; returns the body and fails the test when curl fails.
nlohmann::json curl_json(const std::string& args) {
  int st = 0;
  const std::string out = run_command("curl -sS --max-time 120 " + args, &st);
  INFO("curl " << args << "\n" << out);
  REQUIRE(st == 0);
  return nlohmann::json::parse(out);
}

long vm_hwm_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

/// A bare socket for the cases Connection cannot express (has anything arrived yet?).
class RawClient {
 public:
  explicit RawClient(int port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() { close(); }
  bool connected() const { return connected_; }
  void send(const std::string& s) { (void)::send(fd_, s.data(), s.size(), MSG_NOSIGNAL); }
  /// Bytes received within `timeout` ("" when nothing came).
  std::string read(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return "";
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  bool connected_ = false;
};

}  // namespace

TEST_CASE("urlencoded forms become RoadRunner's JSON tree with parsed: true", "[integration][forms]") {
  ServerProcess s(forms_yaml(""));
  const Response r = request(s.port(), "POST", "/upload", "a[b][c]=1&b[]=x&b[]=y&c=1&c=2&d%20e=f&x[a][]=1&x[a][]=2&e=",
                             {"Content-Type: application/x-www-form-urlencoded"});
  REQUIRE(r.status == 200);
  const auto j = nlohmann::json::parse(r.body);
  CHECK(j["parsed"] == true);
  CHECK(j["form"] == nlohmann::json::parse(R"({"a":{"b":{"c":"1"}},"b":["x","y"],"c":"2","de":"f","x":{"a":["1","2"]},"e":""})"));
  CHECK(j["uploads"].empty());

  // An empty form is an empty body; PHP still sees parsed: true.
  const auto empty = nlohmann::json::parse(request(s.port(), "POST", "/upload", "", {"Content-Type: application/x-www-form-urlencoded"}).body);
  CHECK(empty["parsed"] == true);
  CHECK(empty["form"].empty());

  // HEAD and OPTIONS send no body to PHP and are never parsed.
  const auto opt = nlohmann::json::parse(request(s.port(), "OPTIONS", "/upload", "a=1", {"Content-Type: application/x-www-form-urlencoded"}).body);
  CHECK(opt["parsed"] == false);
  CHECK(opt["body"] == "");

  // JSON bodies stay raw.
  const auto raw = nlohmann::json::parse(request(s.port(), "POST", "/upload", R"({"a":1})", {"Content-Type: application/json"}).body);
  CHECK(raw["parsed"] == false);
  CHECK(raw["body"] == R"({"a":1})");
}

TEST_CASE("a leaf/branch conflict is a 500 and event=bad_form; the connection stays usable", "[integration][forms]") {
  ServerProcess s(forms_yaml(""));
  Connection c(s.port());
  c.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\na=1&a[b]=2");
  const Response bad = c.read_response();
  CHECK(bad.status == 500);
  CHECK(s.wait_log("event=bad_form", std::chrono::seconds(2)));
  CHECK_THAT(s.log(), Contains("invalid multiple values to key 'a' in tree"));
  c.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\n\r\na%zz1");
  CHECK(c.read_response().status == 400);
  c.send("GET /upload HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(c.read_response().status == 200);
}

TEST_CASE("multipart forms: nested fields, file arrays, first file of a repeated key", "[integration][forms]") {
  TempDir up;
  TempDir src;
  ServerProcess s(forms_yaml("  uploads:\n    dir: " + up.path + "\n"));
  const std::string a = src.write("a.txt", "alpha\n");
  const std::string b = src.write("b.txt", std::string(70000, 'b'));
  const auto j = curl_json("-F 'user[name]=bob' -F 'user[tags][]=x' -F 'user[tags][]=y' -F 'docs[]=@" + a + "' -F 'docs[]=@" + b +
                           ";type=text/x-b' -F 'one=@" + a + "' -F 'one=@" + b + "' " + url(s, "/upload"));
  CHECK(j["parsed"] == true);
  CHECK(j["form"] == nlohmann::json::parse(R"({"user":{"name":"bob","tags":["x","y"]}})"));
  const auto& docs = j["uploads"]["docs"];
  REQUIRE(docs.size() == 2);
  CHECK(docs[0]["name"] == "a.txt");
  CHECK(docs[0]["mime"] == "text/plain");
  CHECK(docs[0]["size"] == 6);
  CHECK(docs[0]["error"] == 0);
  CHECK(docs[0]["exists"] == true);
  CHECK(docs[0]["perms"] == "600");
  CHECK(docs[0]["md5"] == md5_of(a));
  CHECK_THAT(docs[0]["tmpName"].get<std::string>(), StartsWith(up.path + "/upload"));
  CHECK(docs[1]["mime"] == "text/x-b");
  CHECK(docs[1]["md5"] == md5_of(b));
  CHECK(j["uploads"]["one"]["name"] == "a.txt");  // a plain repeated file key keeps the first
  CHECK(up.wait_empty());
}

TEST_CASE("three files: forbidden extension, over max_file_size, fine; the uploads dir is empty afterwards", "[integration][forms]") {
  TempDir up;
  TempDir src;
  ServerProcess s(forms_yaml("  uploads:\n    dir: " + up.path + "\n    max_file_size: 1\n"));
  const std::string evil = src.write("evil.PHP", "<?php echo 'owned';");
  const std::string big = src.write("big.bin", std::string(2 * 1024 * 1024, 'B'));
  const std::string fine = src.write("fine.txt", "just fine\n");
  const auto j = curl_json("-F 'f1=@" + evil + "' -F 'f2=@" + big + "' -F 'f3=@" + fine + "' " + url(s, "/upload"));
  const auto& u = j["uploads"];
  CHECK(u["f1"]["error"] == 8);
  CHECK(u["f1"]["name"] == "evil.PHP");
  CHECK(u["f1"]["tmpName"] == "");
  CHECK(u["f2"]["error"] == 1);
  CHECK(u["f2"]["size"] == 0);
  CHECK(u["f2"]["exists"] == false);
  CHECK(u["f3"]["error"] == 0);
  CHECK(u["f3"]["size"] == 10);
  CHECK(u["f3"]["md5"] == md5_of(fine));
  CHECK(up.wait_empty());
}

TEST_CASE("uploads are removed when the worker crashes or the client leaves mid-upload", "[integration][forms]") {
  TempDir up;
  TempDir src;
  ServerProcess s(forms_yaml("  uploads:\n    dir: " + up.path + "\n"));
  const std::string f = src.write("f.txt", std::string(100000, 'f'));
  int st = 0;
  const std::string code = run_command("curl -s -o /dev/null -w '%{http_code}' -F 'f=@" + f + "' " + url(s, "/crash"), &st);
  CHECK(code == "502");
  CHECK(up.wait_empty());

  {
    Connection c(s.port());
    c.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=QQ\r\nContent-Length: 1000000\r\n\r\n"
           "--QQ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"half.txt\"\r\n\r\n" +
           std::string(300000, 'h'));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (up.files() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    CHECK(up.files() == 1);  // streamed to disk while the body arrives
  }  // the client goes away
  CHECK(up.wait_empty());
  CHECK(request(s.port(), "GET", "/").status == 200);
}

TEST_CASE("raw_body: true passes forms through unparsed", "[integration][forms]") {
  ServerProcess s(forms_yaml("  raw_body: true\n"));
  const auto j = curl_json("-F 'a=1' " + url(s, "/upload"));
  CHECK(j["parsed"] == false);
  CHECK_THAT(j["body"].get<std::string>(), Contains("name=\"a\""));
  CHECK(j["uploads"].empty());
  const auto u = nlohmann::json::parse(request(s.port(), "POST", "/upload", "a[b]=1", {"Content-Type: application/x-www-form-urlencoded"}).body);
  CHECK(u["parsed"] == false);
  CHECK(u["body"] == "a[b]=1");
}

TEST_CASE("a 200 MB upload streams to disk: server RSS stays under 50 MB and the temp file is gone", "[integration][forms][big]") {
  TempDir up;
  const std::string file = "/tmp/pivot-forms-200m.bin";
  if (!std::filesystem::exists(file) || std::filesystem::file_size(file) != 200ULL * 1024 * 1024) {
    run_command("head -c 200M /dev/urandom > " + file);
  }
  REQUIRE(std::filesystem::file_size(file) == 200ULL * 1024 * 1024);
  ServerProcess s(forms_yaml("  uploads:\n    dir: " + up.path + "\n"));
  const auto j = curl_json("-F 'video=@" + file + "' " + url(s, "/upload"));
  const long hwm = vm_hwm_kb(s.pid());
  std::filesystem::remove(file);
  const auto& v = j["uploads"]["video"];
  CHECK(v["error"] == 0);
  CHECK(v["size"] == 200ULL * 1024 * 1024);
  CHECK(v["exists"] == true);
  CHECK(v["md5"].is_string());
  WARN("server VmHWM after a 200 MB upload: " << hwm << " kB");
  REQUIRE(hwm > 0);
#if defined(__SANITIZE_ADDRESS__)
  // ASan's shadow memory and quarantine inflate RSS; the bound holds for normal builds.
  CHECK(hwm < 400 * 1024);
#else
  CHECK(hwm < 50 * 1024);
#endif
  CHECK(up.wait_empty());
}

TEST_CASE("413 from Content-Length before the body, and while reading a chunked body", "[integration][limits]") {
  TempDir up;
  ServerProcess s(forms_yaml("  max_request_size: 1\n  uploads:\n    dir: " + up.path + "\n"));
  {
    Connection c(s.port());
    // Only the headers: the answer must come without the body being sent.
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n");
    const Response r = c.read_response();
    CHECK(r.status == 413);
    CHECK(r.header("connection") == "close");
  }
  CHECK(s.wait_log("status=413 reason=\"Content-Length exceeds http.max_request_size\"", std::chrono::seconds(2)));
  {
    Connection c(s.port());
    std::string req = "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                      "Content-Type: multipart/form-data; boundary=QQ\r\n\r\n";
    const std::string head = "--QQ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.txt\"\r\n\r\n";
    char size[16];
    std::snprintf(size, sizeof size, "%zx", head.size());
    req += std::string(size) + "\r\n" + head + "\r\n";
    for (int i = 0; i < 3; ++i) req += "80000\r\n" + std::string(0x80000, 'c') + "\r\n";  // 1.5 MB
    try {
      c.send(req);
    } catch (const std::exception&) {
      // The server may stop reading once it has answered.
    }
    CHECK(c.read_response().status == 413);
  }
  CHECK(s.wait_log("status=413 reason=\"body exceeds http.max_request_size\"", std::chrono::seconds(2)));
  CHECK(up.wait_empty());  // the partial upload was removed
}

TEST_CASE("431 for a header block over max_header_size", "[integration][limits]") {
  ServerProcess s(forms_yaml("  max_header_size: 2048\n"));
  Connection c(s.port());
  c.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'h') + "\r\n\r\n");
  CHECK(c.read_response().status == 431);
  CHECK(s.wait_log("status=431", std::chrono::seconds(2)));
  CHECK(request(s.port(), "GET", "/", "", {"X-Small: " + std::string(1000, 's')}).status == 200);
}

TEST_CASE("read_header_timeout: 408 for a slowloris header; silent close for a silent connection", "[integration][limits]") {
  ServerProcess s(forms_yaml("  read_header_timeout: 300ms\n  read_timeout: 300ms\n"));
  {
    Connection c(s.port());
    c.send("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    c.send("a");  // trickling bytes does not extend the header deadline
    const Response r = c.read_response();
    CHECK(r.status == 408);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
    CHECK(c.closed_by_peer(std::chrono::seconds(3)));
  }
  CHECK(s.wait_log("status=408 reason=\"request line and headers not complete within http.read_header_timeout (300ms)\"",
                   std::chrono::seconds(2)));
  {
    RawClient c(s.port());
    REQUIRE(c.connected());
    CHECK(c.read(std::chrono::seconds(3)).empty());  // closed without a response
  }
  {
    Connection c(s.port());
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    CHECK(c.read_response().status == 408);
  }
  CHECK(s.wait_log("reason=\"request body stalled longer than http.read_timeout (300ms)\"", std::chrono::seconds(2)));
  CHECK(request(s.port(), "GET", "/").status == 200);
}

TEST_CASE("idle keep-alive connections are closed silently after idle_timeout", "[integration][limits]") {
  ServerProcess s(forms_yaml("  idle_timeout: 300ms\n"));
  Connection c(s.port());
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(c.read_response().status == 200);
  CHECK_FALSE(c.closed_by_peer(std::chrono::milliseconds(100)));
  CHECK(c.closed_by_peer(std::chrono::seconds(3)));
}

TEST_CASE("write_timeout closes a connection whose client does not read", "[integration][limits]") {
  ServerProcess s(forms_yaml("  write_timeout: 300ms\n"));
  RawClient c(s.port());
  REQUIRE(c.connected());
  c.send("GET /big?bytes=33554432 HTTP/1.1\r\nHost: x\r\n\r\n");  // 32 MB never read
  CHECK(s.wait_log("event=write_timeout", std::chrono::seconds(10)));
  CHECK(request(s.port(), "GET", "/").status == 200);
}

TEST_CASE("max_connections: accepting pauses at the limit and resumes when a session ends", "[integration][limits]") {
  ServerProcess s(forms_yaml("  max_connections: 2\n"));
  std::optional<Connection> a;
  a.emplace(s.port());
  Connection b(s.port());
  a->send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(a->read_response().status == 200);
  b.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(b.read_response().status == 200);
  RawClient third(s.port());  // the kernel completes the handshake; we do not accept it
  REQUIRE(third.connected());
  third.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(third.read(std::chrono::milliseconds(500)).empty());
  CHECK(s.wait_log("event=accept_paused reason=max_connections limit=2", std::chrono::seconds(2)));
  a.reset();  // one session ends
  const std::string answer = third.read(std::chrono::seconds(3));
  CHECK_THAT(answer, StartsWith("HTTP/1.1 200 OK"));
}

TEST_CASE("X-Request-Id is generated, passed to PHP and returned; a client's is kept", "[integration][request_id]") {
  ServerProcess s(forms_yaml(""));
  const Response r = request(s.port(), "GET", "/echo");
  REQUIRE(r.status == 200);
  const std::string id = r.header("x-request-id");
  CHECK(std::regex_match(id, std::regex("[0-9a-f]{32}")));
  CHECK(nlohmann::json::parse(r.body)["headers"]["X-Request-Id"] == nlohmann::json::array({id}));
  CHECK(request(s.port(), "GET", "/echo").header("x-request-id") != id);

  const Response mine = request(s.port(), "GET", "/echo", "", {"X-Request-Id: trace-42.abc"});
  CHECK(mine.header("x-request-id") == "trace-42.abc");
  CHECK(nlohmann::json::parse(mine.body)["headers"]["X-Request-Id"] == nlohmann::json::array({"trace-42.abc"}));

  const Response too_long = request(s.port(), "GET", "/echo", "", {"X-Request-Id: " + std::string(201, 'a')});
  const std::string replaced = too_long.header("x-request-id");
  CHECK(std::regex_match(replaced, std::regex("[0-9a-f]{32}")));
  CHECK(nlohmann::json::parse(too_long.body)["headers"]["X-Request-Id"] == nlohmann::json::array({replaced}));

  // Error responses carry one too.
  Connection c(s.port());
  c.send("NOT HTTP\r\n\r\n");
  CHECK(std::regex_match(c.read_response().header("x-request-id"), std::regex("[0-9a-f]{32}")));
}

TEST_CASE("access log lines in key=value", "[integration][access_log]") {
  ServerProcess s(forms_yaml("  access_logs: true\n"));
  const Response r = request(s.port(), "GET", "/echo?secret=1", "", {"X-Request-Id: abc-1"});
  REQUIRE(r.status == 200);
  const std::string pid_text = request(s.port(), "GET", "/pid").body;
  REQUIRE(s.wait_log("logger=access", std::chrono::seconds(2), 2));
  const std::regex line(
      R"(level=info logger=access event=access remote="127\.0\.0\.1" method="GET" path="/echo" status=200 bytes_sent=(\d+) duration_ms=(\d+\.\d+) request_id="abc-1" pid=(\d+))");
  std::smatch m;
  const std::string log = s.log();
  REQUIRE(std::regex_search(log, m, line));
  CHECK(std::stoul(m[1]) == r.body.size());
  CHECK(std::stod(m[2]) >= 0.0);
  CHECK(m[3] == pid_text);
  CHECK(log.find("secret=1") == std::string::npos);  // the query string is not logged
}

TEST_CASE("access log lines in JSON", "[integration][access_log]") {
  ServerProcess s(forms_yaml("  access_logs: true\n", "  encoding: json\n"));
  REQUIRE(request(s.port(), "POST", "/status?code=201", "x=1", {"Content-Type: application/x-www-form-urlencoded"}).status == 201);
  Connection c(s.port());
  c.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70000, 'h') + "\r\n\r\n");
  REQUIRE(c.read_response().status == 431);
  REQUIRE(s.wait_log("\"logger\":\"access\"", std::chrono::seconds(2), 2));
  std::vector<nlohmann::json> lines;
  std::istringstream in(s.log());
  for (std::string l; std::getline(in, l);) {
    const auto j = nlohmann::json::parse(l);  // every line is JSON
    if (j["logger"] == "access") lines.push_back(j);
  }
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["event"] == "access");
  CHECK(lines[0]["method"] == "POST");
  CHECK(lines[0]["path"] == "/status");
  CHECK(lines[0]["status"] == 201);
  CHECK(lines[0]["bytes_sent"] == 6);
  CHECK(lines[0]["remote"] == "127.0.0.1");
  CHECK(lines[0]["duration_ms"].is_number());
  CHECK(lines[0]["pid"].get<int>() > 0);
  CHECK(lines[0]["request_id"].get<std::string>().size() == 32);
  CHECK(lines[1]["status"] == 431);
  CHECK(lines[1]["pid"] == 0);
}

TEST_CASE("X-Forwarded-For from an untrusted peer is ignored", "[integration][proxies]") {
  ServerProcess s(forms_yaml("  trusted_subnets: [\"10.0.0.0/8\"]\n"));
  const auto j = nlohmann::json::parse(
      request(s.port(), "GET", "/echo", "", {"X-Forwarded-For: 1.2.3.4", "X-Real-IP: 5.6.7.8", "X-Forwarded-Proto: https"}).body);
  CHECK(j["remoteAddr"] == "127.0.0.1");
  CHECK_THAT(j["uri"].get<std::string>(), StartsWith("http://"));
  // Default: nobody is trusted.
  ServerProcess d(forms_yaml(""));
  CHECK(nlohmann::json::parse(request(d.port(), "GET", "/echo", "", {"X-Forwarded-For: 1.2.3.4"}).body)["remoteAddr"] == "127.0.0.1");
}

TEST_CASE("X-Forwarded-For, X-Real-IP and X-Forwarded-Proto from a trusted peer are honoured", "[integration][proxies]") {
  ServerProcess s(forms_yaml("  access_logs: true\n  trusted_subnets: [\"127.0.0.0/8\"]\n"));
  auto echo = [&](std::vector<std::string> headers) {
    return nlohmann::json::parse(request(s.port(), "GET", "/echo", "", headers).body);
  };
  CHECK(echo({"X-Forwarded-For: 1.2.3.4"})["remoteAddr"] == "1.2.3.4");
  CHECK(echo({"X-Forwarded-For: 6.6.6.6, 10.0.0.1, 127.0.0.2"})["remoteAddr"] == "10.0.0.1");
  CHECK(echo({"X-Real-IP: 9.9.9.9"})["remoteAddr"] == "9.9.9.9");
  CHECK(echo({"X-Forwarded-For: not-an-ip"})["remoteAddr"] == "127.0.0.1");
  const auto https = echo({"X-Forwarded-Proto: https"});
  CHECK(https["uri"] == "https://127.0.0.1:" + std::to_string(s.port()) + "/echo");
  CHECK(s.wait_log("remote=\"1.2.3.4\"", std::chrono::seconds(2)));  // the access log shows the client
}
