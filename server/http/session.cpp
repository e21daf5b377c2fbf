#include "server/http/session.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>

#include "protocol/frame.hpp"
#include "protocol/http_response_proto.hpp"
#include "protocol/json_writer.hpp"
#include "server/http/gzip_policy.hpp"
#include "server/http/listener.hpp"
#include "server/http/static_responder.hpp"
#include "server/http/status_map.hpp"
#include "server/plugins/metrics/http_metrics.hpp"  // Metrics plugin

namespace pivot::http {
namespace {

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadBuffer = 16 * 1024;
constexpr std::size_t kMaxLingerBytes = 1024 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string quoted(std::string_view s) {
  std::string out;
  protocol::append_json_string(out, s);
  return out;
}

}  // namespace

Session::Session(asio::ip::tcp::socket socket, SessionContext& ctx, Listener& listener)
    : socket_(std::move(socket)),
      ctx_(ctx),
      listener_(listener),
      timer_(socket_.get_executor()),
      forms_(ctx.cfg, ctx.log),
      parser_(ctx.cfg.max_header_size, ctx.cfg.max_request_size),
      buf_(kReadBuffer) {
  std::error_code ec;
  const auto ep = socket_.remote_endpoint(ec);
  if (!ec) {
    auto addr = ep.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped()) addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    remote_ip_ = addr.to_string();
    if (!ctx_.proxies.empty()) {
      TrustedProxies::Address peer{};
      if (addr.is_v4()) {
        peer = asio::ip::make_address_v6(asio::ip::v4_mapped, addr.to_v4()).to_bytes();
      } else {
        peer = addr.to_v6().to_bytes();
      }
      peer_trusted_ = ctx_.proxies.contains(peer);
    }
  }
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  parser_.set_body_sink(&forms_);
}

Session::~Session() = default;

void Session::start() {
  listener_.add(shared_from_this());
  asio::co_spawn(socket_.get_executor(), [self = shared_from_this()]() { return self->run(); }, asio::detached);
}

void Session::close_if_idle() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (!self->busy_ && !self->parser_.in_message()) {
      std::error_code ec;
      self->socket_.close(ec);
    }
  });
}

