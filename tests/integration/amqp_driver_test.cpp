// The amqp jobs driver alone against a private RabbitMQ broker (one per test binary, see
// rabbitmq_process.hpp): push/consume/ack, requeue with attempts, delays, pause/resume, a broker
// crash mid-run, pushes while the broker is down, and the config checks.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server/config/config_error.hpp"
#include "server/plugins/jobs/amqp_driver.hpp"
#include "server/plugins/jobs/amqp_error.hpp"
#include "tests/integration/rabbitmq_process.hpp"

using pivot::jobs::AmqpDriver;
using pivot::jobs::Delivery;
using pivot::jobs::Job;
using pivot::test::RabbitMqProcess;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

/// Runs `a` on `io` until it finishes (rethrowing its exception) or `limit` passes (FAIL).
void run(asio::io_context& io, asio::awaitable<void> a, std::chrono::seconds limit = 60s) {
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(a), [&](std::exception_ptr e) {
    done = true;
    error = e;
  });
  const auto deadline = Clock::now() + limit;
  while (!done && Clock::now() < deadline) {
    io.restart();
    io.run_for(50ms);
  }
  if (error) std::rethrow_exception(error);
  if (!done) FAIL("scenario did not finish within " << limit.count() << "s");
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

/// A queue name of its own for each test, so leftovers never mix.
std::string unique_queue(const std::string& what) {
  static int n = 0;
  return "pivot-test-" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

struct Fixture {
  RabbitMqProcess& broker = RabbitMqProcess::shared();
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(2000);
  std::shared_ptr<spdlog::logger> log = std::make_shared<spdlog::logger>("amqp-test", sink);
  asio::io_context io;

  Fixture() { log->set_level(spdlog::level::debug); }
  ~Fixture() {
    if (std::getenv("AMQP_TEST_LOGS")) std::fprintf(stderr, "%s\n", logs().c_str());
  }

  std::unique_ptr<AmqpDriver> driver(const std::string& queue, nlohmann::json extra = nlohmann::json::object()) {
    pivot::config::JobsPipelineConfig p;
    p.name = queue;
    p.driver = "amqp";
    extra["queue"] = queue;
    p.config = std::make_shared<const nlohmann::json>(std::move(extra));
    auto o = pivot::jobs::parse_amqp_options(p, broker.url(), "jobs.pipelines." + queue + ".config");
    o.reconnect_max = 1000ms;  // reconnect quickly after the broker restarts
    return std::make_unique<AmqpDriver>(o, log);
  }

  bool logged(const std::string& needle) const {
    for (const auto& line : sink->last_formatted()) {
      if (line.find(needle) != std::string::npos) return true;
    }
    return false;
  }
  std::string logs() const {
    std::string out;
    for (const auto& line : sink->last_formatted()) out += line;
    return out;
  }
};

Job make_job(const std::string& id, const std::string& pipeline) {
  Job j;
  j.id = id;
  j.name = "Test\\Job";
  j.payload = "payload-" + id;
  j.pipeline = pipeline;
  j.headers["trace"] = {"t-" + id};
  return j;
}

/// Pushes `n` jobs id0..id(n-1) concurrently (`window` in flight at once); REQUIREs success.
asio::awaitable<void> push_many(AmqpDriver& d, const std::string& pipeline, int first, int n, int window = 64) {
  auto ex = co_await asio::this_coro::executor;
  int next = first, finished = 0, failures = 0;
  std::string last_error;
  asio::steady_timer wake(ex, Clock::time_point::max());
  auto worker = [&]() -> asio::awaitable<void> {
    while (next < first + n) {
      const int i = next++;
      const auto ec = co_await d.push(make_job("id" + std::to_string(i), pipeline));
      if (ec) {
        ++failures;
        last_error = ec.message();
      }
      ++finished;
    }
    wake.cancel();
  };
  for (int w = 0; w < window; ++w) asio::co_spawn(ex, worker(), asio::detached);
  while (finished < n) {
    try {
      co_await wake.async_wait(asio::use_awaitable);
    } catch (const std::system_error&) {
    }
    wake.expires_at(Clock::time_point::max());
  }
  INFO(last_error);
  REQUIRE(failures == 0);
}

}  // namespace

