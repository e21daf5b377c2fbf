#pragma once

#include <asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pivot::core {

/// One decoded RPC request as a handler sees it. Plain data.
struct RpcCall {
  std::string method;      ///< "Service.Method"
  std::uint8_t flags = 0;  ///< the request frame's flags (codec bits); see protocol::rpc_codec
  std::string body;        ///< the encoded argument (may be empty: zero value)
};

/// What a handler answers: a reply body in some codec, or an error text. Plain data.
struct RpcResult {
  bool ok = true;          ///< false: `error` is sent with the ERROR flag
  std::string error;       ///< plain UTF-8 error text (Go's `op: message` style)
  std::string body;        ///< the encoded reply when ok
  std::uint8_t codec = 0;  ///< reply codec flag (protocol::flags::kCodec*) when ok

  /// A successful reply encoded with `codec`.
  static RpcResult reply(std::string body, std::uint8_t codec) { return {true, {}, std::move(body), codec}; }
  /// An error reply carrying `text`.
  static RpcResult fail(std::string text) { return {false, std::move(text), {}, 0}; }
};

/// The registry of RPC methods ("Service.Method" -> handler) that plugins fill at composition
/// time and the RPC server dispatches to. Methods are added before serving starts and the
/// registry is read-only afterwards, so it needs no mutex: `dispatch` may then run concurrently
/// on any executor.
class RpcRegistry {
 public:
  /// A method implementation; runs on the calling connection's strand and may co_await anything.
  using Handler = std::function<asio::awaitable<RpcResult>(const RpcCall&)>;

  /// Registers `method` ("Service.Method"). Control path: throws std::invalid_argument when the
  /// name has no dot or is already registered. Call only before serving starts.
  void add(std::string method, Handler handler);

  /// The handler for `method`, or nullptr with `error` set to Go net/rpc's text:
  /// "rpc: service/method request ill-formed: X", "rpc: can't find service X" or
  /// "rpc: can't find method X" (split at the last dot).
  const Handler* find(std::string_view method, std::string& error) const;

  /// Looks the method up and runs its handler; lookup failures become error results.
  asio::awaitable<RpcResult> dispatch(const RpcCall& call) const;

  /// Registered method names, sorted (for logs and tests).
  std::vector<std::string> methods() const;

 private:
  std::map<std::string, Handler, std::less<>> methods_;
  std::map<std::string, unsigned, std::less<>> services_;  // service name -> method count
};

}  // namespace pivot::core
