#include "server/plugins/kv/redis_connection.hpp"

#include <hiredis/hiredis.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

#include "server/plugins/kv/kv_error.hpp"

namespace pivot::kv {
namespace {

timeval to_timeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

RedisReply copy_reply(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::array;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(copy_reply(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::nil;
  }
  return out;
}

/// One command's reply; false with `error` set on a transport failure (see redisGetReply).
bool read_reply(redisContext* c, RedisReply& out) {
  void* raw = nullptr;
  if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) return false;
  out = copy_reply(static_cast<redisReply*>(raw));
  freeReplyObject(raw);
  return true;
}

}  // namespace

RedisConnection::RedisConnection(Options options)
    : options_(std::move(options)), address_(options_.host + ":" + std::to_string(options_.port)) {}

RedisConnection::~RedisConnection() { disconnect(); }

void RedisConnection::disconnect() noexcept {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
}

OpStatus RedisConnection::transport_error(const char* doing) {
  const int saved_errno = errno;
  OpStatus st;
  if (ctx_->err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)) {
    st.code = KvError::timeout;
    st.detail = std::string("no answer from ") + address_ + " within read_timeout " +
                std::to_string(options_.read_timeout.count()) + "ms / write_timeout " +
                std::to_string(options_.write_timeout.count()) + "ms";
  } else if (ctx_->err == REDIS_ERR_EOF) {
    st.code = KvError::unavailable;
    st.detail = address_ + " closed the connection";
  } else {
    st.code = KvError::unavailable;
    st.detail = std::string(doing) + " " + address_ + ": " + ctx_->errstr;
  }
  disconnect();  // the stream is out of step (or dead): never reuse it
  return st;
}

OpStatus RedisConnection::connect() {
  disconnect();
  ctx_ = redisConnectWithTimeout(options_.host.c_str(), options_.port, to_timeval(options_.dial_timeout));
  if (ctx_ == nullptr) return {KvError::unavailable, "connect " + address_ + ": out of memory"};
  if (ctx_->err) {
    OpStatus st{KvError::unavailable, "connect " + address_ + ": " + ctx_->errstr};
    disconnect();
    return st;
  }
  // Handshake under dial_timeout, then the configured per-direction timeouts.
  const timeval dial = to_timeval(options_.dial_timeout);
  ::setsockopt(ctx_->fd, SOL_SOCKET, SO_RCVTIMEO, &dial, sizeof dial);
  ::setsockopt(ctx_->fd, SOL_SOCKET, SO_SNDTIMEO, &dial, sizeof dial);
  redisEnableKeepAlive(ctx_);
  std::vector<std::vector<std::string>> handshake;
  if (!options_.password.empty()) {
    if (options_.username.empty()) {
      handshake.push_back({"AUTH", options_.password});
    } else {
      handshake.push_back({"AUTH", options_.username, options_.password});
    }
  }
  if (options_.db != 0) handshake.push_back({"SELECT", std::to_string(options_.db)});
  if (!handshake.empty()) {
    std::vector<RedisReply> replies;
    if (OpStatus st = run(handshake, replies); !st.ok()) return st;
    for (std::size_t i = 0; i < replies.size(); ++i) {
      if (replies[i].type == RedisReply::Type::error) {
        // The server's text (WRONGPASS, NOAUTH, ERR DB index is out of range); never the password.
        OpStatus st{KvError::unavailable, std::string(handshake[i][0]) + " on " + address_ + " failed: " + replies[i].str};
        disconnect();
        return st;
      }
    }
  }
  const timeval rcv = to_timeval(options_.read_timeout);
  const timeval snd = to_timeval(options_.write_timeout);
  ::setsockopt(ctx_->fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof rcv);
  ::setsockopt(ctx_->fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof snd);
  return {};
}

OpStatus RedisConnection::run(const std::vector<std::vector<std::string>>& commands, std::vector<RedisReply>& replies) {
  replies.clear();
  replies.reserve(commands.size());
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& cmd : commands) {
    argv.clear();
    lens.clear();
    for (const auto& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK) {
      return transport_error("send to");
    }
  }
  for (std::size_t i = 0; i < commands.size(); ++i) {
    RedisReply r;
    if (!read_reply(ctx_, r)) return transport_error("read from");
    replies.push_back(std::move(r));
  }
  return {};
}

OpStatus RedisConnection::execute(const std::vector<std::vector<std::string>>& commands, std::vector<RedisReply>& replies) {
  const bool reused = ctx_ != nullptr;
  if (!reused) {
    if (OpStatus st = connect(); !st.ok()) return st;
  }
  OpStatus st = run(commands, replies);
  if (st.ok() || !reused || st.code != make_error_code(KvError::unavailable)) return st;
  // A kept-alive connection found dead (Redis restarted, idle timeout): one fresh attempt.
  if (OpStatus c = connect(); !c.ok()) return c;
  return run(commands, replies);
}

}  // namespace pivot::kv