asio::awaitable<void> Session::run() {
  struct Unregister {
    Listener& l;
    Session* s;
    ~Unregister() { l.remove(s); }
  } unregister{listener_, this};

  // A fresh connection has read_header_timeout for its first request line and headers; one
  // that never sends a byte is closed silently.
  set_deadline(Phase::header, ctx_.cfg.read_header_timeout);
  for (;;) {
    RequestParser::Status st = RequestParser::Status::need_more;
    for (;;) {
      if (pos_ < end_) {
        const bool was_in_message = parser_.in_message();
        pos_ += parser_.feed(std::string_view(buf_.data() + pos_, end_ - pos_), st);
        if (!was_in_message && (parser_.in_message() || st != RequestParser::Status::need_more)) request_started();
        if (st == RequestParser::Status::expect_continue) {
          // The client waits for permission before sending the body.
          if (!co_await write_out({asio::buffer(kContinue), asio::const_buffer()})) co_return;
          parser_.resume();
          continue;
        }
        if (st != RequestParser::Status::need_more) break;
      }
      pos_ = end_ = 0;
      if (ctx_.stopping.load(std::memory_order_relaxed) && !parser_.in_message()) co_return;
      if (parser_.in_body()) {
        set_deadline(Phase::body, ctx_.cfg.read_timeout);  // the longest pause while a body arrives
      }
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf_), kTuple);
      if (ec) {
        if (timed_out_) {
          co_await on_read_timeout();
        } else if (parser_.in_message()) {
          ctx_.log->info("event=client_closed_mid_request remote={} error={}", remote_ip_, quoted(ec.message()));
        }
        co_return;
      }
      timed_out_ = false;  // the read won a race with an expiring deadline
      end_ = n;
    }

    set_deadline(Phase::none, {});
    if (st == RequestParser::Status::error) {
      co_await reject(parser_.error_status(), parser_.error_reason());
      co_return;
    }

    busy_ = true;
    // Metrics plugin: the in-flight gauge goes up now; count and duration once the response is out.
    const auto metrics_started = ctx_.http_metrics != nullptr ? ctx_.http_metrics->begin() : metrics::HttpMetrics::Clock::time_point{};
    bool no_free_worker = false;
    HttpRequest& req = parser_.request();
    bool generated = false;
    request_id_ = assign_request_id(req, generated);
    RequestMeta meta;
    meta.remote_ip = remote_ip_;
    meta.fallback_host = ctx_.fallback_host;
    if (peer_trusted_) {
      client_ip_ = remote_ip_;
      ctx_.proxies.resolve(req.headers, client_ip_, meta.https);
      meta.remote_ip = client_ip_;
    }
    if (generated) meta.extra_headers = std::span<const protocol::HeaderField>(&id_header_, 1);
    const bool form = forms_.kind() != FormCollector::Kind::none;
    bool keep = false;
    int pid = 0;
    if (ctx_.static_files != nullptr && !form && co_await serve_static(req, keep)) {
      // http.static answered it from disk (or refused an unsafe path); PHP never sees it.
    } else if (form && !forms_.finish(req)) {
      const int status = forms_.error_status();
      ctx_.log->warn("event=bad_form remote={} method={} target={} status={} reason={}", remote_ip_, req.method, quoted(req.target),
                     status, quoted(forms_.error_reason()));
      keep = co_await write_simple(status, reason_phrase(status), !req.keep_alive || ctx_.stopping.load(std::memory_order_relaxed));
    } else {
      if (form) {
        meta.parsed = true;
        meta.form_body = forms_.body_json();
        meta.uploads_json = forms_.uploads_json();
      }
      translator_.build_frame(frame_, req, meta);
      pool::ExecResult result = co_await ctx_.pool.exec_stream(frame_, stream_);
      pid = result.pid;
      no_free_worker = result.outcome == pool::Outcome::NoWorker || result.outcome == pool::Outcome::QueueFull;  // metrics plugin
      keep = stream_.is_open() ? co_await respond_stream(result, req) : co_await respond(result, req);
    }
    if (ctx_.http_metrics != nullptr) ctx_.http_metrics->end(metrics_started, last_status_, no_free_worker);  // metrics plugin
    if (ctx_.access_log != nullptr) log_access(pid);
    // Uploaded temp files live until the response is written, whatever happened to the worker.
    if (form) forms_.reset();
    busy_ = false;
    if (!keep) {
      if (!write_failed_) co_await close_gracefully();
      co_return;
    }
    set_deadline(Phase::idle, ctx_.cfg.idle_timeout);
    parser_.resume();
  }
}

void Session::request_started() {
  if (ctx_.access_log != nullptr) request_start_ = Clock::now();
  // On a keep-alive connection the header deadline starts with the request's first byte.
  if (phase_ != Phase::header) set_deadline(Phase::header, ctx_.cfg.read_header_timeout);
}

std::string_view Session::assign_request_id(HttpRequest& req, bool& generated) {
  protocol::HeaderField* client = nullptr;
  bool repeated = false;
  for (auto& h : req.headers) {
    if (h.name != "X-Request-Id") continue;
    if (client == nullptr) {
      client = &h;
    } else {
      repeated = true;
    }
  }
  if (client != nullptr && !repeated && RequestIdGenerator::acceptable(client->value)) {
    generated = false;
    return client->value;
  }
  if (client != nullptr) std::erase_if(req.headers, [](const protocol::HeaderField& h) { return h.name == "X-Request-Id"; });
  ids_.next(id_header_.value);
  generated = true;
  return id_header_.value;
}

void Session::log_access(int pid) {
  const HttpRequest& req = parser_.request();
  std::string_view path = req.target;
  if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  AccessRecord r;
  r.remote = client_ip_.empty() || !peer_trusted_ ? std::string_view(remote_ip_) : std::string_view(client_ip_);
  r.method = req.method;
  r.path = path;
  r.status = last_status_;
  r.bytes_sent = last_body_bytes_;
  r.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - request_start_).count();
  r.request_id = request_id_;
  r.pid = pid;
  ctx_.access_log->write(r);
}

