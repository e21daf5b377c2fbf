#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <future>
#include <map>
#include <set>
#include <thread>

#include "tests/integration/config_template.hpp"
#include "tests/integration/harness.hpp"

using namespace pivot::test;
using Catch::Matchers::Contains;
using namespace std::chrono_literals;

TEST_CASE("workers get RoadRunner's environment and server.env", "[integration][pool]") {
  ServerProcess s(config_yaml(1));
  const Response r = request(s.port(), "GET", "/env");
  REQUIRE(r.status == 200);
  const auto j = nlohmann::json::parse(r.body);
  CHECK(j["RR_MODE"] == "http");
  CHECK(j["RR_RELAY"] == "pipes");
  CHECK_FALSE(j["RR_VERSION"].get<std::string>().empty());
  CHECK(j["APP_GREETING"] == "hello-env");
}

TEST_CASE("a worker that crashes mid-request gives 502, then the next request succeeds", "[integration][pool]") {
  ServerProcess s(config_yaml(1));
  const std::string before = request(s.port(), "GET", "/pid").body;
  const Response crashed = request(s.port(), "GET", "/crash");
  CHECK(crashed.status == 502);
  CHECK(s.wait_log("event=worker_ready", 10s, 2));
  const Response after = request(s.port(), "GET", "/pid");
  CHECK(after.status == 200);
  CHECK(after.body != before);
  CHECK_THAT(s.log(), Contains("exit_code=3"));
}

TEST_CASE("an ERROR frame gives 500 and the worker stays", "[integration][pool]") {
  ServerProcess s(config_yaml(1));
  const std::string pid = request(s.port(), "GET", "/pid").body;
  const Response r = request(s.port(), "GET", "/error");
  CHECK(r.status == 500);
  CHECK_THAT(r.body, !Contains("boom"));  // not in debug mode: the message stays in the log
  CHECK(s.wait_log("boom from the worker", 2s));
  CHECK(request(s.port(), "GET", "/pid").body == pid);
}

TEST_CASE("in debug mode the ERROR message is in the body", "[integration][pool]") {
  ServerProcess s(config_yaml(1, "    debug: true\n"), false);
  REQUIRE(s.wait_log("event=http_listening", 5s));
  const Response r = request(s.port(), "GET", "/error");
  CHECK(r.status == 500);
  CHECK_THAT(r.body, Contains("boom from the worker"));
}

TEST_CASE("one busy worker and a short allocate_timeout give 503", "[integration][pool]") {
  ServerProcess s(config_yaml(1, "    allocate_timeout: 300ms\n"));
  auto slow = std::async(std::launch::async, [&] { return request(s.port(), "GET", "/sleep?ms=1500"); });
  std::this_thread::sleep_for(200ms);
  const auto t0 = std::chrono::steady_clock::now();
  const Response r = request(s.port(), "GET", "/");
  const auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(r.status == 503);
  CHECK(r.header("retry-after") == "1");
  CHECK(waited >= 250ms);
  CHECK(slow.get().status == 200);
  CHECK(request(s.port(), "GET", "/").status == 200);
}

TEST_CASE("a waiting request gets the worker as soon as it is free", "[integration][pool]") {
  ServerProcess s(config_yaml(1, "    allocate_timeout: 5s\n"));
  auto slow = std::async(std::launch::async, [&] { return request(s.port(), "GET", "/sleep?ms=300"); });
  std::this_thread::sleep_for(100ms);
  const Response r = request(s.port(), "GET", "/pid");
  CHECK(r.status == 200);
  CHECK(slow.get().status == 200);
}

TEST_CASE("max_jobs: 3 rotates worker pids", "[integration][pool]") {
  ServerProcess s(config_yaml(1, "    max_jobs: 3\n"));
  std::map<std::string, int> uses;
  for (int i = 0; i < 9; ++i) {
    const Response r = request(s.port(), "GET", "/pid");
    REQUIRE(r.status == 200);
    ++uses[r.body];
  }
  CHECK(uses.size() == 3);  // 3 + 0..14 % jitter rounds down to exactly 3 jobs per worker
  for (const auto& [pid, n] : uses) CHECK(n == 3);
  CHECK(s.wait_log("reason=max_jobs", 5s, 2));
}

TEST_CASE("bytes on stdout that are not a frame: 502, worker replaced, first bytes logged", "[integration][pool]") {
  ServerProcess s(config_yaml(1));
  const Response r = request(s.port(), "GET", "/garbage");
  CHECK(r.status == 502);
  CHECK(s.wait_log("event=worker_protocol_error", 2s));
  const std::string log = s.log();
  CHECK_THAT(log, Contains("first_bytes=\"57 61 72 6e"));  // "Warn"
  CHECK_THAT(log, Contains("reason=protocol_error"));
  CHECK(s.wait_log("event=worker_ready", 10s, 2));
  CHECK(request(s.port(), "GET", "/").status == 200);
}