TEST_CASE("amqp options: RoadRunner's keys with defaults, errors name the key path", "[amqp]") {
  pivot::config::JobsPipelineConfig p;
  p.name = "emails";
  p.driver = "amqp";
  p.priority = 7;
  auto o = pivot::jobs::parse_amqp_options(p, "amqp://u:secret@broker.example:5673/prod", "jobs.pipelines.emails.config");
  CHECK(o.queue == "emails");
  CHECK(o.routing_key == "emails");
  CHECK(o.exchange == "amqp.default");
  CHECK(o.exchange_type == "direct");
  CHECK(o.prefetch == 10);
  CHECK(o.durable);
  CHECK(o.priority == 7);
  CHECK(o.address.host == "broker.example");
  CHECK(o.address.port == 5673);
  CHECK(o.address.vhost == "prod");
  CHECK(o.address.display() == "broker.example:5673/prod");
  CHECK(pivot::jobs::parse_amqp_options(p, "", "x").address.vhost == "/");

  // jobs.Declare sends strings.
  p.config = std::make_shared<const nlohmann::json>(nlohmann::json{
      {"queue", "q1"}, {"prefetch", "50"}, {"durable", "false"}, {"exchange_type", "topic"}, {"routing_key", "a.*"}});
  o = pivot::jobs::parse_amqp_options(p, "", "jobs.pipelines.emails.config");
  CHECK(o.queue == "q1");
  CHECK(o.prefetch == 50);
  CHECK_FALSE(o.durable);
  CHECK(o.routing_key == "a.*");

  auto error_of = [&](nlohmann::json cfg, const std::string& addr = "") {
    p.config = std::make_shared<const nlohmann::json>(std::move(cfg));
    try {
      pivot::jobs::parse_amqp_options(p, addr, "jobs.pipelines.emails.config");
    } catch (const pivot::config::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(error_of({{"queu", "x"}}), Catch::Contains("jobs.pipelines.emails.config.queu is unknown") &&
                                            Catch::Contains("queue"));
  CHECK_THAT(error_of({{"exchange_type", "fan"}}),
             Catch::Contains("jobs.pipelines.emails.config.exchange_type") && Catch::Contains("direct, fanout, headers, topic"));
  CHECK_THAT(error_of({{"prefetch", 0}}), Catch::Contains("jobs.pipelines.emails.config.prefetch") && Catch::Contains("1..65535"));
  CHECK_THAT(error_of({{"durable", "maybe"}}), Catch::Contains("jobs.pipelines.emails.config.durable: expected true or false"));
  CHECK_THAT(error_of({}, "http://x"), Catch::Contains("amqp.addr") && Catch::Contains("amqp://"));
}

TEST_CASE("amqp driver: 1000 pushed jobs are all delivered once with their fields and acked", "[amqp]") {
  Fixture f;
  const std::string q = unique_queue("bulk");
  auto d = f.driver(q);
  constexpr int kJobs = 1000;
  double push_rate = 0, consume_rate = 0;
  run(f.io, [&]() -> asio::awaitable<void> {
    const auto t0 = Clock::now();
    co_await push_many(*d, q, 0, kJobs);
    const auto t1 = Clock::now();
    std::set<std::string> seen;
    int duplicates = 0;
    while (static_cast<int>(seen.size()) < kJobs) {
      auto del = co_await d->next();
      REQUIRE(del);
      const Job& j = del->job();
      if (!seen.insert(j.id).second) ++duplicates;
      REQUIRE(j.payload == "payload-" + j.id);
      REQUIRE(j.name == "Test\\Job");
      REQUIRE(j.pipeline == q);
      REQUIRE(j.attempts == 0);
      REQUIRE(j.priority == 10);  // the pipeline's, pushed as 0
      REQUIRE(j.headers.at("trace") == std::vector<std::string>{"t-" + j.id});
      del->ack();
    }
    const auto t2 = Clock::now();
    CHECK(duplicates == 0);
    push_rate = kJobs / std::chrono::duration<double>(t1 - t0).count();
    consume_rate = kJobs / std::chrono::duration<double>(t2 - t1).count();
    const auto st = co_await d->stat();
    CHECK(st.driver == "amqp");
    CHECK(st.queue == q);
    CHECK(st.ready);
    co_await d->stop();
  }());
  std::printf("amqp driver: push %.0f jobs/s (64 in flight, confirmed), consume+ack %.0f jobs/s\n", push_rate, consume_rate);
  // Every ack reached the broker: nothing ready or unacked is left in the queue.
  long left = -2;
  for (int i = 0; i < 100 && left != 0; ++i) {
    left = f.broker.queue_messages(q);
    if (left != 0) std::this_thread::sleep_for(100ms);
  }
  CHECK(left == 0);
  f.broker.delete_queue(q);
}

TEST_CASE("amqp driver: nack and requeue redeliver with attempts + 1; reject drops", "[amqp]") {
  Fixture f;
  const std::string q = unique_queue("retry");
  auto d = f.driver(q);
  run(f.io, [&]() -> asio::awaitable<void> {
    const auto ec1 = co_await d->push(make_job("r1", q));
    REQUIRE_FALSE(ec1);
    auto a = co_await d->next();
    REQUIRE(a->job().id == "r1");
    CHECK(a->job().attempts == 0);
    a->nack(true, 0s);
    auto b = co_await d->next();
    REQUIRE(b->job().id == "r1");
    CHECK(b->job().attempts == 1);
    CHECK(b->job().payload == "payload-r1");
    CHECK(b->job().headers.at("trace") == std::vector<std::string>{"t-r1"});
    b->requeue({{"reason", {"busy"}}}, 0s);
    auto c = co_await d->next();
    REQUIRE(c->job().id == "r1");
    CHECK(c->job().attempts == 2);
    CHECK(c->job().headers.size() == 1);
    CHECK(c->job().headers.at("reason") == std::vector<std::string>{"busy"});
    c->nack(false, 0s);  // dropped for good
    // A destroyed, unsettled delivery counts as nack(requeue): redelivered with attempts + 1.
    const auto ec2 = co_await d->push(make_job("r2", q));
    REQUIRE_FALSE(ec2);
    { auto lost = co_await d->next(); REQUIRE(lost->job().id == "r2"); }
    auto again = co_await d->next();
    CHECK(again->job().id == "r2");
    CHECK(again->job().attempts == 1);
    again->ack();
    co_await d->stop();
  }());
  long left = -2;
  for (int i = 0; i < 50 && left != 0; ++i) {
    left = f.broker.queue_messages(q);
    if (left != 0) std::this_thread::sleep_for(100ms);
  }
  CHECK(left == 0);  // r1 rejected, r2 acked: nothing comes back
  f.broker.delete_queue(q);
}

TEST_CASE("amqp driver: delayed jobs (push delay and nack delay) arrive after their delay", "[amqp]") {
  Fixture f;
  const std::string q = unique_queue("delay");
  auto d = f.driver(q);
  run(f.io, [&]() -> asio::awaitable<void> {
    Job j = make_job("late", q);
    j.delay = 2s;
    const auto t0 = Clock::now();
    const auto ec3 = co_await d->push(j);
    REQUIRE_FALSE(ec3);
    const auto ec4 = co_await d->push(make_job("now", q));
    REQUIRE_FALSE(ec4);
    const auto st = co_await d->stat();
    CHECK(st.delayed == 1);
    auto first = co_await d->next();
    CHECK(first->job().id == "now");
    first->nack(true, 1s);  // back in 1 s
    auto second = co_await d->next();
    const auto t_second = Clock::now() - t0;
    auto third = co_await d->next();
    const auto t_third = Clock::now() - t0;
    CHECK(second->job().id == "now");
    CHECK(second->job().attempts == 1);
    CHECK(third->job().id == "late");
    CHECK(third->job().delay == 2s);
    CHECK(t_second >= 900ms);
    CHECK(t_second < 2500ms);
    CHECK(t_third >= 1900ms);
    CHECK(t_third < 3500ms);
    second->ack();
    third->ack();
    co_await d->stop();
  }());
  f.broker.delete_queue(q);
}

TEST_CASE("amqp driver: paused pipelines keep jobs in the broker until resumed", "[amqp]") {
  Fixture f;
  const std::string q = unique_queue("pause");
  auto d = f.driver(q, {{"prefetch", 2}});
  run(f.io, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    d->pause();
    co_await push_many(*d, q, 0, 5, 5);
    int got = 0;
    std::vector<std::unique_ptr<Delivery>> held;
    asio::co_spawn(ex, [&]() -> asio::awaitable<void> {
      while (got < 5) {
        auto del = co_await d->next();
        if (!del) co_return;
        ++got;
        held.push_back(std::move(del));
      }
    }, asio::detached);
    co_await sleep_for(1000ms);  // nothing may arrive while paused
    CHECK(got == 0);
    auto st = co_await d->stat();
    CHECK_FALSE(st.ready);
    CHECK(st.active == 5);
    d->resume();
    const auto deadline = Clock::now() + 10s;
    while (got < 2 && Clock::now() < deadline) co_await sleep_for(20ms);
    CHECK(got == 2);  // prefetch 2: the broker holds the rest until we ack
    co_await sleep_for(300ms);
    CHECK(got == 2);
    st = co_await d->stat();
    CHECK(st.reserved == 2);
    CHECK(st.ready);
    while (got < 5 && Clock::now() < deadline) {
      for (auto& h : held) {
        if (h) h->ack();
      }
      co_await sleep_for(20ms);
    }
    CHECK(got == 5);
    for (auto& h : held) {
      if (h) h->ack();
    }
    co_await d->stop();
  }());
  f.broker.delete_queue(q);
}

TEST_CASE("amqp driver: broker crash mid-run -> push fails fast while down, reconnect, nothing lost", "[amqp][restart]") {
  Fixture f;
  const std::string q = unique_queue("crash");
  auto d = f.driver(q);
  constexpr int kJobs = 300;
  std::set<std::string> acked_before;
  std::vector<std::unique_ptr<Delivery>> in_hand;
  run(f.io, [&]() -> asio::awaitable<void> {
    co_await push_many(*d, q, 0, kJobs);
    // Ack 50, keep 5 unsettled: they must come back after the crash.
    while (acked_before.size() < 50) {
      auto del = co_await d->next();
      acked_before.insert(del->job().id);
      del->ack();
    }
    for (int i = 0; i < 5; ++i) in_hand.push_back(co_await d->next());
  }());

  f.broker.kill();  // SIGKILL: no goodbye on the socket
  std::error_code down_error;
  std::chrono::milliseconds down_push_time{};
  run(f.io, [&]() -> asio::awaitable<void> {
    // The driver notices the dead socket at once; give it a moment, then a push must fail fast.
    co_await sleep_for(300ms);
    const auto t0 = Clock::now();
    down_error = co_await d->push(make_job("while-down", q));
    down_push_time = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  }(), 20s);
  CHECK(down_error);
  CHECK(down_push_time < 2000ms);
  CHECK(down_error.message().find("amqp") != std::string::npos);
  std::printf("amqp driver: push while the broker is down failed in %lld ms: %s\n",
              static_cast<long long>(down_push_time.count()), down_error.message().c_str());
  // Settling deliveries of the dead connection is harmless (the broker redelivers them).
  for (auto& h : in_hand) h->ack();
  in_hand.clear();

  f.broker.start();
  std::printf("amqp broker restart took %lld ms\n", static_cast<long long>(f.broker.last_start_time().count()));
  std::map<std::string, int> seen;
  run(f.io, [&]() -> asio::awaitable<void> {
    // Pushes succeed again once the driver has reconnected.
    const auto deadline = Clock::now() + 30s;
    std::error_code ec = pivot::jobs::AmqpError::unavailable;
    while (ec && Clock::now() < deadline) {
      ec = co_await d->push(make_job("after", q));
      if (ec) co_await sleep_for(100ms);
    }
    REQUIRE_FALSE(ec);
    const std::size_t want = kJobs - acked_before.size() + 1;
    std::size_t distinct = 0;
    while (distinct < want) {
      auto del = co_await d->next();
      REQUIRE(del);
      if (seen[del->job().id]++ == 0 && !acked_before.count(del->job().id)) ++distinct;
      del->ack();
    }
    co_await d->stop();
  }(), 90s);
  INFO(f.logs());
  CHECK(f.logged("event=amqp_connection_lost"));
  CHECK(f.logged("event=amqp_reconnect"));
  for (int i = 0; i < kJobs; ++i) {
    const std::string id = "id" + std::to_string(i);
    if (!acked_before.count(id)) CHECK(seen.count(id) == 1);
  }
  CHECK(seen.count("after") == 1);
  int dup = 0;
  for (const auto& [id, n] : seen) dup += n - 1;
  std::printf("amqp driver: after the crash %zu jobs delivered, %d duplicates, %zu redelivered of the 50 acked\n", seen.size(),
              dup, static_cast<std::size_t>(std::count_if(seen.begin(), seen.end(), [&](auto& e) { return acked_before.count(e.first) > 0; })));
  f.broker.delete_queue(q);
}

TEST_CASE("amqp driver: stop wakes waiting next() with nullptr and fails later pushes", "[amqp]") {
  Fixture f;
  const std::string q = unique_queue("stop");
  auto d = f.driver(q);
  run(f.io, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    bool woke = false, got_null = false;
    asio::co_spawn(ex, [&]() -> asio::awaitable<void> {
      auto del = co_await d->next();
      woke = true;
      got_null = del == nullptr;
    }, asio::detached);
    co_await sleep_for(200ms);
    co_await d->stop();
    while (!woke) co_await sleep_for(10ms);
    CHECK(got_null);
    const auto late = co_await d->push(make_job("late", q));  // never co_await inside Catch macros
    CHECK(late == pivot::jobs::AmqpError::stopping);
    const auto after = co_await d->next();
    CHECK(after == nullptr);
  }(), 20s);
  f.broker.delete_queue(q);
}
