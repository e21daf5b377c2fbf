#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace pivot::cli {

/// No server answered, or the connection broke or timed out. The message is one line for the user.
class RpcUnreachable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The server answered a call with an error frame; what() is the server's error text.
class RpcCallFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A small blocking goridge RPC client for the CLI subcommands (POSIX sockets, JSON codec).
/// Checks the reply's seq and CRC; every step is bounded by a timeout. One thread, one call at a time.
class RpcClient {
 public:
  /// Timeout for connecting and for ordinary calls.
  static constexpr std::chrono::milliseconds kDefaultTimeout{5000};

  /// Connects to `address` (tcp://host:port or unix:///path). Throws RpcUnreachable
  /// ("no server answers on ADDR (is it running? ...): reason") or std::invalid_argument.
  explicit RpcClient(const std::string& address, std::chrono::milliseconds timeout = kDefaultTimeout);
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  /// Calls `method` with a JSON argument and returns the parsed JSON reply; `timeout` bounds the
  /// wait for the reply (0 = the client's default). Throws RpcCallFailed or RpcUnreachable.
  nlohmann::ordered_json call(const std::string& method, const nlohmann::json& arg,
                              std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  /// The address as given.
  const std::string& address() const noexcept { return address_; }

 private:
  void send_all(const std::string& bytes, std::chrono::steady_clock::time_point deadline);
  std::string receive_some(std::chrono::steady_clock::time_point deadline);
  [[noreturn]] void broken(const std::string& why) const;

  std::string address_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::uint32_t seq_ = 0;
};

/// The RPC address for a CLI command: `rpc_flag` when given, else rpc.listen of `config_path`
/// (a missing default config is fine; an explicit one must load), else tcp://127.0.0.1:6001.
/// Control path: throws config::ConfigError when the config cannot be used.
std::string resolve_rpc_address(const std::string& rpc_flag, const std::string& config_path, bool config_given);

}  // namespace pivot::cli