asio::awaitable<void> Session::reject(int status, std::string_view reason) {
  ctx_.log->info("event=bad_request remote={} status={} reason={}", remote_ip_, status, quoted(reason));
  ids_.next(id_header_.value);
  request_id_ = id_header_.value;
  client_ip_.clear();
  co_await write_simple(status, reason_phrase(status), true);
  if (ctx_.access_log != nullptr) log_access(0);
  if (!write_failed_) co_await close_gracefully();
}

asio::awaitable<void> Session::on_read_timeout() {
  timed_out_ = false;
  if (phase_ == Phase::idle || (phase_ == Phase::header && !parser_.in_message())) {
    // Nothing of a request arrived: close without a word, as an idle keep-alive connection.
    ctx_.log->debug("event=connection_idle_timeout remote={}", remote_ip_);
    std::error_code ec;
    socket_.close(ec);
    co_return;
  }
  const std::string reason =
      phase_ == Phase::header
          ? "request line and headers not complete within http.read_header_timeout (" +
                std::to_string(ctx_.cfg.read_header_timeout.count()) + "ms)"
          : "request body stalled longer than http.read_timeout (" + std::to_string(ctx_.cfg.read_timeout.count()) + "ms)";
  co_await reject(408, reason);
}

void Session::set_deadline(Phase phase, config::Duration d) {
  phase_ = phase;
  if (phase == Phase::none || d.count() <= 0) {
    deadline_ = Clock::time_point::max();
    return;
  }
  deadline_ = Clock::now() + d;
  if (deadline_ < timer_expiry_) arm_timer(deadline_);
}

void Session::arm_timer(Clock::time_point at) {
  // Re-armed only when a deadline comes earlier than the pending wake-up; later deadlines are
  // picked up when the timer fires, so most requests touch no timer at all.
  timer_expiry_ = at;
  timer_.expires_at(at);
  timer_.async_wait([weak = weak_from_this()](std::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->on_timer();
  });
}

void Session::on_timer() {
  timer_expiry_ = Clock::time_point::max();
  if (deadline_ == Clock::time_point::max()) return;
  if (Clock::now() < deadline_) {
    arm_timer(deadline_);
    return;
  }
  deadline_ = Clock::time_point::max();
  timed_out_ = true;
  std::error_code ec;
  socket_.cancel(ec);
}

