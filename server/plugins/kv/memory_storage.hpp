#pragma once

#include <spdlog/logger.h>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "server/plugins/kv/storage.hpp"

namespace pivot::kv {

/// The `memory` driver: an in-process hash map behind one mutex (the one shared object
/// docs/architecture.md allows for it). Expired keys are hidden on every read and removed by a
/// sweep on a timer (on its own strand) through an expiry index, so a sweep costs only the
/// keys that expired. The synchronous `*_now` methods are the implementation (any thread); the
/// Storage methods wrap them and complete at once on the caller's executor.
class MemoryStorage final : public Storage {
 public:
  /// The clock the TTLs are compared with (tests inject a fake one).
  using Now = std::function<TimePoint()>;

  /// `name` is used in logs; `sweep_interval` is `kv.<name>.config.interval`.
  MemoryStorage(asio::io_context& io, std::string name, std::chrono::milliseconds sweep_interval,
                std::shared_ptr<spdlog::logger> log, Now now = &kv::now);
  MemoryStorage(const MemoryStorage&) = delete;
  MemoryStorage& operator=(const MemoryStorage&) = delete;

  /// "memory".
  std::string_view driver() const noexcept override { return "memory"; }
  /// "in_memory_plugin_", RoadRunner's op prefix.
  std::string_view op_prefix() const noexcept override { return "in_memory_plugin_"; }
  /// Arms the sweep timer.
  void start() override;
  /// Cancels the sweep timer (so the io_context can run out of work). Thread-safe.
  void stop() override;

  /// has_now, completing at once.
  asio::awaitable<OpStatus> has(const std::vector<std::string>& keys, std::vector<std::string>& found) override;
  /// set_now, completing at once.
  asio::awaitable<OpStatus> set(const std::vector<Item>& items) override;
  /// mget_now, completing at once.
  asio::awaitable<OpStatus> mget(const std::vector<std::string>& keys, std::vector<Item>& found) override;
  /// mexpire_now, completing at once.
  asio::awaitable<OpStatus> mexpire(const std::vector<Item>& items) override;
  /// ttl_now, completing at once.
  asio::awaitable<OpStatus> ttl(const std::vector<std::string>& keys, std::vector<Item>& found) override;
  /// remove_now, completing at once.
  asio::awaitable<OpStatus> remove(const std::vector<std::string>& keys) override;
  /// clear_now, completing at once.
  asio::awaitable<OpStatus> clear() override;

  /// Appends the live keys among `keys` to `found`. Any thread.
  void has_now(const std::vector<std::string>& keys, std::vector<std::string>& found);
  /// Stores the items; an expiry at or before now removes the key. Any thread.
  void set_now(const std::vector<Item>& items);
  /// Appends the live keys with their values. Any thread.
  void mget_now(const std::vector<std::string>& keys, std::vector<Item>& found);
  /// Re-times the live keys (an expiry at or before now removes them). Any thread.
  void mexpire_now(const std::vector<Item>& items);
  /// Appends the live keys with their expiry. Any thread.
  void ttl_now(const std::vector<std::string>& keys, std::vector<Item>& found);
  /// Removes the keys. Any thread.
  void remove_now(const std::vector<std::string>& keys);
  /// Removes everything. Any thread.
  void clear_now();
  /// Removes every key whose expiry is at or before now; returns how many. Any thread.
  std::size_t sweep_now();
  /// Entries held, including expired ones not swept yet. Any thread.
  std::size_t size() const;

 private:
  struct Entry {
    std::string value;
    std::optional<TimePoint> expires;
  };
  using Map = std::unordered_map<std::string, Entry>;

  /// The live entry for `key` (an expired one is erased on the way), or nullptr. Holds mu_.
  Entry* find_live(const std::string& key, TimePoint now);
  void erase(Map::iterator it);
  void set_expiry(Map::iterator it, std::optional<TimePoint> expires);
  void arm_timer();

  std::string name_;
  std::chrono::milliseconds interval_;
  std::shared_ptr<spdlog::logger> log_;
  Now now_;
  asio::strand<asio::io_context::executor_type> strand_;  // owns timer_ and stopped_
  asio::steady_timer timer_;
  bool stopped_ = false;

  mutable std::mutex mu_;  // guards map_ and expiry_
  Map map_;
  // (expiry, key) for entries with a TTL; the views point at map_'s keys (node-stable).
  std::set<std::pair<TimePoint, std::string_view>> expiry_;
};

}  // namespace pivot::kv
