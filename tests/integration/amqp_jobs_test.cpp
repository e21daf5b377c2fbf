// pivot-server with amqp pipelines against the private RabbitMQ broker: 10,000 jobs pushed from
// PHP are all processed; jobs pushed while the consuming server is down, and jobs in flight when
// it is killed, are all processed once it is back. The consumer is jobs_consumer.php (one JSON
// line per delivery) and jobs are pushed by jobs_push.php (JSON PushBatch), as in jobs_test.cpp.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness.hpp"
#include "tests/integration/rabbitmq_process.hpp"

using namespace pivot::test;
using namespace std::chrono_literals;

namespace {

std::vector<nlohmann::json> read_lines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '}') out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

/// Distinct (job name, id) pairs the consumers recorded, and how many deliveries were extra.
struct Tally {
  std::set<std::string> distinct;
  std::size_t deliveries = 0;
  std::size_t duplicates() const { return deliveries - distinct.size(); }
};

Tally tally(const std::string& path) {
  Tally t;
  for (const auto& l : read_lines(path)) {
    if (l.value("event", "") != "ack") continue;
    ++t.deliveries;
    t.distinct.insert(l["job"].get<std::string>() + "/" + l["id"].get<std::string>());
  }
  return t;
}

Tally wait_tally(const std::string& path, std::size_t want, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    Tally t = tally(path);
    if (t.distinct.size() >= want || std::chrono::steady_clock::now() >= deadline) return t;
    std::this_thread::sleep_for(50ms);
  }
}

/// pivot-server with one amqp pipeline `pipeline` on queue `queue`, consumed or not, with
/// jobs_consumer.php workers writing to `out`.
std::unique_ptr<ServerProcess> start_server(const std::string& pipeline, const std::string& queue, bool consume, int rpc_port,
                                            const std::string& out, unsigned workers = 2) {
  const std::string yaml = "version: \"3\"\n"
                           "server:\n"
                           "  command: \"php {{WORKERS}}/app.php\"\n"
                           "  env:\n"
                           "    JOBS_OUT: " + out + "\n"
                           "http:\n"
                           "  address: 127.0.0.1:{{PORT}}\n"
                           "  pool:\n"
                           "    num_workers: 1\n"
                           "rpc:\n"
                           "  listen: tcp://127.0.0.1:" + std::to_string(rpc_port) + "\n"
                           "amqp:\n"
                           "  addr: " + RabbitMqProcess::shared().url() + "\n"
                           "jobs:\n"
                           "  consume: [" + (consume ? "\"" + pipeline + "\"" : std::string()) + "]\n"
                           "  pool:\n"
                           "    command: \"php {{WORKERS}}/jobs_consumer.php\"\n"
                           "    num_workers: " + std::to_string(workers) + "\n"
                           "  pipelines:\n"
                           "    " + pipeline + ":\n"
                           "      driver: amqp\n"
                           "      config:\n"
                           "        queue: " + queue + "\n"
                           "        prefetch: 20\n"
                           "logs:\n"
                           "  level: info\n";
  auto s = std::make_unique<ServerProcess>(yaml);
  if (consume && !s->wait_log("event=worker_ready pool=jobs", 15s, static_cast<int>(workers))) {
    FAIL("jobs workers not ready:\n" << s->log());
  }
  if (!s->wait_log("event=amqp_connected", 15s)) FAIL("no amqp connection:\n" << s->log());
  return s;
}

/// Runs jobs_push.php; returns its JSON line.
nlohmann::json push(int rpc_port, const std::string& pipeline, int count, const std::string& name) {
  int st = -1;
  const std::string out = run_command("php " + workers_dir() + "/jobs_push.php tcp://127.0.0.1:" + std::to_string(rpc_port) + " " +
                                          pipeline + " " + std::to_string(count) + " 500 " + name,
                                      &st);
  INFO(out);
  REQUIRE(st == 0);
  return nlohmann::json::parse(out);
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/pivot-amqp-jobs-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { run_command("rm -rf '" + path + "'"); }
};

}  // namespace

