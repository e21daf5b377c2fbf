#pragma once

#include <spdlog/logger.h>

#include <asio/thread_pool.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "server/config/config.hpp"
#include "server/plugins/kv/redis_connection.hpp"
#include "server/plugins/kv/storage.hpp"

namespace pivot::kv {

/// The `redis` driver. hiredis' synchronous API runs on a small thread pool of its own
/// (`pool_size` threads, one connection each), never on the io threads: an operation hops to a
/// Redis thread, runs its pipeline there with the socket timeouts, and resumes the caller on its
/// executor. Keys get `prefix`. Connections reconnect after errors (see RedisConnection).
class RedisStorage final : public Storage {
 public:
  /// Operations waiting for or running on a Redis thread; beyond it calls fail at once.
  static constexpr std::size_t kMaxPending = 4096;

  /// `name` is used in logs. Does not connect yet (start() checks the server in the background).
  RedisStorage(std::string name, const config::KvRedisConfig& cfg, std::shared_ptr<spdlog::logger> log);
  /// Waits for operations in flight (each bounded by the timeouts), then closes the connections.
  ~RedisStorage() override;
  RedisStorage(const RedisStorage&) = delete;
  RedisStorage& operator=(const RedisStorage&) = delete;

  /// "redis".
  std::string_view driver() const noexcept override { return "redis"; }
  /// "redis_driver_", RoadRunner's op prefix.
  std::string_view op_prefix() const noexcept override { return "redis_driver_"; }
  /// Sends one PING in the background and logs whether Redis answers.
  void start() override;
  /// Refuses new operations. Thread-safe.
  void stop() override;

  /// EXISTS per key, pipelined.
  asio::awaitable<OpStatus> has(const std::vector<std::string>& keys, std::vector<std::string>& found) override;
  /// SET (with PX for a TTL; DEL for an expiry already past) per item, pipelined.
  asio::awaitable<OpStatus> set(const std::vector<Item>& items) override;
  /// One MGET.
  asio::awaitable<OpStatus> mget(const std::vector<std::string>& keys, std::vector<Item>& found) override;
  /// PEXPIRE per item (DEL for an expiry already past), pipelined.
  asio::awaitable<OpStatus> mexpire(const std::vector<Item>& items) override;
  /// PTTL per key, pipelined; -2 = missing, -1 = no TTL.
  asio::awaitable<OpStatus> ttl(const std::vector<std::string>& keys, std::vector<Item>& found) override;
  /// One DEL.
  asio::awaitable<OpStatus> remove(const std::vector<std::string>& keys) override;
  /// FLUSHDB without a prefix (RoadRunner's behaviour); with one, SCAN MATCH prefix* + DEL.
  asio::awaitable<OpStatus> clear() override;

 private:
  using Job = std::function<OpStatus(RedisConnection&)>;

  /// Runs `job` on a Redis thread with a free connection; resumes on the caller's executor.
  asio::awaitable<OpStatus> run(Job job);
  /// The blocking part, on a Redis thread.
  OpStatus run_blocking(const Job& job);
  /// Logs when Redis goes from reachable to unreachable and back (one line per change).
  void note_health(const OpStatus& st, const std::string& address);
  std::string key(std::string_view k) const { return prefix_ + std::string(k); }

  std::string name_;
  std::string prefix_;
  std::shared_ptr<spdlog::logger> log_;
  std::vector<std::unique_ptr<RedisConnection>> connections_;
  std::mutex mu_;  // guards idle_ (taken by Redis threads only)
  std::vector<RedisConnection*> idle_;
  std::atomic<std::size_t> pending_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<int> health_{0};  // 0 unknown, 1 reachable, -1 unreachable
  asio::thread_pool threads_;   // declared last: joined (in the destructor) before the connections go
};

}  // namespace pivot::kv
