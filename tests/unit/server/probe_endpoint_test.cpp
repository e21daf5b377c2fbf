#include <catch2/catch.hpp>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <string>
#include <thread>

#include "server/http/probe_endpoint.hpp"

using pivot::http::ProbeEndpoint;
using pivot::http::RequestParser;

namespace {

/// Sends `raw` on a fresh connection and returns everything the endpoint wrote before closing.
std::string exchange(std::uint16_t port, const std::string& raw) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(s, asio::buffer(raw));
  std::string out;
  std::error_code ec;
  asio::read(s, asio::dynamic_buffer(out), ec);  // until the endpoint closes
  return out;
}

}  // namespace

TEST_CASE("probe endpoint: one request per connection, HEAD without a body, errors reach the handler", "[probe]") {
  asio::io_context io;
  auto log = std::make_shared<spdlog::logger>("probe", std::make_shared<spdlog::sinks::null_sink_mt>());
  ProbeEndpoint ep(io, "probe", "127.0.0.1", 0, 16,
                   [](RequestParser::Status st, const RequestParser& p) -> asio::awaitable<ProbeEndpoint::Reply> {
                     if (st != RequestParser::Status::complete) co_return ProbeEndpoint::Reply{p.error_status(), "text/plain", "bad\n"};
                     co_return ProbeEndpoint::Reply{200, "application/json", "{\"target\":\"" + p.request().target + "\"}"};
                   },
                   log);
  ep.start();
  REQUIRE(ep.port() != 0);
  std::thread runner([&io] { io.run(); });

  const std::string get = exchange(ep.port(), "GET /health?plugin=http HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(get.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(get.find("Content-Type: application/json\r\n") != std::string::npos);
  CHECK(get.find("Connection: close\r\n") != std::string::npos);
  CHECK(get.find("Cache-Control: no-store\r\n") != std::string::npos);
  const std::string body = R"({"target":"/health?plugin=http"})";
  CHECK(get.find("Content-Length: " + std::to_string(body.size()) + "\r\n") != std::string::npos);
  CHECK(get.substr(get.size() - body.size()) == body);

  const std::string head = exchange(ep.port(), "HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(head.find("Content-Length: 15\r\n") != std::string::npos);  // {"target":"/x"}
  CHECK(head.substr(head.size() - 4) == "\r\n\r\n");                  // and no body

  const std::string bad = exchange(ep.port(), "NOT HTTP AT ALL\r\n\r\n");
  CHECK(bad.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
  const std::string big = exchange(ep.port(), "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n");
  CHECK(big.rfind("HTTP/1.1 413 ", 0) == 0);  // over max_body (16)

  ep.stop();
  runner.join();  // the acceptor closed: nothing is left for io to run
}
