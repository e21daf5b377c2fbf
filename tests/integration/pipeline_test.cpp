// Pipelined executions (http.pool.pipeline_depth, pipeline_max_exec) and SCHED_BATCH workers
// (http.pool.sched_batch), against the real binary and real PHP workers (workers/app.php).
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/integration/config_template.hpp"
#include "tests/integration/harness.hpp"

using namespace pivot::test;
using Catch::Matchers::Contains;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

std::string temp_path(const char* tag) {
  std::string path = std::string("/tmp/pivot-") + tag + "-XXXXXX";
  const int fd = ::mkstemp(path.data());
  ::close(fd);
  return path;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

/// Sets a worker's average execution time: pipelining waits for one finished request per worker.
void warm_up(int port, int workers) {
  std::vector<std::future<Response>> all;
  for (int i = 0; i < workers; ++i) all.push_back(std::async(std::launch::async, [port] { return request(port, "GET", "/sleep?ms=50"); }));
  for (auto& f : all) REQUIRE(f.get().status == 200);
}

struct Timed {
  Response response;
  Clock::duration waited;
};

/// GET `target` and how long the answer took.
Timed timed_get(int port, const std::string& target) {
  const auto t0 = Clock::now();
  Response r = request(port, "GET", target);
  return {std::move(r), Clock::now() - t0};
}

}  // namespace

TEST_CASE("pipelined requests: under concurrency every response answers its own request", "[integration][pipeline]") {
  ServerProcess s(config_yaml(2, "    pipeline_depth: 2\n    pipeline_max_exec: 1s\n"));
  warm_up(s.port(), 2);
  constexpr int kThreads = 16;
  constexpr int kEach = 40;
  std::atomic<int> ok{0};
  std::vector<std::string> failures;
  std::mutex m;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string id = std::to_string(t) + "-" + std::to_string(i);
        const Response r = request(s.port(), "GET", "/echo?id=" + id);
        if (r.status == 200 && r.body.find("\"rawQuery\":\"id=" + id + "\"") != std::string::npos) {
          ++ok;
        } else {
          std::lock_guard lock(m);
          failures.push_back(id + " -> " + std::to_string(r.status) + " " + r.body.substr(0, 120));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  INFO((failures.empty() ? std::string() : failures.front()));
  CHECK(ok == kThreads * kEach);
  // The test means something only if requests really were queued behind busy workers.
  CHECK(s.wait_log("event=exec_pipelined", 1s, 10));
  CHECK_THAT(s.log(), Contains("exact_reads=true"));  // php-worker's Relay reads its pipe unbuffered
  CHECK(s.stop(SIGTERM, 10s) == 0);
  CHECK_THAT(s.log(), Contains("event=pool_stopped pool=http remaining=0 pipelined="));
}

TEST_CASE("pipelining is on by default for HTTP", "[integration][pipeline]") {
  ServerProcess s(config_yaml(2));
  warm_up(s.port(), 2);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 40; ++i) ok += request(s.port(), "GET", "/pid").status == 200 ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 16 * 40);
  CHECK(s.wait_log("event=exec_pipelined", 1s));
  CHECK(s.stop(SIGTERM, 10s) == 0);
  CHECK_THAT(s.log(), !Contains("pipelined=0 "));
}

TEST_CASE("pipeline_depth: 0 turns pipelining off", "[integration][pipeline]") {
  ServerProcess s(config_yaml(1, "    pipeline_depth: 0\n    pipeline_max_exec: 1s\n"));
  warm_up(s.port(), 1);
  auto slow = std::async(std::launch::async, [&] { return request(s.port(), "GET", "/sleep?ms=300"); });
  std::this_thread::sleep_for(100ms);
  CHECK(request(s.port(), "GET", "/pid").status == 200);
  CHECK(slow.get().status == 200);
  CHECK_THAT(s.log(), !Contains("event=exec_pipelined"));
}

TEST_CASE("a worker whose handshake lacks exact_reads (RoadRunner SDK style) is never pipelined", "[integration][pipeline]") {
  // readahead.php reads stdin buffered, as the SDK's StreamRelay does: a request queued behind a
  // hung one could be pulled into its buffer, beyond the take-back's reach.
  ServerProcess s(config_yaml(1, "    pipeline_depth: 2\n    pipeline_max_exec: 1s\n", "readahead.php"));
  CHECK(s.wait_log("exact_reads=false", 1s));
  CHECK(s.wait_log("event=pipelining_unavailable pool=http", 1s));
  warm_up(s.port(), 1);
  auto slow = std::async(std::launch::async, [&] { return request(s.port(), "GET", "/sleep?ms=300"); });
  std::this_thread::sleep_for(100ms);
  const Response r = request(s.port(), "GET", "/pid");
  CHECK(r.status == 200);
  CHECK(slow.get().status == 200);
  CHECK_THAT(s.log(), !Contains("event=exec_pipelined"));
}

