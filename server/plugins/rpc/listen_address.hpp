#pragma once

#include <cstdint>
#include <string>

namespace pivot::rpc {

/// A parsed `rpc.listen` address: `tcp://host:port` or `unix:///path`. Plain data.
struct ListenAddress {
  /// Transport of the address.
  enum class Kind { tcp, unix_socket };

  Kind kind = Kind::tcp;     ///< tcp or unix
  std::string host;          ///< tcp: IP literal or name; "127.0.0.1" when the text leaves it empty
  std::uint16_t port = 0;    ///< tcp: port
  std::string path;          ///< unix: socket file path

  /// Parses `text`; an empty tcp host means loopback (127.0.0.1), never all interfaces.
  /// Control path: throws std::invalid_argument with a readable message.
  static ListenAddress parse(const std::string& text);

  /// The normalised address ("tcp://127.0.0.1:6001", "tcp://[::1]:6001", "unix:///run/rr.sock"),
  /// as exported to workers in RR_RPC (PHP rejects an empty host).
  std::string to_string() const;
};

/// The address RoadRunner and its PHP SDK assume when nothing is configured.
inline constexpr const char* kDefaultRpcListen = "tcp://127.0.0.1:6001";

}  // namespace pivot::rpc
