// The supervisor, rolling reset and health endpoints against the real binary and real PHP workers:
// one fixture per failure mode (tests/integration/workers/).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <future>
#include <regex>
#include <set>
#include <thread>

#include "tests/integration/config_template.hpp"
#include "tests/integration/harness.hpp"

using namespace pivot::test;
using Catch::Matchers::Contains;
using namespace std::chrono_literals;

namespace {

/// A config for `script` with its own env lines, pool lines and extra top-level sections.
std::string yaml_for(const std::string& script, int workers, const std::string& pool_extra, const std::string& env = "",
                     const std::string& top_extra = "") {
  return "version: \"3\"\n"
         "server:\n"
         "  command: \"php {{WORKERS}}/" + script + "\"\n" +
         (env.empty() ? std::string() : "  env:\n" + env) +
         "http:\n"
         "  address: 127.0.0.1:{{PORT}}\n"
         "  pool:\n"
         "    num_workers: " + std::to_string(workers) + "\n" + pool_extra +
         "logs:\n"
         "  level: debug\n" + top_extra;
}

std::string status_section(int port) { return "status:\n  address: 127.0.0.1:" + std::to_string(port) + "\n"; }

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

int count_of(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

std::string temp_marker(const char* name) {
  return "/tmp/pivot-it-" + std::string(name) + "-" + std::to_string(::getpid());
}

}  // namespace

TEST_CASE("exec_ttl: a request over the deadline gets 504 and the worker is killed and replaced", "[integration][supervisor]") {
  ServerProcess s(config_yaml(1, "    supervisor:\n      exec_ttl: 500ms\n"));
  const std::string before = request(s.port(), "GET", "/pid").body;
  const auto t0 = std::chrono::steady_clock::now();
  const Response r = request(s.port(), "GET", "/sleep?ms=5000");
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(r.status == 504);
  CHECK(took < 3s);
  CHECK(s.wait_log("event=exec_ttl_expired", 2s));
  CHECK(s.wait_log("reason=exec_ttl", 2s));
  CHECK(s.wait_log("event=worker_ready", 10s, 2));
  const Response after = request(s.port(), "GET", "/pid");
  CHECK(after.status == 200);
  CHECK(after.body != before);
  // A fast request on the new worker is not affected by the deadline.
  CHECK(request(s.port(), "GET", "/sleep?ms=50").status == 200);
}

TEST_CASE("max_worker_memory: a worker over the limit finishes its request, then is replaced", "[integration][supervisor]") {
  ServerProcess s(config_yaml(1, "    supervisor:\n      watch_tick: 100ms\n      max_worker_memory: 48\n"));
  const std::string before = request(s.port(), "GET", "/pid").body;
  // The tick sees the leak while the request is still running: it must not be cut short.
  const Response r = request(s.port(), "GET", "/leak?mb=80&sleep_ms=600");
  CHECK(r.status == 200);
  CHECK_THAT(r.body, Contains("leaked by " + before));
  CHECK(s.wait_log("action=retire_after_request", 3s));
  CHECK(s.wait_log("reason=max_worker_memory", 3s));
  CHECK(s.wait_log("event=worker_ready", 10s, 2));
  const Response after = request(s.port(), "GET", "/pid");
  CHECK(after.status == 200);
  CHECK(after.body != before);
  CHECK_THAT(s.log(), Contains("limit_mib=48"));
}

TEST_CASE("max_worker_memory: an idle worker over the limit is retired at once", "[integration][supervisor]") {
  ServerProcess s(config_yaml(1, "    supervisor:\n      watch_tick: 100ms\n      max_worker_memory: 48\n"));
  const std::string before = request(s.port(), "GET", "/pid").body;
  CHECK(request(s.port(), "GET", "/leak?mb=80").status == 200);
  CHECK(s.wait_log("reason=max_worker_memory", 3s));
  CHECK(s.wait_log("event=worker_ready", 10s, 2));
  CHECK(request(s.port(), "GET", "/pid").body != before);
}

TEST_CASE("ttl retires workers by age", "[integration][supervisor]") {
  ServerProcess s(config_yaml(1, "    supervisor:\n      watch_tick: 100ms\n      ttl: 1s\n"));
  const std::string before = request(s.port(), "GET", "/pid").body;
  CHECK(s.wait_log("reason=ttl", 4s));
  CHECK(s.wait_log("event=worker_ready", 10s, 2));
  CHECK(eventually([&] { return request(s.port(), "GET", "/pid").body != before; }, 5s));
}

TEST_CASE("idle_ttl retires used workers that sit idle, never fresh ones", "[integration][supervisor]") {
  ServerProcess s(config_yaml(2, "    supervisor:\n      watch_tick: 100ms\n      idle_ttl: 1s\n"));
  const std::string before = request(s.port(), "GET", "/pid").body;
  CHECK(s.wait_log("reason=idle_ttl", 4s));
  std::this_thread::sleep_for(1500ms);
  // Only the worker that served a request was retired; the unused one and its replacement stay.
  CHECK(count_of(s.log(), "reason=idle_ttl idle_ttl_ms=1000 action=retire") == 1);
  CHECK(request(s.port(), "GET", "/pid").body != before);
}

TEST_CASE("max_queue_size: a full queue answers 503 with Retry-After at once", "[integration][supervisor]") {
  ServerProcess s(config_yaml(1, "    max_queue_size: 1\n    allocate_timeout: 20s\n"));
  auto busy = std::async(std::launch::async, [&] { return request(s.port(), "GET", "/sleep?ms=1500"); });
  std::this_thread::sleep_for(300ms);
  auto queued = std::async(std::launch::async, [&] { return request(s.port(), "GET", "/pid"); });
  std::this_thread::sleep_for(300ms);
  const auto t0 = std::chrono::steady_clock::now();
  const Response rejected = request(s.port(), "GET", "/pid");
  CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
  CHECK(rejected.status == 503);
  CHECK(rejected.header("retry-after") == "1");
  CHECK(busy.get().status == 200);
  CHECK(queued.get().status == 200);  // the queued one is served, not dropped
  CHECK(s.wait_log("outcome=queue_full", 2s));
}

TEST_CASE("max_jobs gets 0-14% jitter per worker", "[integration][supervisor]") {
  ServerProcess s(config_yaml(8, "    max_jobs: 100\n"));
  REQUIRE(s.wait_log("event=worker_ready", 15s, 8));
  const std::string log = s.log();
  const std::regex re("event=worker_ready pool=http pid=\\d+ max_jobs=(\\d+)");
  std::set<int> limits;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it) {
    const int v = std::stoi((*it)[1]);
    CHECK(v >= 100);
    CHECK(v <= 114);
    limits.insert(v);
  }
  CHECK(limits.size() >= 2);  // eight equal draws out of 15 values: about 6e-9
}

