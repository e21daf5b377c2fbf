#pragma once

#include <spdlog/logger.h>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "server/config/config.hpp"
#include "server/http/request_parser.hpp"
#include "server/http/request_translator.hpp"
#include "server/http/response_head.hpp"
#include "server/pool/pool.hpp"

namespace pivot::http {

class Listener;

/// What every session of one listener shares (read-only, or atomic).
struct SessionContext {
  pool::Pool& pool;                             ///< executes requests
  const config::HttpConfig& cfg;                ///< limits
  std::shared_ptr<spdlog::logger> log;          ///< "http" logger
  std::atomic<bool>& stopping;                  ///< graceful shutdown in progress
  std::string fallback_host;                    ///< host:port used when a request has no Host
};

/// One client connection: parses requests one at a time (pipelined ones wait in the buffer),
/// runs each on the pool and writes the response. Runs on its own strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  /// Takes the accepted socket; `on_done` is called (on the session strand) when it ends.
  Session(asio::ip::tcp::socket socket, SessionContext& ctx, Listener& listener);
  ~Session();

  /// Starts serving on the socket's strand.
  void start();
  /// Closes the connection if no request is in progress (graceful shutdown). Thread-safe.
  void close_if_idle();

 private:
  asio::awaitable<void> run();
  asio::awaitable<void> close_gracefully();
  asio::awaitable<bool> write_simple(int status, std::string_view body, bool close, bool retry_after = false);
  asio::awaitable<bool> respond(pool::ExecResult& result, const HttpRequest& req);

  asio::ip::tcp::socket socket_;
  SessionContext& ctx_;
  Listener& listener_;
  RequestParser parser_;
  RequestTranslator translator_;
  DateCache date_;
  protocol::HttpResponseContext response_ctx_;
  std::vector<char> buf_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  std::string frame_;
  std::string head_;
  std::string remote_ip_;
  bool busy_ = false;
};

}  // namespace pivot::http