asio::awaitable<bool> Session::write_out(std::array<asio::const_buffer, 2> bufs) {
  set_deadline(Phase::write, ctx_.cfg.write_timeout);
  auto [ec, n] = co_await asio::async_write(socket_, bufs, kTuple);
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

asio::awaitable<void> Session::close_gracefully() {
  // Half-close, then drain what the client still sends (bounded in time and bytes) so it reads
  // our response instead of a connection reset.
  set_deadline(Phase::none, {});
  std::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  asio::steady_timer deadline(socket_.get_executor(), std::chrono::seconds(1));
  deadline.async_wait([self = shared_from_this()](std::error_code e) {
    if (!e) {
      std::error_code ignored;
      self->socket_.close(ignored);
    }
  });
  std::size_t drained = 0;
  while (drained < kMaxLingerBytes) {
    auto [e, n] = co_await socket_.async_read_some(asio::buffer(buf_), kTuple);
    if (e) break;
    drained += n;
  }
  deadline.cancel();
  socket_.close(ec);
}

asio::awaitable<bool> Session::serve_static(const HttpRequest& req, bool& keep) {
  if (!static_) static_ = std::make_unique<StaticResponder>(*ctx_.static_files, ctx_.gzip, ctx_.log);
  const bool close = !req.keep_alive || ctx_.stopping.load(std::memory_order_relaxed);
  ResponseHeadOptions opts;
  opts.close = close;
  opts.keep_alive_10 = !close && req.version_minor == 0;
  opts.date = date_.now();
  opts.request_id = request_id_;
  const auto r = co_await static_->serve(req, opts, [this](std::array<asio::const_buffer, 2> b) { return write_out(b); });
  if (!r.served) co_return false;
  last_status_ = r.status;
  last_body_bytes_ = r.body_bytes;
  keep = r.ok && !close;
  if (!r.ok && !write_failed_) {
    // Content-Length was promised and cannot be kept: end the connection.
    write_failed_ = true;
    std::error_code ec;
    socket_.close(ec);
  }
  co_return true;
}

asio::awaitable<bool> Session::write_simple(int status, std::string_view body, bool close, bool retry_after) {
  head_.clear();
  std::array<protocol::HeaderField, 2> hs{protocol::HeaderField{"Content-Type", "text/plain; charset=utf-8"},
                                          protocol::HeaderField{"Retry-After", "1"}};
  std::string text(body);
  text.push_back('\n');
  ResponseHeadOptions opts;
  opts.status = status;
  opts.content_length = text.size();
  opts.close = close;
  opts.date = date_.now();
  opts.request_id = request_id_;
  append_response_head(head_, opts, std::span<const protocol::HeaderField>(hs.data(), retry_after ? 2 : 1));
  const bool head_only = parser_.request().method == "HEAD";
  last_status_ = status;
  last_body_bytes_ = head_only ? 0 : text.size();
  const bool ok = co_await write_out({asio::buffer(head_), asio::buffer(text.data(), head_only ? 0 : text.size())});
  co_return ok && !close;
}

asio::awaitable<bool> Session::respond(pool::ExecResult& result, const HttpRequest& req) {
  bool close = !req.keep_alive || ctx_.stopping.load(std::memory_order_relaxed);
  if (result.outcome != pool::Outcome::Ok) {
    const int status = status_for(result.outcome, ctx_.cfg.internal_error_code);
    if (result.outcome == pool::Outcome::SoftError) {
      ctx_.log->warn("event=worker_error_response method={} target={} pid={} error={}", req.method, quoted(req.target), result.pid,
                     quoted(result.error));
      if (ctx_.cfg.pool.debug) co_return co_await write_simple(status, result.error, close);
    } else {
      ctx_.log->warn("event=request_failed method={} target={} status={} outcome={} pid={}", req.method, quoted(req.target), status,
                     pool::outcome_name(result.outcome), result.pid);
    }
    co_return co_await write_simple(status, reason_phrase(status), close, status == 503);
  }

  const std::string& payload = result.frame.payload;
  const std::string_view context(payload.data(), result.context_len);
  std::string_view body(payload.data() + result.context_len, payload.size() - result.context_len);
  if (auto ec = protocol::decode_reply_context(result.frame.flags, context, response_ctx_)) {
    co_return co_await reject_reply(ec, result, context, close);
  }

  // http.gzip: Vary on every eligible response; the body compressed when the client takes gzip.
  if (ctx_.gzip != nullptr && req.method != "HEAD" &&
      ctx_.gzip->compress_response(req.headers, response_ctx_.status, response_ctx_.headers, body, gzip_body_)) {
    body = gzip_body_;
  }

  head_.clear();
  ResponseHeadOptions opts;
  opts.status = response_ctx_.status;
  opts.content_length = body.size();
  opts.close = close;
  opts.keep_alive_10 = !close && req.version_minor == 0;
  opts.date = date_.now();
  opts.request_id = request_id_;
  if (const std::size_t skipped = append_response_head(head_, opts, response_ctx_.headers)) {
    ctx_.log->warn("event=unsafe_response_header_dropped pid={} count={}", result.pid, skipped);
  }
  const bool no_body = req.method == "HEAD" || status_has_no_body(response_ctx_.status);
  last_status_ = response_ctx_.status;
  last_body_bytes_ = no_body ? 0 : body.size();
  const bool ok = co_await write_out({asio::buffer(head_), asio::buffer(body.data(), no_body ? 0 : body.size())});
  co_return ok && !close;
}

}  // namespace pivot::http