TEST_CASE("a worker slower to boot than allocate_timeout is killed and reported", "[integration][supervisor]") {
  ServerProcess s(yaml_for("slowboot.php", 1, "    allocate_timeout: 300ms\n", "    SLOW_BOOT_MS: \"2000\"\n"), false);
  CHECK(s.wait_log("no handshake within allocate_timeout", 5s));
  CHECK(s.wait_log("signal=9", 5s));
  CHECK_THAT(s.log(), Contains("consecutive_failures="));
}

TEST_CASE("a slow but bounded boot is waited for", "[integration][supervisor]") {
  ServerProcess s(yaml_for("slowboot.php", 1, "    allocate_timeout: 5s\n", "    SLOW_BOOT_MS: \"700\"\n"));
  CHECK_THAT(request(s.port(), "GET", "/").body, Contains("booted slowly"));
}

TEST_CASE("boot failures back off, /health says 503, and recover when the code is fixed", "[integration][supervisor][status]") {
  const std::string marker = temp_marker("bootswitch");
  std::FILE* f = std::fopen(marker.c_str(), "w");
  REQUIRE(f);
  std::fclose(f);
  const int sport = free_port();
  ServerProcess s(yaml_for("bootswitch.php", 1, "    allocate_timeout: 2s\n", "    BOOT_FAIL_MARKER: \"" + marker + "\"\n",
                           status_section(sport)),
                  false);
  REQUIRE(s.wait_log("consecutive_failures=3", 10s));
  CHECK_THAT(s.log(), Contains("broken on purpose"));  // the stderr tail is in the report
  CHECK_THAT(s.log(), Contains("exit_code=255"));
  const Response h = request(sport, "GET", "/health?plugin=http");
  CHECK(h.status == 503);
  CHECK(nlohmann::json::parse(h.body)["http"]["ready"] == 0);
  CHECK(request(s.port(), "GET", "/").status == 503);
  // Backoff: 100, 200, 400 ms ... between attempts, never a spin.
  std::this_thread::sleep_for(1s);
  CHECK(count_of(s.log(), "event=worker_boot_failed") < 10);

  std::remove(marker.c_str());
  CHECK(eventually([&] { return request(sport, "GET", "/health?plugin=http").status == 200; }, 10s));
  CHECK(request(s.port(), "GET", "/").status == 200);
  CHECK(request(sport, "GET", "/ready?plugin=http").status == 200);
}

