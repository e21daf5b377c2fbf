#pragma once

#include <spdlog/logger.h>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "server/http/request_parser.hpp"

namespace pivot::http {

/// A small HTTP/1.1 listener for operational endpoints (/health, /ready, /metrics): one request
/// per connection, bounded in size and time, answered by a handler and closed. Runs on the
/// io_context, one coroutine per connection (the acceptor on its own strand).
class ProbeEndpoint {
 public:
  /// What the handler answers; `content_type` goes out as it is.
  struct Reply {
    int status = 200;             ///< HTTP status
    std::string content_type;     ///< Content-Type header value
    std::string body;             ///< body (not sent for HEAD)
  };
  /// Called once per connection with the parser's final status (complete, error or
  /// expect_continue) and the parser, whose request() is whole when `st` is complete.
  using Handler = std::function<asio::awaitable<Reply>(RequestParser::Status st, const RequestParser& parser)>;

  /// Binds nothing yet. `name` prefixes the log events ("status" -> event=status_listening).
  ProbeEndpoint(asio::io_context& io, std::string name, std::string host, std::uint16_t port, std::size_t max_body,
                Handler handler, std::shared_ptr<spdlog::logger> log);
  ~ProbeEndpoint();
  ProbeEndpoint(const ProbeEndpoint&) = delete;
  ProbeEndpoint& operator=(const ProbeEndpoint&) = delete;

  /// Binds and listens (throws std::system_error: control path), logs `event=NAME_listening
  /// address=HOST:PORT` plus `log_suffix`, then accepts in the background.
  void start(const std::string& log_suffix = {});
  /// Stops accepting. Thread-safe.
  void stop();
  /// The bound port.
  std::uint16_t port() const noexcept { return port_; }

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(asio::ip::tcp::socket socket);

  asio::io_context& io_;
  std::string name_;
  std::string host_;
  std::uint16_t requested_port_;
  std::size_t max_body_;
  Handler handler_;
  std::shared_ptr<spdlog::logger> log_;
  asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
};

}  // namespace pivot::http
