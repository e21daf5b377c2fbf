// The pool's frame handling for streamed replies (protocol doc §2.6) with a real PHP worker
// (tests/integration/workers/stream.php): exec() refuses streams, exec_stream() relays them
// frame by frame with PING/PONG, abort() sends STOP and drains, and the worker stays.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <spdlog/logger.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "protocol/frame.hpp"
#include "server/pool/pool.hpp"

using namespace pivot;
using namespace std::chrono_literals;

namespace {

std::string request_frame(const std::string& path, const std::string& query) {
  const std::string ctx = R"({"remoteAddr":"127.0.0.1","protocol":"HTTP/1.1","method":"GET","uri":"http://t)" + path + "?" + query +
                          R"(","headers":{},"cookies":{},"rawQuery":")" + query +
                          R"(","parsed":false,"uploads":null,"attributes":{}})";
  std::string out;
  const auto len = static_cast<std::uint32_t>(ctx.size());
  protocol::append_frame(out, 0, std::span<const std::uint32_t>(&len, 1), ctx);
  return out;
}

std::string body_of(const pool::ExecResult& r) { return r.frame.payload.substr(r.context_len); }

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("pool: exec refuses streams, exec_stream relays them, abort stops them", "[pool][stream]") {
  asio::io_context io;
  pool::Pool::Options o;
  o.name = "http";
  o.cfg.num_workers = 1;
  o.cfg.allocate_timeout = 10s;
  o.cfg.stream_timeout = 5s;
  o.cfg.supervisor.exec_ttl = 5s;  // a missing PONG would hang the worker: fail instead
  o.argv = {"/usr/bin/php", std::string(PIVOT_SOURCE_DIR) + "/tests/integration/workers/stream.php"};
  o.env = {"PATH=/usr/bin:/bin"};
  auto log = std::make_shared<spdlog::logger>("test");
  pool::Pool p(io, std::move(o), log, log);
  p.start();
  char marker_tmpl[] = "/tmp/pivot-pool-stream-XXXXXX";
  ::close(::mkstemp(marker_tmpl));
  const std::string marker = marker_tmpl;
  std::remove(marker.c_str());

  bool finished = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    // 1. A plain exec (jobs) gets "streaming is not supported"; the stream is drained and the
    //    same worker answers the next request.
    pool::ExecResult refused = co_await p.exec(request_frame("/stream", "n=7"));
    CHECK(refused.outcome == pool::Outcome::ProtocolError);
    CHECK(refused.error == "streaming is not supported");
    pool::ExecResult pid = co_await p.exec(request_frame("/pid", ""));
    CHECK(pid.outcome == pool::Outcome::Ok);
    CHECK(body_of(pid) == std::to_string(refused.pid));

    // 2. exec_stream: every frame as it comes; the PING on frame 6 is answered (else exec_ttl).
    {
      pool::ReplyStream st;
      pool::ExecResult r = co_await p.exec_stream(request_frame("/stream", "n=7"), st);
      CHECK(r.outcome == pool::Outcome::Ok);
      CHECK(st.is_open());
      std::string body = body_of(r);
      int frames = 1;
      while (st.is_open()) {
        pool::ExecResult c = co_await st.next();
        CHECK(c.outcome == pool::Outcome::Ok);
        if (c.outcome != pool::Outcome::Ok) break;
        body += body_of(c);
        ++frames;
      }
      CHECK(frames == 8);  // 7 chunks and the empty last frame
      CHECK(body == "chunk 1\nchunk 2\nchunk 3\nchunk 4\nchunk 5\nchunk 6\nchunk 7\n");
    }

    // 3. abort: STOP goes out, the generator stops, the stream is drained, the worker stays.
    {
      pool::ReplyStream st;
      pool::ExecResult r = co_await p.exec_stream(request_frame("/stream", "n=1000&ms=10&marker=" + marker), st);
      CHECK(r.outcome == pool::Outcome::Ok);
      pool::ExecResult c = co_await st.next();
      CHECK(c.outcome == pool::Outcome::Ok);
      st.abort();
      CHECK_FALSE(st.is_open());
    }
    pool::ExecResult after = co_await p.exec(request_frame("/pid", ""));
    CHECK(after.outcome == pool::Outcome::Ok);
    CHECK(body_of(after) == std::to_string(refused.pid));
    CHECK(slurp(marker) == "stopped " + std::to_string(refused.pid));

    // 4. A stream left open is aborted by the ReplyStream's destructor.
    {
      pool::ReplyStream st;
      pool::ExecResult r = co_await p.exec_stream(request_frame("/stream", "n=1000&ms=10"), st);
      CHECK(r.outcome == pool::Outcome::Ok);
      CHECK(st.is_open());
    }
    pool::ExecResult last = co_await p.exec(request_frame("/pid", ""));
    CHECK(last.outcome == pool::Outcome::Ok);
    CHECK(body_of(last) == std::to_string(refused.pid));

    co_await p.stop();
    finished = true;
  }, asio::detached);
  io.run_for(60s);
  CHECK(finished);
  std::remove(marker.c_str());
}