TEST_CASE("amqp jobs: 10,000 jobs pushed from PHP through RabbitMQ are all processed", "[amqp][integration]") {
  RabbitMqProcess& broker = RabbitMqProcess::shared();
  TempDir dir;
  const std::string queue = "pivot-it-bulk-" + std::to_string(::getpid());
  const std::string out = dir.path + "/out.jsonl";
  const int rpc_port = free_port();
  auto server = start_server("bulk", queue, true, rpc_port, out);
  constexpr int kJobs = 10000;
  const auto t0 = std::chrono::steady_clock::now();
  const auto pushed = push(rpc_port, "bulk", kJobs, "record");
  INFO(pushed.dump());
  REQUIRE(pushed.value("pushed", 0) == kJobs);
  const Tally t = wait_tally(out, kJobs, 180s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  WARN("amqp driver: " << kJobs << " jobs pushed (PHP, JSON PushBatch of 500) and processed by 2 workers in " << seconds
                       << " s = " << static_cast<int>(kJobs / seconds) << " jobs/s; push alone " << pushed["seconds"].get<double>()
                       << " s = " << static_cast<int>(kJobs / pushed["seconds"].get<double>()) << " pushes/s; duplicates "
                       << t.duplicates());
  INFO(server->log().substr(0, 4000));
  CHECK(t.distinct.size() == static_cast<std::size_t>(kJobs));
  CHECK(t.duplicates() == 0);
  // The task context as the consumer saw it (protocol doc §4.1): amqp sends `queue`.
  const auto lines = read_lines(out);
  bool checked = false;
  for (const auto& l : lines) {
    if (l["id"] != "php-000042") continue;
    CHECK(l["driver"] == "amqp");
    CHECK(l["pipeline"] == "bulk");
    CHECK(l["has_queue"] == true);
    CHECK(l["payload"] == "payload 42");
    CHECK(l["headers"] == nlohmann::json{{"n", {"42"}}});
    checked = true;
  }
  CHECK(checked);
  // Everything was acked: the queue is empty once the last acks arrive.
  long left = -2;
  for (int i = 0; i < 100 && left != 0; ++i) {
    left = broker.queue_messages(queue);
    if (left != 0) std::this_thread::sleep_for(100ms);
  }
  CHECK(left == 0);
  server.reset();
  broker.delete_queue(queue);
}

TEST_CASE("amqp jobs: jobs pushed while the consumer is down and jobs in flight when it is killed are all processed",
          "[amqp][integration]") {
  RabbitMqProcess& broker = RabbitMqProcess::shared();
  TempDir dir;
  const std::string queue = "pivot-it-restart-" + std::to_string(::getpid());
  const std::string out = dir.path + "/out.jsonl";
  const int consumer_rpc = free_port();
  const int pusher_rpc = free_port();
  // A second server that only pushes (consume: []) stands for "the rest of the cluster".
  auto pusher = start_server("work", queue, false, pusher_rpc, dir.path + "/pusher.jsonl");

  // 1. Pushed while no server consumes: 3,000 jobs wait in the durable queue.
  constexpr int kFirst = 3000;
  REQUIRE(push(pusher_rpc, "work", kFirst, "record").value("pushed", 0) == kFirst);
  CHECK(broker.queue_messages(queue) == kFirst);  // the pusher took none of them

  // 2. In flight: a consumer starts on the backlog and is SIGKILLed in the middle of it.
  auto consumer = start_server("work", queue, true, consumer_rpc, out);
  const Tally before_kill = wait_tally(out, 300, 60s);
  REQUIRE(before_kill.distinct.size() >= 300);
  REQUIRE(consumer->stop(SIGKILL, 5s) >= 0);
  const std::size_t done_at_kill = tally(out).distinct.size();
  CHECK(done_at_kill < static_cast<std::size_t>(kFirst));

  // 3. While no server consumes again: more jobs arrive.
  constexpr int kSecond = 1000;
  REQUIRE(push(pusher_rpc, "work", kSecond, "second").value("pushed", 0) == kSecond);
  CHECK(broker.queue_messages(queue) >= static_cast<long>(kFirst + kSecond - done_at_kill));

  // 3. The consumer comes back: every job of both batches is processed.
  consumer = start_server("work", queue, true, consumer_rpc, out);
  const Tally t = wait_tally(out, kFirst + kSecond, 120s);
  WARN("amqp restart: " << done_at_kill << " of " << kFirst << " done when the consumer was SIGKILLed; after the restart "
                        << t.distinct.size() << " distinct jobs processed, " << t.duplicates()
                        << " duplicates (in flight at the kill, processed again)");
  INFO(consumer->log().substr(0, 4000));
  CHECK(t.distinct.size() == static_cast<std::size_t>(kFirst + kSecond));
  CHECK(t.duplicates() <= 2 * 20 + 2);  // at most the deliveries held at the kill (prefetch 20 per server) + in the workers
  consumer.reset();
  pusher.reset();
  broker.delete_queue(queue);
}