TEST_CASE("a request queued behind a worker that crashes runs once, on another worker", "[integration][pipeline]") {
  ServerProcess s(config_yaml(1, "    pipeline_depth: 2\n    pipeline_max_exec: 5s\n    pipeline_max_wait: 0s\n"));
  warm_up(s.port(), 1);
  const std::string first_pid = request(s.port(), "GET", "/pid").body;
  const std::string counter = temp_path("count");
  auto doomed = std::async(std::launch::async, [&] { return request(s.port(), "GET", "/sleep?ms=500&exit=3"); });
  std::this_thread::sleep_for(150ms);
  const Response queued = request(s.port(), "GET", "/count?file=" + counter);
  CHECK(doomed.get().status == 502);
  CHECK(queued.status == 200);
  CHECK(queued.body != first_pid);  // it never ran on the worker that died
  CHECK(s.wait_log("event=exec_pipelined pool=http pid=" + first_pid, 1s));
  CHECK(lines_of(counter) == std::vector<std::string>{queued.body});  // exactly once
  std::remove(counter.c_str());
}

TEST_CASE("a request queued behind one killed by exec_ttl runs on another worker", "[integration][pipeline]") {
  ServerProcess s(config_yaml(1, "    pipeline_depth: 2\n    pipeline_max_exec: 5s\n    pipeline_max_wait: 0s\n    supervisor:\n      exec_ttl: 400ms\n"));
  warm_up(s.port(), 1);
  const std::string first_pid = request(s.port(), "GET", "/pid").body;
  auto slow = std::async(std::launch::async, [&] { return request(s.port(), "GET", "/sleep?ms=3000"); });
  std::this_thread::sleep_for(150ms);
  const Response queued = request(s.port(), "GET", "/pid");
  CHECK(slow.get().status == 504);
  CHECK(queued.status == 200);
  CHECK(queued.body != first_pid);
  CHECK(s.wait_log("event=exec_pipelined pool=http pid=" + first_pid, 1s));
}

TEST_CASE("a request queued behind a worker that asks to stop goes to another worker", "[integration][pipeline]") {
  ServerProcess s(config_yaml(1, "    pipeline_depth: 2\n    pipeline_max_exec: 5s\n    pipeline_max_wait: 0s\n"));
  warm_up(s.port(), 1);
  const std::string first_pid = request(s.port(), "GET", "/pid").body;
  const std::string marker = temp_path("stop");
  std::remove(marker.c_str());
  auto stopping = std::async(std::launch::async, [&] { return request(s.port(), "GET", "/stop?ms=400&marker=" + marker); });
  std::this_thread::sleep_for(150ms);
  const Response queued = request(s.port(), "GET", "/pid");
  const Response retried = stopping.get();
  CHECK(retried.status == 200);
  CHECK_THAT(retried.body, Contains("answered by"));
  CHECK(queued.status == 200);
  CHECK(queued.body != first_pid);
  CHECK(s.wait_log("event=exec_pipelined pool=http pid=" + first_pid, 1s));
  CHECK(s.wait_log("reason=worker_requested", 5s));
  std::remove(marker.c_str());
}

TEST_CASE("a request queued behind one that turns slow is taken back and runs once, on another worker", "[integration][pipeline]") {
  // pipeline_max_exec: 1s lets the third request queue behind A's 3-second request; after
  // pipeline_max_wait (5ms, the default) of A's request it is read back out of A's pipe and is
  // first in line for the next free worker, B (free ~300 ms later). Without the take-back it
  // would wait ~2.8 s for A.
  ServerProcess s(config_yaml(2, "    pipeline_depth: 2\n    pipeline_max_exec: 1s\n"));
  warm_up(s.port(), 2);
  const std::string counter = temp_path("count");
  auto a = std::async(std::launch::async, [&] { return request(s.port(), "GET", "/sleep?ms=3000"); });
  std::this_thread::sleep_for(100ms);
  auto b = std::async(std::launch::async, [&] { return request(s.port(), "GET", "/sleep?ms=400"); });
  std::this_thread::sleep_for(100ms);
  const auto [c, waited] = timed_get(s.port(), "/count?file=" + counter);
  CHECK(c.status == 200);
  CHECK(waited < 1500ms);
  CHECK(s.wait_log("event=exec_pipelined", 1s));
  CHECK(s.wait_log("event=pipeline_taken_back pool=http", 1s));
  CHECK(a.get().status == 200);
  CHECK(b.get().status == 200);
  // Exactly once: the worker it was first queued on never read it (the 3 s request has ended
  // now, and that worker would have appended its pid by then if it had).
  std::this_thread::sleep_for(100ms);
  CHECK(lines_of(counter) == std::vector<std::string>{c.body});
  CHECK(s.stop(SIGTERM, 10s) == 0);
  CHECK_THAT(s.log(), Contains("taken_back=1"));
  std::remove(counter.c_str());
}

