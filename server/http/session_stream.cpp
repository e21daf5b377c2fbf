// Session: streamed replies (protocol doc §2.6, §3.6). Kept apart from session.cpp, which
// handles the one-frame reply of the hello-world path.
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <charconv>

#include "protocol/http_response_proto.hpp"
#include "protocol/json_writer.hpp"
#include "protocol/protocol_error.hpp"
#include "server/http/session.hpp"
#include "server/http/status_map.hpp"

namespace pivot::http {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";
constexpr std::string_view kCrlfLastChunk = "\r\n0\r\n\r\n";

std::string quoted(std::string_view s) {
  std::string out;
  protocol::append_json_string(out, s);
  return out;
}

void append_chunk_size(std::string& out, std::size_t n) {
  char buf[20];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n, 16);
  (void)ec;
  out.append(buf, end);
  out.append(kCrlf);
}

}  // namespace

asio::awaitable<bool> Session::reject_reply(std::error_code ec, const pool::ExecResult& result, std::string_view context, bool close) {
  if (ec == protocol::ProtocolError::bad_status) {
    // RoadRunner's answer and wording for a status outside 100..599.
    const std::string text = "unknown status code from worker: " + std::to_string(response_ctx_.status);
    ctx_.log->error("event=bad_worker_response pid={} error={}", result.pid, quoted(text));
    co_return co_await write_simple(500, text, close);
  }
  ctx_.log->error("event=bad_worker_response pid={} error={} codec={} context_prefix={}", result.pid, quoted(ec.message()),
                  (result.frame.flags & protocol::flags::kCodecProto) ? "proto" : "json", quoted(context.substr(0, 128)));
  co_return co_await write_simple(502, reason_phrase(502), close);
}

asio::awaitable<bool> Session::write_parts(std::string_view head, std::string_view body, std::string_view tail) {
  set_deadline(Phase::write, ctx_.cfg.write_timeout);
  const std::array<asio::const_buffer, 3> bufs{asio::buffer(head), asio::buffer(body), asio::buffer(tail)};
  auto [ec, n] = co_await asio::async_write(socket_, bufs, asio::experimental::as_tuple(asio::use_awaitable));
  (void)n;
  set_deadline(Phase::none, {});
  if (!ec) {
    timed_out_ = false;
    co_return true;
  }
  write_failed_ = true;
  if (timed_out_) {
    timed_out_ = false;
    ctx_.log->info("event=write_timeout remote={} timeout_ms={}", remote_ip_, ctx_.cfg.write_timeout.count());
  }
  std::error_code ignored;
  socket_.close(ignored);
  co_return false;
}

asio::awaitable<bool> Session::respond_stream(pool::ExecResult& first, const HttpRequest& req) {
  const bool http11 = req.version_major > 1 || req.version_minor >= 1;
  bool close = !req.keep_alive || ctx_.stopping.load(std::memory_order_relaxed);
  const bool head_only = req.method == "HEAD";
  bool head_sent = false;
  bool no_body = false;
  bool chunked = false;
  std::uint64_t bytes = 0;
  unsigned frames = 0;
  pool::ExecResult next;
  pool::ExecResult* r = &first;
  last_status_ = 0;
  last_body_bytes_ = 0;
  for (;;) {
    ++frames;
    const bool last = !stream_.is_open();  // the pool closes the stream after its last frame
    const std::string& payload = r->frame.payload;
    const std::string_view context(payload.data(), r->context_len);
    const std::string_view body(payload.data() + r->context_len, payload.size() - r->context_len);
    head_.clear();
    std::string_view tail;
    std::string_view data;
    if (!head_sent) {
      // Until the final status is out every frame's context counts; afterwards header changes are
      // ignored (as Go's ResponseWriter does).
      if (auto ec = protocol::decode_reply_context(r->frame.flags, context, response_ctx_)) {
        stream_.abort();
        co_return co_await reject_reply(ec, *r, context, close);
      }
      const int status = response_ctx_.status;
      if (status >= 100 && status < 200) {
        if (last) {
          ctx_.log->error("event=bad_worker_response pid={} error=\"the stream ended with informational status {}\"", r->pid, status);
          co_return co_await write_simple(502, reason_phrase(502), close);
        }
        // An interim response with its own headers (never merged into the final one); a 1xx body
        // is dropped, 101 is never sent, and HTTP/1.0 clients get no 1xx at all.
        if (status != 101 && http11) {
          if (const std::size_t skipped = append_interim_head(head_, status, response_ctx_.headers)) {
            ctx_.log->warn("event=unsafe_response_header_dropped pid={} count={}", r->pid, skipped);
          }
          if (!co_await write_parts(head_, {}, {})) {
            stream_.abort();
            co_return false;
          }
          head_.clear();
        }
      } else {
        ResponseHeadOptions opts;
        opts.status = status;
        opts.date = date_.now();
        opts.request_id = request_id_;
        if (last) {
          // The whole body is in this frame (e.g. 103 then a plain 200): a normal response.
          opts.content_length = body.size();
          opts.keep_alive_10 = !close && !http11;
        } else if (http11) {
          opts.framing = BodyFraming::chunked;
          chunked = true;
        } else {
          opts.framing = BodyFraming::close;  // HTTP/1.0: the body ends when the connection does
          close = true;
        }
        opts.close = close;
        if (const std::size_t skipped = append_response_head(head_, opts, response_ctx_.headers)) {
          ctx_.log->warn("event=unsafe_response_header_dropped pid={} count={}", r->pid, skipped);
        }
        no_body = head_only || status_has_no_body(status);
        chunked = chunked && !no_body;
        head_sent = true;
        last_status_ = status;
      }
    }
    if (head_sent && !no_body) {
      data = body;
      bytes += body.size();
      if (chunked) {
        if (!body.empty()) {
          append_chunk_size(head_, body.size());
          tail = last ? kCrlfLastChunk : kCrlf;
        } else if (last) {
          tail = kLastChunk;
        }
      }
    }
    // Each frame is written as soon as it arrives: never buffered to the end.
    if (!head_.empty() || !data.empty() || !tail.empty()) {
      if (!co_await write_parts(head_, data, tail)) {
        last_body_bytes_ = bytes;
        stream_.abort();
        ctx_.log->info("event=stream_client_gone remote={} pid={} frames={} bytes={}", remote_ip_, r->pid, frames, bytes);
        co_return false;
      }
    }
    if (last) break;
    next = co_await stream_.next();
    r = &next;
    if (next.outcome != pool::Outcome::Ok) {
      last_body_bytes_ = bytes;
      const int status = status_for(next.outcome, ctx_.cfg.internal_error_code);
      ctx_.log->warn("event=stream_broken method={} target={} status={} outcome={} pid={} frames={} error={}", req.method,
                     quoted(req.target), head_sent ? last_status_ : status, pool::outcome_name(next.outcome), next.pid, frames,
                     quoted(next.error));
      if (!head_sent) co_return co_await write_simple(status, reason_phrase(status), close, status == 503);
      co_return false;  // the response cannot be completed: the connection is closed
    }
  }
  last_body_bytes_ = bytes;
  co_return !close;
}

}  // namespace pivot::http
