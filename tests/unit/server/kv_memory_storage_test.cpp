#include <catch2/catch.hpp>

#include <spdlog/logger.h>

#include <asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "server/plugins/kv/memory_storage.hpp"

using pivot::kv::TimePoint;
using pivot::kv::Item;
using pivot::kv::MemoryStorage;
using namespace std::chrono_literals;

namespace {

/// A MemoryStorage on a fake clock that the test moves by hand.
struct Fixture {
  asio::io_context io;
  std::shared_ptr<TimePoint> now = std::make_shared<TimePoint>(TimePoint(1'700'000'000s));
  std::shared_ptr<spdlog::logger> log = std::make_shared<spdlog::logger>("kv");  // no sinks: silent
  MemoryStorage store{io, "test", 10ms, log, [n = now] { return *n; }};

  TimePoint in(std::chrono::milliseconds d) const { return *now + d; }
  void advance(std::chrono::milliseconds d) { *now += d; }

  std::vector<std::string> has(std::vector<std::string> keys) {
    std::vector<std::string> found;
    store.has_now(keys, found);
    return found;
  }
  std::vector<Item> mget(std::vector<std::string> keys) {
    std::vector<Item> found;
    store.mget_now(keys, found);
    return found;
  }
  std::vector<Item> ttl(std::vector<std::string> keys) {
    std::vector<Item> found;
    store.ttl_now(keys, found);
    return found;
  }
};

}  // namespace

TEST_CASE("kv memory: set, has, mget, delete and clear", "[kv][memory]") {
  Fixture f;
  f.store.set_now({{"a", "1", std::nullopt}, {"b", std::string("\0bin\xff", 5), std::nullopt}});
  CHECK(f.has({"a", "x", "b"}) == std::vector<std::string>{"a", "b"});
  const auto got = f.mget({"b", "missing", "a"});
  REQUIRE(got.size() == 2);
  CHECK(got[0].key == "b");
  CHECK(got[0].value == std::string("\0bin\xff", 5));
  CHECK(got[1].value == "1");

  f.store.set_now({{"a", "2", std::nullopt}});  // overwrite
  CHECK(f.mget({"a"}).at(0).value == "2");
  f.store.remove_now({"a", "never-there"});
  CHECK(f.has({"a", "b"}) == std::vector<std::string>{"b"});
  f.store.clear_now();
  CHECK(f.has({"a", "b"}).empty());
  CHECK(f.store.size() == 0);
}

TEST_CASE("kv memory: an expired key is invisible on every read before any sweep", "[kv][memory][ttl]") {
  Fixture f;
  const auto expiry = f.in(1000ms);
  f.store.set_now({{"t", "v", expiry}, {"forever", "v", std::nullopt}});
  CHECK(f.has({"t"}) == std::vector<std::string>{"t"});
  const auto ttl = f.ttl({"t", "forever", "nope"});
  REQUIRE(ttl.size() == 2);
  CHECK(ttl[0].expires == expiry);
  CHECK_FALSE(ttl[1].expires.has_value());  // found, no TTL

  f.advance(999ms);
  CHECK(f.mget({"t"}).size() == 1);
  f.advance(1ms);  // exactly at the expiry: gone
  CHECK(f.has({"t"}).empty());
  CHECK(f.mget({"t"}).empty());
  CHECK(f.ttl({"t"}).empty());
  CHECK(f.has({"forever"}) == std::vector<std::string>{"forever"});
}

TEST_CASE("kv memory: the sweep removes exactly the expired keys", "[kv][memory][ttl]") {
  Fixture f;
  for (int i = 0; i < 100; ++i) {
    f.store.set_now({{"k" + std::to_string(i), "v", f.in(std::chrono::milliseconds(10 * (i + 1)))}});
  }
  f.store.set_now({{"plain", "v", std::nullopt}});
  CHECK(f.store.size() == 101);
  CHECK(f.store.sweep_now() == 0);
  f.advance(505ms);  // k0..k49 expired (10..500 ms)
  CHECK(f.store.size() == 101);  // not read, not swept yet
  CHECK(f.store.sweep_now() == 50);
  CHECK(f.store.size() == 51);
  CHECK(f.has({"k49", "k50"}) == std::vector<std::string>{"k50"});
  f.advance(10s);
  CHECK(f.store.sweep_now() == 50);
  CHECK(f.store.size() == 1);
  CHECK(f.store.sweep_now() == 0);
}

TEST_CASE("kv memory: overwriting or re-timing a key moves it in the expiry index", "[kv][memory][ttl]") {
  Fixture f;
  f.store.set_now({{"a", "1", f.in(100ms)}, {"b", "1", f.in(100ms)}, {"c", "1", f.in(100ms)}});
  f.store.set_now({{"a", "2", std::nullopt}});                       // TTL dropped by a plain set
  f.store.mexpire_now({{"b", "", f.in(1000ms)}});                     // pushed back
  f.store.mexpire_now({{"missing", "", f.in(1000ms)}});               // not created
  f.advance(200ms);
  CHECK(f.store.sweep_now() == 1);  // only c
  CHECK(f.has({"a", "b", "c", "missing"}) == std::vector<std::string>{"a", "b"});
  CHECK(f.mget({"b"}).at(0).value == "1");  // MExpire keeps the value
  CHECK(f.ttl({"b"}).at(0).expires == *f.now + 800ms);
  f.advance(800ms);
  CHECK(f.has({"b"}).empty());
  CHECK(f.store.sweep_now() == 0);  // already dropped by the read
  CHECK(f.store.size() == 1);
}

TEST_CASE("kv memory: an expiry in the past removes the key (PSR-16), on set and on MExpire", "[kv][memory][ttl]") {
  Fixture f;
  f.store.set_now({{"a", "1", std::nullopt}, {"b", "1", std::nullopt}});
  f.store.set_now({{"a", "2", f.in(-1s)}, {"new", "x", f.in(0ms)}});
  f.store.mexpire_now({{"b", "", f.in(-5s)}});
  CHECK(f.has({"a", "b", "new"}).empty());
  CHECK(f.store.size() == 0);
}

TEST_CASE("kv memory: the background sweep runs on the io_context timer and stop() lets it drain", "[kv][memory][ttl]") {
  Fixture f;
  f.store.set_now({{"x", "v", f.in(50ms)}, {"y", "v", f.in(50ms)}, {"z", "v", std::nullopt}});
  f.advance(100ms);
  f.store.start();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (f.store.size() != 1 && std::chrono::steady_clock::now() < deadline) f.io.run_for(20ms);
  CHECK(f.store.size() == 1);  // x and y swept without being read
  f.store.stop();
  f.io.restart();
  const auto t0 = std::chrono::steady_clock::now();
  f.io.run();  // returns: the cancelled timer was the only work
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);
}

TEST_CASE("kv memory: concurrent writers and readers", "[kv][memory]") {
  Fixture f;
  std::atomic<int> lost{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&f, &lost, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string k = std::to_string(t) + ":" + std::to_string(i);
        f.store.set_now({{k, k, i % 2 ? std::optional<TimePoint>(f.in(1h)) : std::nullopt}});
        std::vector<Item> got;
        f.store.mget_now({k}, got);
        if (got.size() != 1 || got[0].value != k) ++lost;
        if (i % 3 == 0) f.store.sweep_now();
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(lost == 0);
  CHECK(f.store.size() == 8000);
}
