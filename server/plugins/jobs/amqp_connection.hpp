#pragma once

#include <amqp.h>

#include <chrono>
#include <string>
#include <system_error>

namespace pivot::jobs {

/// Where an amqp:// URL points. Plain data.
struct AmqpAddress {
  std::string host = "127.0.0.1";  ///< broker host
  int port = 5672;                 ///< broker port
  std::string user = "guest";      ///< login user
  std::string password = "guest";  ///< login password (never logged)
  std::string vhost = "/";         ///< virtual host

  /// Parses `amqp://user:pass@host:port/vhost` (librabbitmq's rules; %-escapes allowed). Throws
  /// config::ConfigError naming `key` when it is not a valid amqp:// URL (amqps:// is refused:
  /// TLS is not supported).
  static AmqpAddress parse(const std::string& url, const std::string& key);
  /// "host:port/vhost", for logs and errors (no credentials).
  std::string display() const;
};

/// One AMQP 0-9-1 connection through librabbitmq (rabbitmq-c): TCP connect bounded by a timeout,
/// login, channels, and a bounded RPC timeout so a silent broker never blocks forever. Not
/// thread-safe: it belongs to one thread (the amqp driver's). Closing is graceful when the
/// connection is healthy (close handshake) and immediate after an error (abandon()).
class AmqpConnection {
 public:
  /// Does not connect yet.
  explicit AmqpConnection(AmqpAddress address);
  /// Closes gracefully when open.
  ~AmqpConnection();
  AmqpConnection(const AmqpConnection&) = delete;
  AmqpConnection& operator=(const AmqpConnection&) = delete;

  /// Connects (TCP within `timeout`), logs in with `heartbeat` seconds, and sets `rpc_timeout` on
  /// synchronous calls. On failure returns AmqpError::unavailable, with the reason in error().
  std::error_code open(std::chrono::milliseconds timeout, int heartbeat, std::chrono::milliseconds rpc_timeout);
  /// Opens channel `ch`. On failure returns AmqpError::unavailable, reason in error().
  std::error_code open_channel(amqp_channel_t ch);
  /// After the broker closed channel `ch` (channel.close received): answers close-ok and opens
  /// it again. On failure returns AmqpError::unavailable.
  std::error_code reopen_channel(amqp_channel_t ch);
  /// Checks the reply of the last synchronous call (amqp_queue_declare & co.): empty on success,
  /// else AmqpError::unavailable with "<doing>: <reason>" in error(). A channel-level refusal
  /// (404, 406) leaves `channel_closed` set; the connection is then still usable after
  /// reopen_channel().
  std::error_code check_rpc(const char* doing, bool* channel_closed = nullptr);
  /// Records a library status code (amqp_basic_publish & co.) as the error; empty when 0.
  std::error_code check_status(int status, const char* doing);
  /// Graceful close (connection.close with the RPC timeout), then frees everything. Idempotent.
  void close() noexcept;
  /// Frees everything without a close handshake (the socket is broken or out of step).
  void abandon() noexcept;

  /// True between a successful open() and close()/abandon().
  bool is_open() const noexcept { return state_ != nullptr; }
  /// The librabbitmq connection state (null when closed).
  amqp_connection_state_t state() const noexcept { return state_; }
  /// The socket, for poll(); -1 when closed.
  int fd() const noexcept;
  /// The last error text.
  const std::string& error() const noexcept { return error_; }
  /// Where it connects.
  const AmqpAddress& address() const noexcept { return address_; }

 private:
  std::error_code fail(std::string text);

  AmqpAddress address_;
  amqp_connection_state_t state_ = nullptr;
  std::string error_;
};

}  // namespace pivot::jobs
