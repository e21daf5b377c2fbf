#include <catch2/catch.hpp>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <chrono>
#include <future>
#include <thread>

#include "server/plugins/jobs/jobs_error.hpp"
#include "server/plugins/jobs/memory_driver.hpp"

using namespace pivot::jobs;
using namespace std::chrono_literals;

namespace {

/// A MemoryDriver on an io_context run by one background thread; calls block on futures.
struct Fixture {
  explicit Fixture(std::uint64_t capacity = 1000, std::uint64_t prefetch = 0)
      : guard(asio::make_work_guard(io)), driver(std::make_unique<MemoryDriver>(io, "p", 10, capacity, prefetch)), thread([this] { io.run(); }) {}
  ~Fixture() {
    driver.reset();
    guard.reset();
    thread.join();
  }

  template <class T>
  T run(asio::awaitable<T> a) {
    return asio::co_spawn(io, std::move(a), asio::use_future).get();
  }

  std::error_code push(std::string id, std::int64_t priority = 10, std::chrono::seconds delay = 0s) {
    Job j;
    j.id = std::move(id);
    j.name = "job";
    j.pipeline = "p";
    j.priority = priority;
    j.delay = delay;
    return run(driver->push(std::move(j)));
  }
  /// The next delivery, or nullptr when none comes within `wait`.
  std::unique_ptr<Delivery> next(std::chrono::milliseconds wait = 2000ms) {
    auto f = asio::co_spawn(io, driver->next(), asio::use_future);
    if (f.wait_for(wait) != std::future_status::ready) {
      pending.push_back(std::move(f));  // resolved with nullptr when the driver stops
      return nullptr;
    }
    return f.get();
  }
  PipelineStat stat() { return run(driver->stat()); }

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard;
  std::unique_ptr<MemoryDriver> driver;
  std::thread thread;
  std::vector<std::future<std::unique_ptr<Delivery>>> pending;
};

}  // namespace

TEST_CASE("jobs memory: lowest priority number first, FIFO among equals", "[jobs][memory]") {
  Fixture f;
  REQUIRE_FALSE(f.push("a", 5));
  REQUIRE_FALSE(f.push("b", 1));
  REQUIRE_FALSE(f.push("c", 5));
  REQUIRE_FALSE(f.push("d", 1));
  REQUIRE_FALSE(f.push("e", 3));
  std::string order;
  for (int i = 0; i < 5; ++i) {
    auto d = f.next();
    REQUIRE(d);
    order += d->job().id;
    d->ack();
  }
  CHECK(order == "bdeac");
  const auto s = f.stat();
  CHECK(s.active == 0);
  CHECK(s.reserved == 0);
  CHECK(s.driver == "memory");
  CHECK(s.ready);
}

TEST_CASE("jobs memory: nack and requeue redeliver with attempts + 1; drop on nack without requeue", "[jobs][memory]") {
  Fixture f;
  REQUIRE_FALSE(f.push("a"));
  auto d = f.next();
  REQUIRE(d);
  CHECK(d->job().attempts == 0);
  CHECK(f.stat().reserved == 1);
  d->nack(true, 0s);
  d = f.next();
  REQUIRE(d);
  CHECK(d->job().attempts == 1);
  d->requeue({{"h", {"v"}}}, 0s);
  d = f.next();
  REQUIRE(d);
  CHECK(d->job().attempts == 2);
  CHECK(d->job().headers.at("h") == std::vector<std::string>{"v"});
  d->nack(false, 0s);
  CHECK_FALSE(f.next(200ms));
  const auto s = f.stat();
  CHECK(s.active == 0);
  CHECK(s.reserved == 0);
}

TEST_CASE("jobs memory: an unsettled delivery that is destroyed comes back", "[jobs][memory]") {
  Fixture f;
  REQUIRE_FALSE(f.push("a"));
  f.next().reset();
  auto d = f.next();
  REQUIRE(d);
  CHECK(d->job().id == "a");
  CHECK(d->job().attempts == 1);
  d->ack();
}

TEST_CASE("jobs memory: delays are honoured and counted as delayed", "[jobs][memory]") {
  Fixture f;
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE_FALSE(f.push("late", 1, 1s));
  REQUIRE_FALSE(f.push("now", 10));
  auto s = f.stat();
  CHECK(s.delayed == 1);
  CHECK(s.active == 1);
  auto d = f.next();
  REQUIRE(d);
  CHECK(d->job().id == "now");
  d->ack();
  d = f.next(3000ms);
  REQUIRE(d);
  CHECK(d->job().id == "late");
  CHECK(std::chrono::steady_clock::now() - t0 >= 1s);
  d->ack();
  // A nack with a delay waits too.
  REQUIRE_FALSE(f.push("again"));
  d = f.next();
  REQUIRE(d);
  const auto t1 = std::chrono::steady_clock::now();
  d->nack(true, 1s);
  CHECK(f.stat().delayed == 1);
  d = f.next(3000ms);
  REQUIRE(d);
  CHECK(std::chrono::steady_clock::now() - t1 >= 1s);
  d->ack();
}

TEST_CASE("jobs memory: bounded by pipeline_size", "[jobs][memory]") {
  Fixture f(3);
  REQUIRE_FALSE(f.push("a"));
  REQUIRE_FALSE(f.push("b", 10, 5s));
  auto d = f.next();  // reserved jobs count too
  REQUIRE(d);
  REQUIRE_FALSE(f.push("c"));
  CHECK(f.push("d") == JobsError::pipeline_full);
  d->ack();
  CHECK_FALSE(f.push("d"));
}

TEST_CASE("jobs memory: pause holds jobs back, resume releases them", "[jobs][memory]") {
  Fixture f;
  f.driver->pause();
  REQUIRE_FALSE(f.push("a"));
  CHECK_FALSE(f.stat().ready);
  CHECK_FALSE(f.next(200ms));
  f.driver->resume();
  REQUIRE(f.pending.size() == 1);
  REQUIRE(f.pending[0].wait_for(2s) == std::future_status::ready);
  auto d = f.pending[0].get();
  f.pending.clear();
  REQUIRE(d);
  CHECK(d->job().id == "a");
  CHECK(f.stat().ready);
  d->ack();
}

TEST_CASE("jobs memory: prefetch bounds unsettled deliveries", "[jobs][memory]") {
  Fixture f(100, 1);
  REQUIRE_FALSE(f.push("a"));
  REQUIRE_FALSE(f.push("b"));
  auto d = f.next();
  REQUIRE(d);
  CHECK_FALSE(f.next(200ms));
  d->ack();
  REQUIRE(f.pending[0].wait_for(2s) == std::future_status::ready);
  auto d2 = f.pending[0].get();
  f.pending.clear();
  REQUIRE(d2);
  CHECK(d2->job().id == "b");
  d2->ack();
}

TEST_CASE("jobs memory: stop wakes waiting pollers with nullptr and refuses pushes", "[jobs][memory]") {
  Fixture f;
  CHECK_FALSE(f.next(100ms));
  f.run(f.driver->stop());
  REQUIRE(f.pending[0].wait_for(2s) == std::future_status::ready);
  CHECK(f.pending[0].get() == nullptr);
  f.pending.clear();
  CHECK(f.push("a") == JobsError::stopping);
  CHECK(f.next() == nullptr);
}