TEST_CASE("stray echo output goes to stderr, not into the protocol", "[integration][pool]") {
  ServerProcess s(config_yaml(1));
  const Response r = request(s.port(), "GET", "/stdout");
  CHECK(r.status == 200);
  CHECK(r.body == "survived echo");
  CHECK(s.wait_log("stray echo output", 2s));
}

TEST_CASE("worker stderr is logged line by line with the pid", "[integration][pool]") {
  ServerProcess s(config_yaml(1));
  const std::string pid = request(s.port(), "GET", "/pid").body;
  CHECK(request(s.port(), "GET", "/stderr").status == 200);
  CHECK(s.wait_log("line=\"second stderr line\"", 2s));
  const std::string log = s.log();
  CHECK_THAT(log, Contains("event=worker_stderr pid=" + pid + " line=\"first stderr line\""));
  CHECK_THAT(log, Contains("event=worker_stderr pid=" + pid + " line=\"second stderr line\""));
}

TEST_CASE("a worker asking to stop is replaced and the request is retried on another worker", "[integration][pool]") {
  ServerProcess s(config_yaml(2));
  char marker[] = "/tmp/pivot-stop-XXXXXX";
  const int fd = ::mkstemp(marker);
  ::close(fd);
  ::unlink(marker);
  const Response r = request(s.port(), "GET", std::string("/stop?marker=") + marker);
  CHECK(r.status == 200);
  CHECK_THAT(r.body, Contains("answered by"));
  CHECK(s.wait_log("event=worker_stop_requested", 2s));
  CHECK(s.wait_log("reason=worker_requested", 5s));
  ::unlink(marker);
}

TEST_CASE("a worker that fails at boot is retried with backoff, never a spin", "[integration][pool]") {
  ServerProcess s(config_yaml(1, "    allocate_timeout: 300ms\n", "failboot.php"), false);
  REQUIRE(s.wait_log("event=worker_boot_failed", 5s));
  const Response r = request(s.port(), "GET", "/");
  CHECK(r.status == 503);
  std::this_thread::sleep_for(1500ms);
  const std::string log = s.log();
  int failures = 0;
  for (std::size_t p = log.find("event=worker_boot_failed"); p != std::string::npos; p = log.find("event=worker_boot_failed", p + 1)) ++failures;
  CHECK(failures >= 2);
  CHECK(failures <= 12);  // 100 ms, 200 ms, 400 ms, ... never hundreds
  CHECK_THAT(log, Contains("cannot connect to its database"));
  CHECK_THAT(log, Contains("exit_code=255"));
}

TEST_CASE("SIGTERM lets an in-flight request finish, then stops every worker", "[integration][pool]") {
  auto s = std::make_unique<ServerProcess>(config_yaml(2, "    destroy_timeout: 10s\n"));
  const auto workers = s->children();
  REQUIRE(workers.size() == 2);
  auto slow = std::async(std::launch::async, [&] { return request(s->port(), "GET", "/sleep?ms=1000"); });
  std::this_thread::sleep_for(300ms);
  const int code = s->stop(SIGTERM, 15s);
  const Response r = slow.get();
  CHECK(r.status == 200);
  CHECK_THAT(r.body, Contains("slept"));
  CHECK(code == 0);
  for (pid_t w : workers) CHECK(::kill(w, 0) != 0);  // gone
  CHECK_THAT(s->log(), Contains("event=shutdown_complete"));
}

TEST_CASE("new connections are refused after SIGTERM while in-flight work drains", "[integration][pool]") {
  auto s = std::make_unique<ServerProcess>(config_yaml(1, "    destroy_timeout: 10s\n"));
  auto slow = std::async(std::launch::async, [&] { return request(s->port(), "GET", "/sleep?ms=800"); });
  std::this_thread::sleep_for(200ms);
  ::kill(s->pid(), SIGTERM);
  std::this_thread::sleep_for(200ms);
  bool refused = false;
  try {
    Connection c(s->port());
  } catch (const std::exception&) {
    refused = true;
  }
  CHECK(refused);
  CHECK(slow.get().status == 200);
  CHECK(s->stop(SIGTERM, 15s) == 0);
}

TEST_CASE("debug mode boots a fresh worker for every request, none in advance", "[integration][pool]") {
  ServerProcess s(config_yaml(3, "    debug: true\n"), false);
  REQUIRE(s.wait_log("event=http_listening", 5s));
  std::this_thread::sleep_for(300ms);
  CHECK(s.children().empty());  // no warm workers
  std::set<std::string> pids;
  for (int i = 0; i < 3; ++i) {
    const Response r = request(s.port(), "GET", "/pid");
    CHECK(r.status == 200);
    pids.insert(r.body);
  }
  CHECK(pids.size() == 3);
}
