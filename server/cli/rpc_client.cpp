#include "server/cli/rpc_client.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "protocol/frame.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/rpc_frame.hpp"
#include "server/config/loader.hpp"
#include "server/plugins/rpc/listen_address.hpp"

namespace pivot::cli {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

/// Non-blocking connect bounded by `deadline`; returns the fd or -1 with errno set.
int connect_fd(int family, const sockaddr* sa, socklen_t len, Clock::time_point deadline) {
  const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (::connect(fd, sa, len) == 0) return fd;
  if (errno != EINPROGRESS) {
    const int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  pollfd p{fd, POLLOUT, 0};
  const int r = ::poll(&p, 1, remaining_ms(deadline));
  int err = ETIMEDOUT;
  if (r > 0) {
    socklen_t l = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0) err = errno;
  }
  if (err != 0) {
    ::close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

}  // namespace

RpcClient::RpcClient(const std::string& address, std::chrono::milliseconds timeout) : address_(address), timeout_(timeout) {
  const rpc::ListenAddress a = rpc::ListenAddress::parse(address);
  const auto deadline = Clock::now() + timeout_;
  int err = 0;
  if (a.kind == rpc::ListenAddress::Kind::unix_socket) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (a.path.size() >= sizeof sa.sun_path) throw std::invalid_argument("unix socket path too long: " + a.path);
    std::memcpy(sa.sun_path, a.path.c_str(), a.path.size() + 1);
    fd_ = connect_fd(AF_UNIX, reinterpret_cast<sockaddr*>(&sa), sizeof sa, deadline);
    err = errno;
  } else {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const int gai = ::getaddrinfo(a.host.c_str(), std::to_string(a.port).c_str(), &hints, &res);
    if (gai != 0) {
      throw RpcUnreachable("no server answers on " + address_ + " (is it running? set rpc.listen or use --rpc): " +
                           ::gai_strerror(gai));
    }
    for (addrinfo* ai = res; ai && fd_ < 0; ai = ai->ai_next) {
      fd_ = connect_fd(ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline);
      err = errno;
    }
    ::freeaddrinfo(res);
  }
  if (fd_ < 0) {
    throw RpcUnreachable("no server answers on " + address_ + " (is it running? set rpc.listen or use --rpc): " +
                         std::strerror(err));
  }
}

RpcClient::~RpcClient() {
  if (fd_ >= 0) ::close(fd_);
}

void RpcClient::broken(const std::string& why) const {
  throw RpcUnreachable("the server on " + address_ + " did not answer: " + why);
}

void RpcClient::send_all(const std::string& bytes, Clock::time_point deadline) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) broken(std::strerror(errno));
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) broken("timed out writing the request");
  }
}

std::string RpcClient::receive_some(Clock::time_point deadline) {
  for (;;) {
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) return std::string(buf, static_cast<std::size_t>(n));
    if (n == 0) broken("the connection was closed");
    if (errno != EAGAIN && errno != EINTR) broken(std::strerror(errno));
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) broken("timed out waiting for the reply");
  }
}

nlohmann::ordered_json RpcClient::call(const std::string& method, const nlohmann::json& arg, std::chrono::milliseconds timeout) {
  const auto limit = timeout.count() > 0 ? timeout : timeout_;
  const auto deadline = Clock::now() + limit;
  const std::uint32_t seq = ++seq_;
  send_all(protocol::encode_rpc_frame(seq, method, protocol::flags::kCodecJson, arg.dump()), deadline);

  protocol::FrameDecoder decoder(256ULL << 20);
  std::string pending;
  while (!decoder.done()) {
    if (pending.empty()) pending = receive_some(deadline);
    std::error_code ec;
    pending.erase(0, decoder.feed(pending, ec));
    if (ec) broken("bad reply frame: " + ec.message());
  }
  protocol::RpcMessage reply;
  if (const auto ec = protocol::parse_rpc_frame(decoder.frame(), reply)) broken("bad reply frame: " + ec.message());
  if (reply.seq != seq) {
    broken("reply sequence mismatch (sent " + std::to_string(seq) + ", got " + std::to_string(reply.seq) + ")");
  }
  if (reply.is_error()) throw RpcCallFailed(reply.body);
  auto j = nlohmann::ordered_json::parse(reply.body, nullptr, false);
  if (j.is_discarded()) broken("the reply to " + method + " is not JSON");
  return j;
}

std::string resolve_rpc_address(const std::string& rpc_flag, const std::string& config_path, bool config_given) {
  if (!rpc_flag.empty()) return rpc_flag;
  if (!config_given && !std::ifstream(config_path)) return rpc::kDefaultRpcListen;
  const config::Config cfg = config::load_config(config_path, {}, config::process_env());
  return cfg.rpc.enabled ? rpc::ListenAddress::parse(cfg.rpc.listen).to_string() : std::string(rpc::kDefaultRpcListen);
}

}  // namespace pivot::cli
