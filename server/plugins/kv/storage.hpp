#pragma once

#include <asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace pivot::kv {

/// Wall clock: TTLs arrive as absolute RFC 3339 times.
using Clock = std::chrono::system_clock;
/// An expiry time. Microseconds, not the clock's nanoseconds: those overflow in 2262 and clients
/// may well send "2999-01-01T00:00:00Z" for "never".
using TimePoint = std::chrono::time_point<Clock, std::chrono::microseconds>;

/// The current wall-clock time as a TimePoint.
inline TimePoint now() { return std::chrono::time_point_cast<std::chrono::microseconds>(Clock::now()); }

/// One key as storages see it. Plain data.
struct Item {
  std::string key;                        ///< never empty (validated by the service)
  std::string value;                      ///< bytes (PHP serializes before sending)
  std::optional<TimePoint> expires;  ///< absolute expiry; nullopt = no TTL
};

/// Outcome of a storage operation: ok, or an error code plus a detail for the error text.
struct OpStatus {
  std::error_code code;  ///< empty on success; a KvError otherwise
  std::string detail;    ///< what exactly failed ("connect 127.0.0.1:6379: Connection refused"); never a value

  /// True on success.
  bool ok() const noexcept { return !code; }
  /// "redis unavailable: connect …" — the code's text plus the detail.
  std::string message() const { return detail.empty() ? code.message() : code.message() + ": " + detail; }
};

/// A KV storage driver (`kv.<name>.driver`). Keys handed in are non-empty and expiry times
/// already parsed. Methods may be called concurrently from any io thread; they complete on the
/// caller's executor. Results follow RoadRunner's kv.* semantics (protocol doc §5.3); an expiry
/// in the past means "already expired" (the key is removed), as PSR-16 asks.
class Storage {
 public:
  virtual ~Storage() = default;

  /// The driver name ("memory", "redis").
  virtual std::string_view driver() const noexcept = 0;
  /// Go's op prefix for driver errors ("in_memory_plugin_", "redis_driver_"): PHP clients
  /// substring-match e.g. "_plugin_ttl".
  virtual std::string_view op_prefix() const noexcept = 0;

  /// Starts background work (sweep timer, connection check). Control path.
  virtual void start() = 0;
  /// Stops background work and refuses new operations; in-flight ones finish. Thread-safe.
  virtual void stop() = 0;

  /// Appends to `found` the keys that exist (not expired).
  virtual asio::awaitable<OpStatus> has(const std::vector<std::string>& keys, std::vector<std::string>& found) = 0;
  /// Stores every item (value and expiry; an expiry in the past removes the key).
  virtual asio::awaitable<OpStatus> set(const std::vector<Item>& items) = 0;
  /// Appends to `found` the existing keys with their values.
  virtual asio::awaitable<OpStatus> mget(const std::vector<std::string>& keys, std::vector<Item>& found) = 0;
  /// Sets the expiry of the existing keys among `items` (each has `expires`); missing keys are ignored.
  virtual asio::awaitable<OpStatus> mexpire(const std::vector<Item>& items) = 0;
  /// Appends to `found` the existing keys with their expiry (nullopt: no TTL); values stay empty.
  virtual asio::awaitable<OpStatus> ttl(const std::vector<std::string>& keys, std::vector<Item>& found) = 0;
  /// Removes the keys (missing ones are fine).
  virtual asio::awaitable<OpStatus> remove(const std::vector<std::string>& keys) = 0;
  /// Removes every key of this storage.
  virtual asio::awaitable<OpStatus> clear() = 0;
};

}  // namespace pivot::kv
