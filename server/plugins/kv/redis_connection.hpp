#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "server/plugins/kv/storage.hpp"

struct redisContext;

namespace pivot::kv {

/// One reply from Redis, copied out of hiredis. Plain data.
struct RedisReply {
  /// RESP2 reply kinds.
  enum class Type { nil, status, error, integer, string, array };
  Type type = Type::nil;                ///< what this reply is
  std::string str;                      ///< string, status or error text
  long long integer = 0;                ///< integer replies
  std::vector<RedisReply> elements;     ///< array replies
};

/// One blocking Redis connection (hiredis' synchronous API), used by one thread at a time: the
/// RedisStorage threads take turns on a small set of them. Connects lazily (TCP connect bounded
/// by dial_timeout, then AUTH and SELECT), applies read/write timeouts to the socket, and after
/// any transport error drops the connection so the next call reconnects.
class RedisConnection {
 public:
  /// Where and how to connect.
  struct Options {
    std::string host = "127.0.0.1";                          ///< host name or address
    int port = 6379;                                         ///< TCP port
    std::string username;                                    ///< ACL user; "" = AUTH <password>
    std::string password;                                    ///< "" = no AUTH
    unsigned db = 0;                                         ///< SELECT index when not 0
    std::chrono::milliseconds dial_timeout{5000};            ///< connect + handshake
    std::chrono::milliseconds read_timeout{3000};            ///< SO_RCVTIMEO
    std::chrono::milliseconds write_timeout{3000};           ///< SO_SNDTIMEO
  };

  /// Does not connect yet.
  explicit RedisConnection(Options options);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  /// Sends `commands` in one pipeline and reads one reply per command into `replies`. Error
  /// replies are replies (check them), not failures. Connects first when needed. When a
  /// connection that was already open turns out to be broken (the server restarted), it
  /// reconnects and runs the batch once more: every command the KV storage sends is idempotent.
  /// Blocking; call from a Redis thread only.
  OpStatus execute(const std::vector<std::vector<std::string>>& commands, std::vector<RedisReply>& replies);

  /// "host:port", for logs and errors.
  const std::string& address() const noexcept { return address_; }

 private:
  OpStatus connect();
  OpStatus run(const std::vector<std::vector<std::string>>& commands, std::vector<RedisReply>& replies);
  OpStatus transport_error(const char* doing);
  void disconnect() noexcept;

  Options options_;
  std::string address_;
  redisContext* ctx_ = nullptr;
};

}  // namespace pivot::kv
