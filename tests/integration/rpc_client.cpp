#include "tests/integration/rpc_client.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "protocol/frame_decoder.hpp"
#include "tests/integration/harness.hpp"

namespace pivot::test {

RpcClient::RpcClient(int tcp_port) : fd_(connect_to(tcp_port)) {
  if (fd_ < 0) throw std::runtime_error("rpc connect failed");
}

RpcClient::RpcClient(const std::string& unix_path) {
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, unix_path.c_str(), sizeof a.sun_path - 1);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd_);
    throw std::runtime_error("rpc unix connect failed");
  }
}

RpcClient::~RpcClient() { ::close(fd_); }

void RpcClient::send_raw(const std::string& bytes) { send_all(fd_, bytes); }

void RpcClient::send(std::uint32_t seq, const std::string& method, std::uint8_t flag_bits, const std::string& body) {
  send_raw(protocol::encode_rpc_frame(seq, method, flag_bits, body));
}

std::string RpcClient::read_raw(std::chrono::milliseconds timeout) {
  protocol::FrameDecoder d(64 << 20);
  std::string raw;
  while (!d.done()) {
    if (buf_.empty() && !fill(timeout)) {
      throw std::runtime_error("no RPC reply within " + std::to_string(timeout.count()) + " ms");
    }
    std::error_code ec;
    const std::size_t used = d.feed(buf_, ec);
    if (ec) throw std::runtime_error("bad RPC reply frame: " + ec.message());
    raw.append(buf_, 0, used);
    buf_.erase(0, used);
  }
  return raw;
}

protocol::RpcMessage RpcClient::read(std::chrono::milliseconds timeout) {
  const std::string raw = read_raw(timeout);
  protocol::FrameDecoder d(64 << 20);
  std::error_code ec;
  d.feed(raw, ec);
  REQUIRE_FALSE(ec);
  protocol::RpcMessage m;
  REQUIRE_FALSE(protocol::parse_rpc_frame(d.frame(), m));
  return m;
}

protocol::RpcMessage RpcClient::call(const std::string& method, std::uint8_t codec, const std::string& body) {
  const std::uint32_t seq = ++seq_;
  send(seq, method, codec, body);
  protocol::RpcMessage m = read();
  CHECK(m.seq == seq);
  CHECK(m.method == method);
  return m;
}

bool RpcClient::closed_by_peer(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char c[256];
    const ssize_t n = ::recv(fd_, c, sizeof c, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
  }
  return false;
}

bool RpcClient::fill(std::chrono::milliseconds timeout) { return recv_append(fd_, buf_, timeout); }

}  // namespace pivot::test
