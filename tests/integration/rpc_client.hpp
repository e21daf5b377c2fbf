#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "protocol/rpc_frame.hpp"

namespace pivot::test {

/// A raw goridge RPC connection (TCP or unix) speaking the bytes of protocol doc §5.1, for the
/// integration tests of the RPC server and of each plugin's RPC service.
class RpcClient {
 public:
  /// Connects to 127.0.0.1:`tcp_port`; throws std::runtime_error when that fails.
  explicit RpcClient(int tcp_port);
  /// Connects to the unix socket at `unix_path`; throws std::runtime_error when that fails.
  explicit RpcClient(const std::string& unix_path);
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  /// Sends `bytes` whole.
  void send_raw(const std::string& bytes);
  /// Sends one request frame.
  void send(std::uint32_t seq, const std::string& method, std::uint8_t flag_bits, const std::string& body);
  /// The next reply frame's bytes, exactly as received (CRC checked); throws on timeout or a bad frame.
  std::string read_raw(std::chrono::milliseconds timeout = std::chrono::seconds(15));
  /// The next reply, parsed (the test fails when it is no RPC frame).
  protocol::RpcMessage read(std::chrono::milliseconds timeout = std::chrono::seconds(15));
  /// One call with the next sequence number; checks that the reply echoes seq and method.
  protocol::RpcMessage call(const std::string& method, std::uint8_t codec, const std::string& body);
  /// True when the server closed the connection within `timeout`.
  bool closed_by_peer(std::chrono::milliseconds timeout);

 private:
  bool fill(std::chrono::milliseconds timeout);

  int fd_ = -1;
  std::uint32_t seq_ = 0;
  std::string buf_;
};

}  // namespace pivot::test