TEST_CASE("/health and /ready report per plugin as JSON", "[integration][status]") {
  const int sport = free_port();
  ServerProcess s(config_yaml(2, "", "app.php", status_section(sport)));
  REQUIRE(eventually([&] { return request(sport, "GET", "/ready").status == 200; }, 5s));
  REQUIRE(s.wait_log("event=worker_ready", 10s, 2));
  const Response h = request(sport, "GET", "/health?plugin=http");
  CHECK(h.status == 200);
  CHECK(h.header("content-type") == "application/json");
  const auto j = nlohmann::json::parse(h.body);
  CHECK(j["http"]["status"] == 200);
  CHECK(j["http"]["ready"].get<int>() + j["http"]["working"].get<int>() == 2);
  CHECK(j["http"]["desired"] == 2);
  CHECK(request(sport, "GET", "/health?plugin=nosuch").status == 404);
  CHECK(request(sport, "GET", "/elsewhere").status == 404);
}

TEST_CASE("SIGTERM makes /ready fail first while in-flight work drains", "[integration][status]") {
  const int sport = free_port();
  ServerProcess s(config_yaml(1, "", "app.php", status_section(sport)));
  REQUIRE(request(sport, "GET", "/ready?plugin=http").status == 200);
  auto slow = std::async(std::launch::async, [&] { return request(s.port(), "GET", "/sleep?ms=1500"); });
  std::this_thread::sleep_for(300ms);
  ::kill(s.pid(), SIGTERM);
  std::this_thread::sleep_for(200ms);
  const Response ready = request(sport, "GET", "/ready?plugin=http");
  CHECK(ready.status == 503);
  CHECK(nlohmann::json::parse(ready.body)["http"]["draining"] == true);
  CHECK(request(sport, "GET", "/health?plugin=http").status == 200);  // alive, still working
  CHECK(slow.get().status == 200);
  CHECK(s.stop(SIGTERM, 15s) == 0);
}

TEST_CASE("a worker that ignores the stop frame is SIGKILLed after the grace period", "[integration][supervisor]") {
  ServerProcess s(yaml_for("ignorestop.php", 1, "    destroy_timeout: 1s\n"));
  CHECK(request(s.port(), "GET", "/").status == 200);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(s.stop(SIGTERM, 10s) == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  CHECK_THAT(s.log(), Contains("ignoring it"));
  CHECK_THAT(s.log(), Contains("event=worker_stop_timeout"));
}

TEST_CASE("SIGHUP replaces every worker without failing a request, under wrk load", "[integration][reset]") {
  ServerProcess s(config_yaml(2, ""));
  const auto kids = s.children();
  const std::set<pid_t> before(kids.begin(), kids.end());
  REQUIRE(before.size() == 2);

  std::atomic<bool> done{false};
  std::atomic<int> slow_ok{0}, slow_bad{0};
  // Slow requests keep old workers busy across the reset: they must finish, not fail.
  std::thread slow([&] {
    while (!done) {
      const Response r = request(s.port(), "GET", "/sleep?ms=200");
      (r.status == 200 ? slow_ok : slow_bad)++;
    }
  });
  auto wrk = std::async(std::launch::async, [&] {
    return run_command("wrk -t1 -c16 -d4s http://127.0.0.1:" + std::to_string(s.port()) + "/ 2>&1");
  });
  std::this_thread::sleep_for(1s);
  ::kill(s.pid(), SIGHUP);
  CHECK(s.wait_log("event=pool_reset_done", 10s));
  std::this_thread::sleep_for(500ms);
  ::kill(s.pid(), SIGHUP);
  CHECK(s.wait_log("event=pool_reset_done", 10s, 2));
  const std::string out = wrk.get();
  done = true;
  slow.join();
  INFO(out);
  CHECK_THAT(out, Contains("requests in"));
  CHECK_THAT(out, !Contains("Non-2xx"));
  CHECK_THAT(out, !Contains("Socket errors"));
  CHECK(slow_bad == 0);
  CHECK(slow_ok > 3);
  const auto now_kids = s.children();
  for (pid_t p : now_kids) CHECK(before.count(p) == 0);
  CHECK(count_of(s.log(), "reason=reset") >= 4);
}

TEST_CASE("a reset to code that fails at boot keeps the old workers serving", "[integration][reset]") {
  const std::string marker = temp_marker("resetfail");
  std::remove(marker.c_str());
  ServerProcess s(yaml_for("bootswitch.php", 1, "    reset_timeout: 1s\n", "    BOOT_FAIL_MARKER: \"" + marker + "\"\n"));
  const std::string before = request(s.port(), "GET", "/").body;
  std::FILE* f = std::fopen(marker.c_str(), "w");
  REQUIRE(f);
  std::fclose(f);
  ::kill(s.pid(), SIGHUP);
  CHECK(s.wait_log("event=pool_reset_timeout", 5s));
  const Response during = request(s.port(), "GET", "/");
  CHECK(during.status == 200);
  CHECK(during.body == before);  // the old worker still serves
  std::remove(marker.c_str());
  CHECK(eventually([&] { return request(s.port(), "GET", "/").body != before; }, 10s));
}
