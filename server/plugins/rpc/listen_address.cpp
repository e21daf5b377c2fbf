#include "server/plugins/rpc/listen_address.hpp"

#include <charconv>
#include <stdexcept>

namespace pivot::rpc {

ListenAddress ListenAddress::parse(const std::string& text) {
  ListenAddress a;
  if (text.rfind("unix://", 0) == 0) {
    a.kind = Kind::unix_socket;
    a.path = text.substr(7);
    if (a.path.empty()) throw std::invalid_argument("rpc address \"" + text + "\": unix:// needs a socket path");
    return a;
  }
  if (text.rfind("tcp://", 0) != 0) {
    throw std::invalid_argument("rpc address \"" + text + "\" must be tcp://host:port or unix:///path/to.sock");
  }
  const std::string rest = text.substr(6);
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("rpc address \"" + text + "\" has no port (tcp://host:port)");
  a.host = rest.substr(0, colon);
  if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']') a.host = a.host.substr(1, a.host.size() - 2);
  // RoadRunner would bind every interface for "tcp://:6001"; an RPC port that can reset the
  // server must not be reachable from outside unless the config names such an address.
  if (a.host.empty()) a.host = "127.0.0.1";
  const std::string port_text = rest.substr(colon + 1);
  unsigned port = 0;
  const auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535 || port_text.empty()) {
    throw std::invalid_argument("rpc address \"" + text + "\": port \"" + port_text + "\" must be a number 0..65535");
  }
  a.port = static_cast<std::uint16_t>(port);
  return a;
}

std::string ListenAddress::to_string() const {
  if (kind == Kind::unix_socket) return "unix://" + path;
  const bool v6 = host.find(':') != std::string::npos;
  return "tcp://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace pivot::rpc
