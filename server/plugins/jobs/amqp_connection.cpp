#include "server/plugins/jobs/amqp_connection.hpp"

#include <amqp_tcp_socket.h>
#include <sys/time.h>

#include <vector>

#include "server/config/config_error.hpp"
#include "server/plugins/jobs/amqp_error.hpp"

namespace pivot::jobs {
namespace {

timeval to_timeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

std::string bytes(amqp_bytes_t b) { return {static_cast<const char*>(b.bytes), b.len}; }

/// "<doing>: <why>" for an rpc reply that is not AMQP_RESPONSE_NORMAL.
std::string describe(const amqp_rpc_reply_t& r, const char* doing, bool* channel_closed) {
  std::string why;
  switch (r.reply_type) {
    case AMQP_RESPONSE_NONE: why = "missing RPC reply"; break;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION: why = amqp_error_string2(r.library_error); break;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        const auto* m = static_cast<const amqp_connection_close_t*>(r.reply.decoded);
        why = "broker closed the connection: " + std::to_string(m->reply_code) + " " + bytes(m->reply_text);
      } else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const auto* m = static_cast<const amqp_channel_close_t*>(r.reply.decoded);
        why = "broker closed the channel: " + std::to_string(m->reply_code) + " " + bytes(m->reply_text);
        if (channel_closed) *channel_closed = true;
      } else {
        why = "unexpected broker method " + std::to_string(r.reply.id);
      }
      break;
    case AMQP_RESPONSE_NORMAL: break;
  }
  return std::string(doing) + ": " + why;
}

}  // namespace

AmqpAddress AmqpAddress::parse(const std::string& url, const std::string& key) {
  std::vector<char> buf(url.begin(), url.end());
  buf.push_back('\0');
  amqp_connection_info info{};
  amqp_default_connection_info(&info);
  if (url.rfind("amqp://", 0) != 0 || amqp_parse_url(buf.data(), &info) != AMQP_STATUS_OK) {
    throw config::ConfigError("config key " + key + ": \"" + url +
                              "\" is not an amqp:// URL; use amqp://user:password@host:port/vhost "
                              "(default amqp://guest:guest@127.0.0.1:5672/)");
  }
  AmqpAddress a;
  a.host = info.host;
  a.port = info.port;
  a.user = info.user;
  a.password = info.password;
  a.vhost = info.vhost;
  if (a.vhost.empty()) a.vhost = "/";  // "amqp://host/" means the default vhost, as RoadRunner (amqp091) reads it
  if (a.host.empty()) throw config::ConfigError("config key " + key + ": \"" + url + "\" has no host");
  return a;
}

std::string AmqpAddress::display() const { return host + ":" + std::to_string(port) + "/" + vhost; }

AmqpConnection::AmqpConnection(AmqpAddress address) : address_(std::move(address)) {}

AmqpConnection::~AmqpConnection() { close(); }

int AmqpConnection::fd() const noexcept { return state_ ? amqp_get_sockfd(state_) : -1; }

std::error_code AmqpConnection::fail(std::string text) {
  error_ = std::move(text);
  return AmqpError::unavailable;
}

std::error_code AmqpConnection::open(std::chrono::milliseconds timeout, int heartbeat,
                                     std::chrono::milliseconds rpc_timeout) {
  abandon();
  state_ = amqp_new_connection();
  if (state_ == nullptr) return fail("out of memory");
  amqp_socket_t* socket = amqp_tcp_socket_new(state_);  // owned by the connection
  if (socket == nullptr) {
    abandon();
    return fail("cannot create a TCP socket");
  }
  const timeval tv = to_timeval(timeout);
  const int st = amqp_socket_open_noblock(socket, address_.host.c_str(), address_.port, &tv);
  if (st != AMQP_STATUS_OK) {
    abandon();
    return fail("connect " + address_.display() + ": " + amqp_error_string2(st));
  }
  amqp_set_handshake_timeout(state_, &tv);
  const timeval rpc = to_timeval(rpc_timeout);
  amqp_set_rpc_timeout(state_, &rpc);
  const amqp_rpc_reply_t r = amqp_login(state_, address_.vhost.c_str(), 0, AMQP_DEFAULT_FRAME_SIZE, heartbeat,
                                        AMQP_SASL_METHOD_PLAIN, address_.user.c_str(), address_.password.c_str());
  if (r.reply_type != AMQP_RESPONSE_NORMAL) {
    std::string why = describe(r, ("login to " + address_.display() + " as " + address_.user).c_str(), nullptr);
    abandon();
    return fail(std::move(why));
  }
  error_.clear();
  return {};
}

std::error_code AmqpConnection::open_channel(amqp_channel_t ch) {
  if (!state_) return fail("not connected");
  amqp_channel_open(state_, ch);
  return check_rpc("channel.open");
}

std::error_code AmqpConnection::reopen_channel(amqp_channel_t ch) {
  if (!state_) return fail("not connected");
  amqp_channel_close_ok_t ok{};
  if (auto ec = check_status(amqp_send_method(state_, ch, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok), "channel.close-ok")) {
    return ec;
  }
  return open_channel(ch);
}

std::error_code AmqpConnection::check_rpc(const char* doing, bool* channel_closed) {
  if (!state_) return fail("not connected");
  const amqp_rpc_reply_t r = amqp_get_rpc_reply(state_);
  if (r.reply_type == AMQP_RESPONSE_NORMAL) return {};
  return fail(describe(r, doing, channel_closed));
}

std::error_code AmqpConnection::check_status(int status, const char* doing) {
  if (status == AMQP_STATUS_OK) return {};
  return fail(std::string(doing) + ": " + amqp_error_string2(status));
}

void AmqpConnection::close() noexcept {
  if (!state_) return;
  amqp_connection_close(state_, AMQP_REPLY_SUCCESS);  // bounded by the RPC timeout
  amqp_destroy_connection(state_);
  state_ = nullptr;
}

void AmqpConnection::abandon() noexcept {
  if (!state_) return;
  amqp_destroy_connection(state_);  // closes the socket, frees the pools
  state_ = nullptr;
}

}  // namespace pivot::jobs
