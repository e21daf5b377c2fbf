#include "server/plugins/rpc/rpc_server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

#include "server/plugins/rpc/rpc_session.hpp"

namespace pivot::rpc {
namespace {

using Generic = asio::generic::stream_protocol;

/// The TCP view of a generic endpoint; false for unix sockets.
bool as_tcp(const Generic::endpoint& ep, asio::ip::tcp::endpoint& out) {
  const int family = ep.data()->sa_family;
  if ((family != AF_INET && family != AF_INET6) || ep.size() > out.capacity()) return false;
  std::memcpy(out.data(), ep.data(), ep.size());
  out.resize(ep.size());
  return true;
}

/// "ip:port" for TCP peers, "unix" for unix sockets (their peers have no name).
std::string describe(const Generic::endpoint& ep) {
  asio::ip::tcp::endpoint tcp;
  if (!as_tcp(ep, tcp)) return "unix";
  const auto a = tcp.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(tcp.port());
}

}  // namespace

RpcServer::RpcServer(asio::io_context& io, ListenAddress address, const core::RpcRegistry& registry,
                     std::shared_ptr<spdlog::logger> log)
    : io_(io), address_(std::move(address)), registry_(registry), log_(std::move(log)), acceptor_(asio::make_strand(io)) {}

RpcServer::~RpcServer() {
  if (unlink_on_stop_) ::unlink(address_.path.c_str());
}

void RpcServer::remove_stale_socket() {
  struct stat st {};
  if (::lstat(address_.path.c_str(), &st) != 0) return;  // nothing there
  const std::string where = "rpc.listen " + address_.to_string();
  if (!S_ISSOCK(st.st_mode)) {
    throw std::system_error(EEXIST, std::generic_category(), where + ": the path exists and is not a socket");
  }
  // A socket file nobody accepts on is left over from a crash: remove it. One that answers
  // belongs to a running server, which we must not steal from.
  asio::local::stream_protocol::socket probe(io_);
  std::error_code ec;
  probe.connect(asio::local::stream_protocol::endpoint(address_.path), ec);
  if (!ec) throw std::system_error(EADDRINUSE, std::generic_category(), where + ": another process is listening on it");
  if (::unlink(address_.path.c_str()) != 0 && errno != ENOENT) {
    throw std::system_error(errno, std::generic_category(), where + ": cannot remove the stale socket file");
  }
  log_->info("event=rpc_stale_socket_removed path={}", address_.path);
}

void RpcServer::start() {
  const std::string where = "rpc.listen " + address_.to_string();
  try {
    if (address_.kind == ListenAddress::Kind::unix_socket) {
      if (address_.path.size() >= sizeof(sockaddr_un::sun_path)) {
        throw std::system_error(ENAMETOOLONG, std::generic_category(), "unix socket path longer than 107 bytes");
      }
      remove_stale_socket();
      const Generic::endpoint ep{asio::local::stream_protocol::endpoint(address_.path)};
      acceptor_.open(ep.protocol());
      acceptor_.bind(ep);
      unlink_on_stop_ = true;
    } else {
      std::error_code ec;
      asio::ip::address addr = asio::ip::make_address(address_.host, ec);
      if (ec) {
        asio::ip::tcp::resolver resolver(io_);
        const auto results = resolver.resolve(address_.host, std::to_string(address_.port));
        if (results.empty()) throw std::system_error(asio::error::host_not_found, "cannot resolve " + address_.host);
        addr = results.begin()->endpoint().address();
      }
      const Generic::endpoint ep{asio::ip::tcp::endpoint(addr, address_.port)};
      acceptor_.open(ep.protocol());
      acceptor_.set_option(asio::socket_base::reuse_address(true));
      acceptor_.bind(ep);
    }
    acceptor_.listen(asio::socket_base::max_listen_connections);
  } catch (const std::system_error& e) {
    throw std::system_error(e.code(), where + ": cannot listen");
  }
  ListenAddress bound = address_;
  asio::ip::tcp::endpoint local;
  if (as_tcp(acceptor_.local_endpoint(), local)) bound.port = local.port();
  bound_ = bound.to_string();
  log_->info("event=rpc_listening address={} methods={}", bound_, registry_.methods().size());
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
}

asio::awaitable<void> RpcServer::accept_loop() {
  for (;;) {
    auto [ec, socket] =
        co_await acceptor_.async_accept(asio::make_strand(io_), asio::experimental::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open() || stopping_) co_return;
      log_->error("event=rpc_accept_failed error=\"{}\"", ec.message());
      asio::steady_timer t(acceptor_.get_executor(), std::chrono::milliseconds(50));
      co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      continue;
    }
    std::error_code rec;
    const auto peer = socket.remote_endpoint(rec);
    std::string remote = rec ? std::string("unknown") : describe(peer);
    asio::ip::tcp::endpoint tcp_peer;
    if (!rec && as_tcp(peer, tcp_peer)) socket.set_option(asio::ip::tcp::no_delay(true), rec);
    auto session = std::make_shared<RpcSession>(std::move(socket), std::move(remote), registry_, *this, log_);
    if (!add(session)) continue;  // the session closes its socket when dropped here
    session->start();
  }
}

bool RpcServer::add(const std::shared_ptr<RpcSession>& s) {
  std::lock_guard lock(mu_);
  if (stopping_) return false;
  if (sessions_.size() >= kMaxConnections) {
    log_->warn("event=rpc_connection_refused reason=max_connections limit={}", kMaxConnections);
    return false;
  }
  sessions_.emplace(s.get(), s);
  return true;
}

void RpcServer::remove(RpcSession* s) {
  std::lock_guard lock(mu_);
  sessions_.erase(s);
}

void RpcServer::stop() {
  if (stopping_.exchange(true)) return;
  asio::post(acceptor_.get_executor(), [this] {
    std::error_code ec;
    acceptor_.close(ec);
  });
  std::vector<std::shared_ptr<RpcSession>> live;
  {
    std::lock_guard lock(mu_);
    for (auto& [p, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->close();
  if (unlink_on_stop_) {
    ::unlink(address_.path.c_str());
    unlink_on_stop_ = false;
  }
  log_->info("event=rpc_stopped address={} connections_closed={}", bound_, live.size());
}

}  // namespace pivot::rpc