TEST_CASE("a request queued behind a reply that turns into a stream is taken back when the stream starts", "[integration][pipeline]") {
  // C queues behind A's request (both workers busy, under pipeline_max_exec: 1s). 300 ms later A
  // starts a 3-second stream; C must not wait for it: it is taken back as the first stream frame
  // arrives and runs on B when B's 600 ms request ends. pipeline_max_wait: 10s keeps the timed
  // take-back out of it. Without the take-back at stream start, or if php-worker polled its input
  // for STOP before the first frame (and so read C), C would wait ~3 s.
  ServerProcess s(config_yaml(2, "    pipeline_depth: 2\n    pipeline_max_exec: 1s\n    pipeline_max_wait: 10s\n", "stream.php"));
  warm_up(s.port(), 2);
  // curl reads the chunked stream to its end (the harness's request() does not dechunk).
  auto a = std::async(std::launch::async, [&] {
    return run_command("curl -sS --max-time 20 'http://127.0.0.1:" + std::to_string(s.port()) + "/stream?first_ms=300&n=30&ms=100'");
  });
  std::this_thread::sleep_for(50ms);
  auto b = std::async(std::launch::async, [&] { return request(s.port(), "GET", "/sleep?ms=600"); });
  std::this_thread::sleep_for(50ms);
  const auto [c, waited] = timed_get(s.port(), "/pid");
  CHECK(c.status == 200);
  CHECK(waited < 1500ms);
  CHECK(s.wait_log("event=exec_pipelined", 1s));
  CHECK(s.wait_log("reason=stream", 1s));
  const std::string ra = a.get();
  CHECK_THAT(ra, Contains("chunk 1\n") && Contains("chunk 30\n"));
  const Response rb = b.get();
  CHECK(rb.status == 200);
  CHECK(rb.body == "slept " + c.body);  // C ran on B, after B's own request
}

TEST_CASE("pipeline_max_exec keeps requests from queueing behind a slow one", "[integration][pipeline]") {
  // Default pipeline_max_exec (2ms): both workers are busy far longer when the third request
  // comes, so it waits in the pool and takes whichever worker frees first (B's, after ~300 ms),
  // not a place behind the 2-second request.
  ServerProcess s(config_yaml(2, "    pipeline_depth: 2\n"));
  warm_up(s.port(), 2);
  auto a = std::async(std::launch::async, [&] { return request(s.port(), "GET", "/sleep?ms=2000"); });
  std::this_thread::sleep_for(100ms);
  auto b = std::async(std::launch::async, [&] { return request(s.port(), "GET", "/sleep?ms=300"); });
  std::this_thread::sleep_for(100ms);
  const auto [c, waited] = timed_get(s.port(), "/pid");
  CHECK(c.status == 200);
  CHECK(waited < 1200ms);
  CHECK(a.get().status == 200);
  CHECK(b.get().status == 200);
  CHECK_THAT(s.log(), !Contains("event=exec_pipelined"));
}

TEST_CASE("max_jobs holds with pipelining: no worker runs more than its limit", "[integration][pipeline]") {
  ServerProcess s(config_yaml(2, "    max_jobs: 5\n    pipeline_depth: 2\n    pipeline_max_exec: 1s\n"));
  std::mutex m;
  std::map<std::string, int> uses;
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        const Response r = request(s.port(), "GET", "/pid");
        if (r.status != 200) {
          ++bad;
          continue;
        }
        std::lock_guard lock(m);
        ++uses[r.body];
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(bad == 0);
  CHECK(uses.size() >= 160 / 5);
  for (const auto& [pid, n] : uses) {
    INFO("pid " << pid);
    CHECK(n <= 5);  // 5 + 0..14 % jitter rounds down to 5
  }
  CHECK(s.wait_log("event=exec_pipelined", 1s));
}

TEST_CASE("HTTP workers run under SCHED_BATCH unless sched_batch: false", "[integration][pipeline]") {
  {
    ServerProcess s(config_yaml(1));
    const Response r = request(s.port(), "GET", "/sched");
    CHECK(r.status == 200);
    CHECK(r.body == "3");  // SCHED_BATCH, the default
  }
  {
    ServerProcess s(config_yaml(1, "    sched_batch: false\n"));
    const Response r = request(s.port(), "GET", "/sched");
    CHECK(r.status == 200);
    CHECK(r.body == "0");  // SCHED_OTHER
  }
}
