#include "server/plugins/jobs/amqp_driver.hpp"

#include <amqp.h>
#include <amqp_framing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>
#include <asio/use_awaitable.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <variant>
#include <vector>

#include "server/config/json_value.hpp"
#include "server/config/config_error.hpp"
#include "server/plugins/jobs/amqp_error.hpp"

namespace pivot::jobs {
namespace {

constexpr amqp_channel_t kPublish = 1;  // publisher confirms
constexpr amqp_channel_t kConsume = 2;  // basic.qos + basic.consume, manual ack
constexpr amqp_channel_t kStat = 3;     // passive declares (a 404 closes only this channel)

// RoadRunner's job headers (api jobs.RRID & co.) plus our attempt count.
constexpr std::string_view kRrId = "rr_id";
constexpr std::string_view kRrJob = "rr_job";
constexpr std::string_view kRrPipeline = "rr_pipeline";
constexpr std::string_view kRrHeaders = "rr_headers";
constexpr std::string_view kRrDelay = "rr_delay";
constexpr std::string_view kRrPriority = "rr_priority";
constexpr std::string_view kRrAutoAck = "rr_auto_ack";
constexpr std::string_view kRrAttempts = "rr_attempts";

constexpr std::size_t kMaxMessageBytes = 128u * 1024 * 1024;  // RabbitMQ 3.10's max_message_size
constexpr std::chrono::milliseconds kRpcTimeout{10000};
constexpr int kFramesPerPump = 512;

amqp_bytes_t as_bytes(std::string_view s) { return {s.size(), const_cast<char*>(s.data())}; }
std::string to_string(amqp_bytes_t b) { return {static_cast<const char*>(b.bytes), b.len}; }

/// A one-shot result completed from any thread; resumes the waiting coroutine on its executor.
template <typename T>
class Completion {
 public:
  virtual ~Completion() = default;
  virtual void complete(T value) = 0;
};

/// Wraps a result so that asio's use_awaitable never treats it as an error (a leading
/// std::error_code argument would be thrown instead of returned).
template <typename T>
struct Boxed {
  T value;
};

template <typename T, typename Handler>
class HandlerCompletion final : public Completion<T> {
 public:
  explicit HandlerCompletion(Handler h)
      : handler_(std::move(h)),
        work_(asio::prefer(asio::get_associated_executor(handler_), asio::execution::outstanding_work.tracked)) {}
  void complete(T value) override {
    auto ex = std::move(work_);
    asio::post(ex, [h = std::move(handler_), v = Boxed<T>{std::move(value)}]() mutable { std::move(h)(std::move(v)); });
  }

 private:
  Handler handler_;
  asio::any_io_executor work_;  // keeps the caller's io_context running while we wait
};

template <typename T>
using CompletionPtr = std::unique_ptr<Completion<T>>;

/// An awaitable that completes when `reg`'s completion is completed (from any thread). Not a
/// coroutine itself, and callers keep `reg` in a named local: GCC 12 mishandles lambda
/// temporaries with captures inside co_await expressions.
template <typename T, typename Register>
asio::awaitable<Boxed<T>> wait_for(Register& reg) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(Boxed<T>)>(
      [&reg](auto handler) {
        using H = decltype(handler);
        reg(CompletionPtr<T>(new HandlerCompletion<T, H>(std::move(handler))));
      },
      asio::use_awaitable);
}

/// The results of a batch of pushes, completed one by one from the driver thread (or at once);
/// completes `done` with all of them when the last one is in.
class BatchResults {
 public:
  BatchResults(std::size_t n, CompletionPtr<std::vector<std::error_code>> done)
      : results_(n), remaining_(n), done_(std::move(done)) {}
  void set(std::size_t index, std::error_code ec) {
    results_[index] = ec;
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) done_->complete(std::move(results_));
  }

 private:
  std::vector<std::error_code> results_;
  std::atomic<std::size_t> remaining_;
  CompletionPtr<std::vector<std::error_code>> done_;
};

/// One push of a batch: its result goes to slot `index` of the shared BatchResults.
class BatchSlot final : public Completion<std::error_code> {
 public:
  BatchSlot(std::shared_ptr<BatchResults> batch, std::size_t index) : batch_(std::move(batch)), index_(index) {}
  void complete(std::error_code ec) override { batch_->set(index_, ec); }

 private:
  std::shared_ptr<BatchResults> batch_;
  std::size_t index_;
};

/// An integer header field of any width.
bool field_int(const amqp_field_value_t& v, std::int64_t& out) {
  switch (v.kind) {
    case AMQP_FIELD_KIND_I8: out = v.value.i8; return true;
    case AMQP_FIELD_KIND_U8: out = v.value.u8; return true;
    case AMQP_FIELD_KIND_I16: out = v.value.i16; return true;
    case AMQP_FIELD_KIND_U16: out = v.value.u16; return true;
    case AMQP_FIELD_KIND_I32: out = v.value.i32; return true;
    case AMQP_FIELD_KIND_U32: out = v.value.u32; return true;
    case AMQP_FIELD_KIND_I64: out = v.value.i64; return true;
    case AMQP_FIELD_KIND_U64: out = static_cast<std::int64_t>(v.value.u64); return true;
    default: return false;
  }
}

bool field_text(const amqp_field_value_t& v, std::string& out) {
  if (v.kind != AMQP_FIELD_KIND_UTF8 && v.kind != AMQP_FIELD_KIND_BYTES) return false;
  out = to_string(v.value.bytes);
  return true;
}

/// A random UUIDv4 for messages published by other producers without rr_id.
std::string random_uuid(std::mt19937_64& rng) {
  std::uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

// --- options -------------------------------------------------------------------------------

std::string join(const std::set<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

std::string opt_string(const nlohmann::json& v, const std::string& key) {
  if (v.is_string()) return v.get<std::string>();
  throw config::ConfigError("config key " + key + ": expected a string, got " + v.dump());
}

bool opt_bool(const nlohmann::json& v, const std::string& key) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    if (s == "true" || s == "yes" || s == "on" || s == "1") return true;
    if (s == "false" || s == "no" || s == "off" || s == "0") return false;
  }
  throw config::ConfigError("config key " + key + ": expected true or false, got " + v.dump());
}

}  // namespace

AmqpOptions parse_amqp_options(const config::JobsPipelineConfig& pipeline, const std::string& amqp_addr,
                               const std::string& path) {
  AmqpOptions o;
  o.pipeline = pipeline.name;
  o.priority = pipeline.priority;
  o.address = AmqpAddress::parse(amqp_addr.empty() ? "amqp://guest:guest@127.0.0.1:5672/" : amqp_addr, "amqp.addr");
  static const nlohmann::json kEmpty = nlohmann::json::object();
  const nlohmann::json& c = pipeline.config ? *pipeline.config : kEmpty;
  if (!c.is_null() && !c.is_object()) throw config::ConfigError("config key " + path + ": expected a mapping of driver settings");
  // Ours, and the generic pipeline keys the jobs plugin reads (priority, retry, dead_letter).
  const std::set<std::string> known{"queue",     "exchange",          "exchange_type",        "routing_key",
                                    "durable",   "exchange_durable",  "exchange_auto_delete", "queue_auto_delete",
                                    "exclusive", "delete_queue_on_stop", "prefetch",          "consumer_id",
                                    "priority",  "retry",             "max_attempts",         "dead_letter"};
  if (c.is_object()) {
    for (const auto& [k, v] : c.items()) {
      if (!known.count(k)) throw config::ConfigError("config key " + path + "." + k + " is unknown for the amqp driver. Allowed here: " + join(known));
    }
  }
  auto has = [&](const char* k) { return c.is_object() && c.contains(k) && !c[k].is_null(); };
  auto key = [&](const char* k) { return path + "." + k; };
  o.queue = has("queue") ? opt_string(c["queue"], key("queue")) : pipeline.name;
  if (o.queue.empty() || o.queue.size() > 255) throw config::ConfigError("config key " + key("queue") + ": a queue name is 1..255 characters");
  if (has("exchange")) o.exchange = opt_string(c["exchange"], key("exchange"));
  if (o.exchange.size() > 255) throw config::ConfigError("config key " + key("exchange") + ": at most 255 characters");
  if (has("exchange_type")) o.exchange_type = opt_string(c["exchange_type"], key("exchange_type"));
  static const std::set<std::string> types{"direct", "fanout", "topic", "headers"};
  if (!types.count(o.exchange_type)) {
    throw config::ConfigError("config key " + key("exchange_type") + ": \"" + o.exchange_type + "\" is not allowed; use one of: " + join(types));
  }
  o.routing_key = has("routing_key") ? opt_string(c["routing_key"], key("routing_key")) : o.queue;
  if (has("durable")) o.durable = opt_bool(c["durable"], key("durable"));
  if (has("exchange_durable")) o.exchange_durable = opt_bool(c["exchange_durable"], key("exchange_durable"));
  if (has("exchange_auto_delete")) o.exchange_auto_delete = opt_bool(c["exchange_auto_delete"], key("exchange_auto_delete"));
  if (has("queue_auto_delete")) o.queue_auto_delete = opt_bool(c["queue_auto_delete"], key("queue_auto_delete"));
  if (has("exclusive")) o.exclusive = opt_bool(c["exclusive"], key("exclusive"));
  if (has("delete_queue_on_stop")) o.delete_queue_on_stop = opt_bool(c["delete_queue_on_stop"], key("delete_queue_on_stop"));
  if (has("prefetch")) o.prefetch = static_cast<std::uint16_t>(config::json_integer(c["prefetch"], key("prefetch"), 1, 65535));
  if (has("consumer_id")) o.consumer_id = opt_string(c["consumer_id"], key("consumer_id"));
  if (o.consumer_id.empty()) {
    std::random_device rd;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
    o.consumer_id = "pivot-" + pipeline.name + "-" + std::to_string(::getpid()) + "-" + buf;
  }
  if (o.exchange.empty() && o.routing_key != o.queue) {
    throw config::ConfigError("config key " + key("routing_key") + ": with the default exchange (exchange: \"\") the routing key must be the queue name");
  }
  return o;
}

// --- the shared core ---------------------------------------------------------------------------

class AmqpDelivery;

struct AmqpDriver::Core : std::enable_shared_from_this<AmqpDriver::Core> {
  /// A settlement from a Delivery, routed to the driver thread.
  struct Settle {
    enum class Kind { ack, reject, republish } kind = Kind::ack;
    std::uint64_t generation = 0;  // the connection the delivery came from
    std::uint64_t tag = 0;         // its delivery tag there
    Job job;                       // republish: the copy to publish (attempts, headers, delay set)
  };
  struct PushCmd {
    Job job;
    CompletionPtr<std::error_code> done;
  };
  struct StatCmd {
    CompletionPtr<PipelineStat> done;
  };
  struct StopCmd {
    CompletionPtr<bool> done;  // null from the destructor
  };
  struct PauseCmd {};
  using Command = std::variant<Settle, PushCmd, StatCmd, StopCmd, PauseCmd>;

  /// A publish waiting for its broker confirm.
  struct Pending {
    CompletionPtr<std::error_code> done;  // a push
    bool settles = false;                 // a republish: ack/reject the original when confirmed
    std::uint64_t original_tag = 0;
    std::uint64_t original_generation = 0;
    bool returned = false;  // basic.return seen (unroutable)
    std::chrono::steady_clock::time_point deadline;
  };

  Core(AmqpOptions o, std::shared_ptr<spdlog::logger> l) : opts(std::move(o)), log(std::move(l)), conn(opts.address) {
    wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    rng.seed(std::random_device{}());
  }
  ~Core() {
    if (wake_fd >= 0) ::close(wake_fd);
  }

  // Any thread.
  void post(Command c);
  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_fd, &one, sizeof one);
  }
  void set_paused(bool p) {
    {
      std::lock_guard lock(mu);
      paused = p;
    }
    post(PauseCmd{});
  }

  // The driver thread.
  void run();
  bool connect();
  void lost(const std::string& why);
  void process_commands();
  void handle(Settle& s);
  void handle(PushCmd& p);
  void handle(StatCmd& s);
  void apply_pause();
  bool start_consume();
  void stop_consume();
  void pump();
  void handle_frame(amqp_frame_t& f);
  void on_delivery(std::uint64_t tag, amqp_message_t& msg);
  void confirm(std::uint64_t tag, bool multiple, bool ok);
  void finish_publish(Pending& p, std::error_code ec);
  bool publish(const Job& job, Pending p);
  void check_timeouts();
  void wait_io(std::chrono::milliseconds max_wait, bool with_socket);
  PipelineStat local_stat();
  void finish();
  std::vector<std::unique_ptr<AmqpDelivery>> take_ready();

  const AmqpOptions opts;
  const std::shared_ptr<spdlog::logger> log;
  int wake_fd = -1;

  std::mutex mu;
  std::deque<Command> commands;                                  // mu
  std::deque<std::unique_ptr<AmqpDelivery>> ready;               // mu: received, not handed out
  std::deque<CompletionPtr<std::unique_ptr<Delivery>>> waiters;  // mu: next() calls waiting
  bool paused = false;                                           // mu
  bool stopping = false;                                         // mu: stop() called
  bool demand = false;                                           // mu: next() was called (someone consumes)
  bool closed = false;                                           // mu: the thread has finished
  std::atomic<std::int64_t> reserved{0};                         // handed out, not settled

  // Driver thread only.
  AmqpConnection conn;
  std::uint64_t generation = 0;  // bumped on every connection loss
  std::chrono::steady_clock::time_point down_since = std::chrono::steady_clock::now();
  bool consuming = false;
  bool stop_requested = false;
  std::chrono::steady_clock::time_point drain_deadline;
  std::vector<CompletionPtr<bool>> stop_waiters;
  std::uint64_t publish_seq = 0;  // confirm delivery tags on kPublish
  std::map<std::uint64_t, Pending> pending;
  std::map<std::int64_t, std::string> delay_queues;  // ms -> queue, declared by this process
  std::mt19937_64 rng;
};

/// One message delivered to us; settles through the core's command queue.
class AmqpDelivery final : public Delivery {
 public:
  AmqpDelivery(std::shared_ptr<AmqpDriver::Core> core, Job job, std::uint64_t generation, std::uint64_t tag, bool auto_acked)
      : core_(std::move(core)), job_(std::move(job)), generation_(generation), tag_(tag), auto_acked_(auto_acked) {}
  ~AmqpDelivery() override {
    if (!settled_.load()) nack(true, std::chrono::seconds(0));
  }

  const Job& job() const override { return job_; }
  void ack() override { settle(AmqpDriver::Core::Settle::Kind::ack, nullptr, std::chrono::seconds(0)); }
  void nack(bool requeue, std::chrono::seconds delay) override {
    if (!requeue) {
      settle(AmqpDriver::Core::Settle::Kind::reject, nullptr, delay);
    } else {
      settle(AmqpDriver::Core::Settle::Kind::republish, nullptr, delay);
    }
  }
  void requeue(Headers headers, std::chrono::seconds delay) override {
    settle(AmqpDriver::Core::Settle::Kind::republish, &headers, delay);
  }

  /// Handed to a next() caller: counted as reserved until settled.
  void hand_out() {
    handed_out_ = true;
    core_->reserved.fetch_add(1);
  }
  /// Dropped without a settlement (connection lost, paused, stopping): the broker has it back.
  void discard() { settled_.store(true); }
  std::uint64_t tag() const { return tag_; }
  bool auto_acked() const { return auto_acked_; }

 private:
  void settle(AmqpDriver::Core::Settle::Kind kind, Headers* headers, std::chrono::seconds delay) {
    if (settled_.exchange(true)) return;
    if (handed_out_) core_->reserved.fetch_sub(1);
    if (auto_acked_) return;  // acked on receipt (rr_auto_ack)
    AmqpDriver::Core::Settle s;
    s.kind = kind;
    s.generation = generation_;
    s.tag = tag_;
    if (kind == AmqpDriver::Core::Settle::Kind::republish) {
      s.job = job_;
      s.job.attempts = job_.attempts + 1;
      s.job.delay = delay;
      if (headers) s.job.headers = std::move(*headers);
    }
    core_->post(std::move(s));
  }

  std::shared_ptr<AmqpDriver::Core> core_;
  Job job_;
  std::uint64_t generation_;
  std::uint64_t tag_;
  bool auto_acked_;
  bool handed_out_ = false;
  std::atomic<bool> settled_{false};
};

void AmqpDriver::Core::post(Command c) {
  {
    std::unique_lock lock(mu);
    if (!closed) {
      commands.push_back(std::move(c));
      lock.unlock();
      wake();
      return;
    }
  }
  // The thread is gone: answer here.
  if (auto* p = std::get_if<PushCmd>(&c)) p->done->complete(AmqpError::stopping);
  if (auto* s = std::get_if<StatCmd>(&c)) s->done->complete(local_stat());
  if (auto* s = std::get_if<StopCmd>(&c); s && s->done) s->done->complete(true);
}

std::vector<std::unique_ptr<AmqpDelivery>> AmqpDriver::Core::take_ready() {
  std::vector<std::unique_ptr<AmqpDelivery>> out;
  std::lock_guard lock(mu);
  while (!ready.empty()) {
    out.push_back(std::move(ready.front()));
    ready.pop_front();
  }
  return out;
}

PipelineStat AmqpDriver::Core::local_stat() {
  PipelineStat s;
  s.pipeline = opts.pipeline;
  s.driver = "amqp";
  s.queue = opts.queue;
  s.priority = static_cast<std::uint64_t>(opts.priority);
  s.reserved = reserved.load();
  std::lock_guard lock(mu);
  s.active = static_cast<std::int64_t>(ready.size());
  s.ready = false;
  return s;
}

// --- driver thread -----------------------------------------------------------------------------

void AmqpDriver::Core::run() {
  auto backoff = opts.reconnect_min;
  unsigned attempt = 0;
  bool ever_connected = false;
  // After stop(): keep settling the deliveries in hand (their workers are still running) until
  // none is left, or stop_grace passes, or the connection is gone.
  auto stop_done = [&] {
    if (!stop_requested) return false;
    if (!conn.is_open() || (reserved.load() == 0 && pending.empty())) return true;
    return std::chrono::steady_clock::now() >= drain_deadline;
  };
  while (!stop_done()) {
    if (!conn.is_open()) {
      ++attempt;
      if (connect()) {
        if (ever_connected) {
          const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - down_since);
          log->info("event=amqp_reconnect pipeline={} address={} attempts={} downtime_ms={}", opts.pipeline,
                    opts.address.display(), attempt, ms.count());
        } else {
          log->info("event=amqp_connected pipeline={} address={} queue={} exchange={} routing_key={} prefetch={}", opts.pipeline,
                    opts.address.display(), opts.queue, opts.exchange, opts.routing_key, opts.prefetch);
        }
        ever_connected = true;
        attempt = 0;
        backoff = opts.reconnect_min;
      } else {
        if (!ever_connected && attempt == 1) down_since = std::chrono::steady_clock::now();
        if (attempt == 1 || attempt % 20 == 0) {
          log->warn("event=amqp_connect_failed pipeline={} address={} attempt={} retry_in_ms={} error=\"{}\"", opts.pipeline,
                    opts.address.display(), attempt, backoff.count(), conn.error());
        }
        // Down: commands are answered at once (pushes fail with `unavailable`), no hang.
        const auto until = std::chrono::steady_clock::now() + backoff;
        while (!stop_requested && std::chrono::steady_clock::now() < until) {
          process_commands();
          const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
          if (left.count() > 0) wait_io(left, false);
        }
        backoff = std::min(backoff * 2, opts.reconnect_max);
        continue;
      }
    }
    process_commands();
    if (!conn.is_open() || stop_done()) continue;
    pump();
    if (!conn.is_open()) continue;
    check_timeouts();
    amqp_maybe_release_buffers(conn.state());
    if (amqp_frames_enqueued(conn.state()) || amqp_data_in_buffer(conn.state())) continue;
    std::chrono::milliseconds wait{1000};  // heartbeats are sent/checked by pump() at least this often
    if (!pending.empty()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(pending.begin()->second.deadline -
                                                                              std::chrono::steady_clock::now());
      wait = std::clamp(left, std::chrono::milliseconds(1), wait);
    }
    wait_io(wait, true);
  }
  finish();
}

void AmqpDriver::Core::wait_io(std::chrono::milliseconds max_wait, bool with_socket) {
  pollfd fds[2] = {{wake_fd, POLLIN, 0}, {with_socket ? conn.fd() : -1, POLLIN, 0}};
  ::poll(fds, with_socket && conn.fd() >= 0 ? 2 : 1, static_cast<int>(max_wait.count()));
  if (fds[0].revents & POLLIN) {
    std::uint64_t v = 0;
    [[maybe_unused]] const auto n = ::read(wake_fd, &v, sizeof v);
  }
}

bool AmqpDriver::Core::connect() {
  if (conn.open(opts.connect_timeout, opts.heartbeat, kRpcTimeout)) return false;
  generation++;
  publish_seq = 0;
  consuming = false;
  auto setup = [&]() -> std::error_code {
    for (amqp_channel_t ch : {kPublish, kConsume, kStat}) {
      if (auto ec = conn.open_channel(ch)) return ec;
    }
    amqp_confirm_select(conn.state(), kPublish);
    if (auto ec = conn.check_rpc("confirm.select")) return ec;
    if (!opts.exchange.empty()) {
      amqp_exchange_declare(conn.state(), kPublish, as_bytes(opts.exchange), as_bytes(opts.exchange_type), 0, opts.exchange_durable,
                            opts.exchange_auto_delete, 0, amqp_empty_table);
      if (auto ec = conn.check_rpc(("exchange.declare " + opts.exchange).c_str())) return ec;
    }
    amqp_queue_declare(conn.state(), kPublish, as_bytes(opts.queue), 0, opts.durable, opts.exclusive, opts.queue_auto_delete,
                       amqp_empty_table);
    if (auto ec = conn.check_rpc(("queue.declare " + opts.queue).c_str())) return ec;
    if (!opts.exchange.empty()) {
      amqp_queue_bind(conn.state(), kPublish, as_bytes(opts.queue), as_bytes(opts.exchange), as_bytes(opts.routing_key),
                      amqp_empty_table);
      if (auto ec = conn.check_rpc(("queue.bind " + opts.queue).c_str())) return ec;
    }
    return {};
  };
  if (setup()) {
    conn.abandon();
    return false;
  }
  bool want = false;
  {
    std::lock_guard lock(mu);
    want = !paused && !stopping && demand;
  }
  if (want && !start_consume()) {
    conn.abandon();
    return false;
  }
  return true;
}

bool AmqpDriver::Core::start_consume() {
  amqp_basic_qos(conn.state(), kConsume, 0, opts.prefetch, 0);
  if (conn.check_rpc("basic.qos")) return false;
  amqp_basic_consume(conn.state(), kConsume, as_bytes(opts.queue), as_bytes(opts.consumer_id), 0, 0, 0, amqp_empty_table);
  if (conn.check_rpc(("basic.consume " + opts.queue).c_str())) return false;
  consuming = true;
  return true;
}

void AmqpDriver::Core::stop_consume() {
  if (!consuming) return;
  consuming = false;
  // Deliveries that arrive before cancel-ok are queued by librabbitmq and rejected by
  // on_delivery (paused); the buffered ones go back now.
  amqp_basic_cancel(conn.state(), kConsume, as_bytes(opts.consumer_id));
  if (conn.check_rpc("basic.cancel")) {
    lost(conn.error());
    return;
  }
  std::vector<std::unique_ptr<AmqpDelivery>> keep;
  for (auto& d : take_ready()) {
    if (d->auto_acked()) {
      keep.push_back(std::move(d));  // already acked: the broker no longer has it, so we keep it
      continue;
    }
    d->discard();
    if (const int st = amqp_basic_reject(conn.state(), kConsume, d->tag(), 1); st != AMQP_STATUS_OK) {
      lost(std::string("basic.reject: ") + amqp_error_string2(st));
      return;
    }
  }
  std::lock_guard lock(mu);
  for (auto& d : keep) ready.push_back(std::move(d));
}

void AmqpDriver::Core::apply_pause() {
  bool want = false;
  {
    std::lock_guard lock(mu);
    want = !paused && !stopping && demand;
  }
  if (!conn.is_open() || want == consuming) return;
  if (want) {
    if (!start_consume()) lost(conn.error());
  } else {
    stop_consume();
  }
}

void AmqpDriver::Core::lost(const std::string& why) {
  log->warn("event=amqp_connection_lost pipeline={} address={} pending_pushes={} reserved={} error=\"{}\"", opts.pipeline,
            opts.address.display(), pending.size(), reserved.load(), why);
  conn.abandon();
  consuming = false;
  generation++;
  down_since = std::chrono::steady_clock::now();
  // Unconfirmed pushes may or may not be stored: the caller gets an error (and may retry).
  // Unconfirmed republishes: the original is unacked, so the broker redelivers it.
  for (auto& [seq, p] : pending) {
    if (p.done) p.done->complete(AmqpError::connection_lost);
  }
  pending.clear();
  for (auto& d : take_ready()) d->discard();
}

void AmqpDriver::Core::process_commands() {
  std::deque<Command> batch;
  {
    std::lock_guard lock(mu);
    batch.swap(commands);
  }
  for (auto& c : batch) {
    if (auto* s = std::get_if<Settle>(&c)) {
      handle(*s);
    } else if (auto* p = std::get_if<PushCmd>(&c)) {
      handle(*p);
    } else if (auto* st = std::get_if<StatCmd>(&c)) {
      handle(*st);
    } else if (auto* stop = std::get_if<StopCmd>(&c)) {
      if (stop->done) stop_waiters.push_back(std::move(stop->done));
      if (!stop_requested) {
        stop_requested = true;
        drain_deadline = std::chrono::steady_clock::now() + opts.stop_grace;
        if (conn.is_open()) stop_consume();  // buffered deliveries go back at once
      }
    } else {
      apply_pause();
    }
  }
}

void AmqpDriver::Core::handle(Settle& s) {
  if (!conn.is_open() || s.generation != generation) {
    // The delivery tag died with its connection; the broker redelivers the message.
    log->debug("event=amqp_settle_skipped pipeline={} reason=connection_replaced id={}", opts.pipeline, s.job.id);
    return;
  }
  int st = AMQP_STATUS_OK;
  switch (s.kind) {
    case Settle::Kind::ack: st = amqp_basic_ack(conn.state(), kConsume, s.tag, 0); break;
    case Settle::Kind::reject: st = amqp_basic_reject(conn.state(), kConsume, s.tag, 0); break;
    case Settle::Kind::republish: {
      Pending p;
      p.settles = true;
      p.original_tag = s.tag;
      p.original_generation = s.generation;
      publish(s.job, std::move(p));
      return;
    }
  }
  if (st != AMQP_STATUS_OK) lost(std::string("basic.ack/reject: ") + amqp_error_string2(st));
}

void AmqpDriver::Core::handle(PushCmd& p) {
  if (!conn.is_open()) {
    p.done->complete(AmqpError::unavailable);
    return;
  }
  if (p.job.payload.size() > kMaxMessageBytes) {
    p.done->complete(AmqpError::too_large);
    return;
  }
  Pending pend;
  pend.done = std::move(p.done);
  publish(p.job, std::move(pend));
}

bool AmqpDriver::Core::publish(const Job& job, Pending p) {
  std::string exchange = opts.exchange;
  std::string routing_key = opts.routing_key;
  const std::int64_t delay_ms = static_cast<std::int64_t>(job.delay.count()) * 1000;
  if (delay_ms > 0) {
    // Per-delay queue: messages expire after the delay and are dead-lettered into the pipeline.
    // Declared on every delayed publish: that also resets its x-expires timer, so it cannot
    // vanish between the declare and the message's own expiry.
    const std::string name = "delayed-" + std::to_string(delay_ms) + "." + opts.exchange + "." + opts.queue;
    amqp_table_entry_t args[4];
    args[0].key = amqp_cstring_bytes("x-dead-letter-exchange");
    args[0].value.kind = AMQP_FIELD_KIND_UTF8;
    args[0].value.value.bytes = as_bytes(opts.exchange);
    args[1].key = amqp_cstring_bytes("x-dead-letter-routing-key");
    args[1].value.kind = AMQP_FIELD_KIND_UTF8;
    args[1].value.value.bytes = as_bytes(opts.exchange.empty() ? opts.queue : opts.routing_key);
    args[2].key = amqp_cstring_bytes("x-message-ttl");
    args[2].value.kind = AMQP_FIELD_KIND_I64;
    args[2].value.value.i64 = delay_ms;
    args[3].key = amqp_cstring_bytes("x-expires");
    args[3].value.kind = AMQP_FIELD_KIND_I64;
    args[3].value.value.i64 = delay_ms * 2 + 10000;
    amqp_queue_declare(conn.state(), kPublish, as_bytes(name), 0, 1, 0, 0, amqp_table_t{4, args});
    if (conn.check_rpc(("queue.declare " + name).c_str())) {
      lost(conn.error());
      finish_publish(p, AmqpError::connection_lost);  // after lost(): the original is not touched
      return false;
    }
    delay_queues[delay_ms] = name;
    exchange.clear();
    routing_key = name;
  }

  std::string headers_json;
  {
    nlohmann::json h = nlohmann::json::object();
    for (const auto& [k, v] : job.headers) h[k] = v;
    headers_json = h.dump();
  }
  std::vector<amqp_table_entry_t> entries(8);
  auto text = [&](std::size_t i, std::string_view key, std::string_view value, bool binary) {
    entries[i].key = as_bytes(key);
    entries[i].value.kind = binary ? AMQP_FIELD_KIND_BYTES : AMQP_FIELD_KIND_UTF8;
    entries[i].value.value.bytes = as_bytes(value);
  };
  auto integer = [&](std::size_t i, std::string_view key, std::int64_t value) {
    entries[i].key = as_bytes(key);
    entries[i].value.kind = AMQP_FIELD_KIND_I64;
    entries[i].value.value.i64 = value;
  };
  text(0, kRrId, job.id, false);
  text(1, kRrJob, job.name, false);
  text(2, kRrPipeline, opts.pipeline, false);
  text(3, kRrHeaders, headers_json, true);
  integer(4, kRrDelay, static_cast<std::int64_t>(job.delay.count()));
  integer(5, kRrPriority, job.priority == 0 ? opts.priority : job.priority);
  entries[6].key = as_bytes(kRrAutoAck);
  entries[6].value.kind = AMQP_FIELD_KIND_BOOLEAN;
  entries[6].value.value.boolean = job.auto_ack ? 1 : 0;
  integer(7, kRrAttempts, job.attempts);

  const std::uint64_t seq = ++publish_seq;
  const std::string message_id = "pivot-" + std::to_string(seq);
  amqp_basic_properties_t props{};
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG;
  props.content_type = amqp_cstring_bytes("application/octet-stream");
  props.delivery_mode = 2;  // persistent
  props.headers = amqp_table_t{static_cast<int>(entries.size()), entries.data()};
  props.message_id = as_bytes(message_id);
  const int st = amqp_basic_publish(conn.state(), kPublish, as_bytes(exchange), as_bytes(routing_key), /*mandatory=*/1,
                                    /*immediate=*/0, &props, as_bytes(job.payload));
  if (st != AMQP_STATUS_OK) {
    lost(std::string("basic.publish: ") + amqp_error_string2(st));
    finish_publish(p, AmqpError::connection_lost);
    return false;
  }
  p.deadline = std::chrono::steady_clock::now() + opts.confirm_timeout;
  pending.emplace(seq, std::move(p));
  return true;
}

void AmqpDriver::Core::finish_publish(Pending& p, std::error_code ec) {
  if (p.done) p.done->complete(ec);
  p.done.reset();
  if (p.settles && conn.is_open() && p.original_generation == generation) {
    // Confirmed copy: the original can go. Failed copy: the original goes back to the queue.
    const int st = ec ? amqp_basic_reject(conn.state(), kConsume, p.original_tag, 1)
                      : amqp_basic_ack(conn.state(), kConsume, p.original_tag, 0);
    p.settles = false;
    if (st != AMQP_STATUS_OK) lost(std::string("basic.ack/reject: ") + amqp_error_string2(st));
  }
}

void AmqpDriver::Core::confirm(std::uint64_t tag, bool multiple, bool ok) {
  auto first = multiple ? pending.begin() : pending.find(tag);
  auto last = pending.upper_bound(tag);
  if (first == pending.end()) return;  // already timed out
  std::vector<Pending> done;
  for (auto it = first; it != last; ++it) done.push_back(std::move(it->second));
  pending.erase(first, last);
  for (auto& p : done) {
    std::error_code ec;
    if (!ok) ec = AmqpError::rejected;
    else if (p.returned) ec = AmqpError::unroutable;
    if (ec) log->warn("event=amqp_publish_failed pipeline={} error=\"{}\"", opts.pipeline, ec.message());
    finish_publish(p, ec);
    if (!conn.is_open()) return;
  }
}

void AmqpDriver::Core::check_timeouts() {
  const auto now = std::chrono::steady_clock::now();
  while (!pending.empty() && pending.begin()->second.deadline <= now) {
    Pending p = std::move(pending.begin()->second);
    pending.erase(pending.begin());
    log->warn("event=amqp_confirm_timeout pipeline={} timeout_ms={}", opts.pipeline, opts.confirm_timeout.count());
    finish_publish(p, AmqpError::timeout);
    if (!conn.is_open()) return;
  }
}

void AmqpDriver::Core::pump() {
  for (int i = 0; i < kFramesPerPump && conn.is_open(); ++i) {
    amqp_frame_t f{};
    timeval tv{0, 0};
    const int st = amqp_simple_wait_frame_noblock(conn.state(), &f, &tv);
    if (st == AMQP_STATUS_TIMEOUT) return;
    if (st != AMQP_STATUS_OK) {
      lost(amqp_error_string2(st));
      return;
    }
    handle_frame(f);
  }
}

void AmqpDriver::Core::handle_frame(amqp_frame_t& f) {
  if (f.frame_type != AMQP_FRAME_METHOD) return;  // content frames are read with their method
  switch (f.payload.method.id) {
    case AMQP_BASIC_DELIVER_METHOD: {
      const auto* m = static_cast<const amqp_basic_deliver_t*>(f.payload.method.decoded);
      const std::uint64_t tag = m->delivery_tag;
      const amqp_channel_t ch = f.channel;
      amqp_message_t msg{};
      const amqp_rpc_reply_t r = amqp_read_message(conn.state(), ch, &msg, 0);
      if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        lost("reading a delivery failed");
        return;
      }
      on_delivery(tag, msg);
      amqp_destroy_message(&msg);
      return;
    }
    case AMQP_BASIC_ACK_METHOD: {
      const auto* m = static_cast<const amqp_basic_ack_t*>(f.payload.method.decoded);
      confirm(m->delivery_tag, m->multiple != 0, true);
      return;
    }
    case AMQP_BASIC_NACK_METHOD: {
      const auto* m = static_cast<const amqp_basic_nack_t*>(f.payload.method.decoded);
      confirm(m->delivery_tag, m->multiple != 0, false);
      return;
    }
    case AMQP_BASIC_RETURN_METHOD: {
      amqp_message_t msg{};
      const amqp_rpc_reply_t r = amqp_read_message(conn.state(), f.channel, &msg, 0);
      if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        lost("reading a returned message failed");
        return;
      }
      if (msg.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG) {
        const std::string id = to_string(msg.properties.message_id);
        if (id.rfind("pivot-", 0) == 0) {
          const auto seq = std::strtoull(id.c_str() + 6, nullptr, 10);
          if (auto it = pending.find(seq); it != pending.end()) it->second.returned = true;
        }
      }
      amqp_destroy_message(&msg);
      return;
    }
    case AMQP_BASIC_CANCEL_METHOD:
      lost("the broker cancelled the consumer (queue " + opts.queue + " deleted?)");
      return;
    case AMQP_CHANNEL_CLOSE_METHOD: {
      const auto* m = static_cast<const amqp_channel_close_t*>(f.payload.method.decoded);
      lost("the broker closed channel " + std::to_string(f.channel) + ": " + std::to_string(m->reply_code) + " " +
           to_string(m->reply_text));
      return;
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
      const auto* m = static_cast<const amqp_connection_close_t*>(f.payload.method.decoded);
      const std::string why = "the broker closed the connection: " + std::to_string(m->reply_code) + " " + to_string(m->reply_text);
      amqp_connection_close_ok_t ok{};
      amqp_send_method(conn.state(), 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
      lost(why);
      return;
    }
    default:
      return;
  }
}

void AmqpDriver::Core::on_delivery(std::uint64_t tag, amqp_message_t& msg) {
  Job job;
  job.pipeline = opts.pipeline;
  job.priority = opts.priority;
  job.payload = to_string(msg.body);
  if (msg.properties._flags & AMQP_BASIC_HEADERS_FLAG) {
    const amqp_table_t& t = msg.properties.headers;
    for (int i = 0; i < t.num_entries; ++i) {
      const std::string key = to_string(t.entries[i].key);
      const amqp_field_value_t& v = t.entries[i].value;
      std::int64_t n = 0;
      if (key == kRrId) {
        field_text(v, job.id);
      } else if (key == kRrJob) {
        field_text(v, job.name);
      } else if (key == kRrHeaders) {
        std::string text;
        if (field_text(v, text)) {
          const auto parsed = nlohmann::json::parse(text, nullptr, false);
          if (parsed.is_object()) {
            for (const auto& [hk, hv] : parsed.items()) {
              if (!hv.is_array()) continue;
              auto& values = job.headers[hk];
              for (const auto& s : hv) {
                if (s.is_string()) values.push_back(s.get<std::string>());
              }
            }
          } else if (!parsed.is_null()) {
            log->warn("event=amqp_bad_headers pipeline={} error=\"rr_headers is not a JSON object\"", opts.pipeline);
          }
        }
      } else if (key == kRrDelay && field_int(v, n)) {
        job.delay = std::chrono::seconds(n);
      } else if (key == kRrPriority && field_int(v, n)) {
        job.priority = n;
      } else if (key == kRrAutoAck && v.kind == AMQP_FIELD_KIND_BOOLEAN) {
        job.auto_ack = v.value.boolean != 0;
      } else if (key == kRrAttempts && field_int(v, n)) {
        job.attempts = static_cast<std::uint32_t>(std::max<std::int64_t>(0, n));
      }
    }
  }
  if (job.id.empty()) job.id = random_uuid(rng);
  if (job.name.empty()) job.name = "deduced_by_rr";  // RoadRunner's name for foreign messages

  if (job.auto_ack) {
    if (const int st = amqp_basic_ack(conn.state(), kConsume, tag, 0); st != AMQP_STATUS_OK) {
      lost(std::string("basic.ack: ") + amqp_error_string2(st));
      return;
    }
  }
  const bool auto_acked = job.auto_ack;
  auto d = std::make_unique<AmqpDelivery>(shared_from_this(), std::move(job), generation, tag, auto_acked);
  CompletionPtr<std::unique_ptr<Delivery>> waiter;
  {
    std::lock_guard lock(mu);
    if (stopping || (paused && !auto_acked)) {
      d->discard();
    } else if (paused) {
      ready.push_back(std::move(d));  // auto-acked: ours now, handed out after resume
      return;
    } else if (!waiters.empty()) {
      waiter = std::move(waiters.front());
      waiters.pop_front();
    } else {
      ready.push_back(std::move(d));
      return;
    }
  }
  if (!waiter) {
    // Paused or stopping: back to the broker (head of the queue, no attempt counted).
    if (!d->auto_acked()) amqp_basic_reject(conn.state(), kConsume, tag, 1);
    return;
  }
  d->hand_out();
  waiter->complete(std::move(d));
}

void AmqpDriver::Core::handle(StatCmd& c) {
  PipelineStat s = local_stat();
  if (conn.is_open()) {
    bool ch_closed = false;
    auto* q = amqp_queue_declare(conn.state(), kStat, as_bytes(opts.queue), 1, 0, 0, 0, amqp_empty_table);
    if (!conn.check_rpc("queue.declare passive", &ch_closed) && q) {
      s.active += q->message_count;
    } else if (ch_closed) {
      if (conn.reopen_channel(kStat)) lost(conn.error());
    } else {
      lost(conn.error());
    }
    for (auto it = delay_queues.begin(); conn.is_open() && it != delay_queues.end();) {
      ch_closed = false;
      auto* d = amqp_queue_declare(conn.state(), kStat, as_bytes(it->second), 1, 0, 0, 0, amqp_empty_table);
      if (!conn.check_rpc("queue.declare passive", &ch_closed) && d) {
        s.delayed += d->message_count;
        ++it;
        continue;
      }
      if (!ch_closed) {
        lost(conn.error());
        break;
      }
      it = delay_queues.erase(it);  // expired (404): empty
      if (conn.reopen_channel(kStat)) lost(conn.error());
    }
    std::lock_guard lock(mu);
    s.ready = conn.is_open() && consuming && !paused;
  }
  c.done->complete(std::move(s));
}

void AmqpDriver::Core::finish() {
  for (auto& [seq, p] : pending) {
    if (p.done) p.done->complete(AmqpError::stopping);
  }
  pending.clear();
  std::deque<Command> rest;
  {
    std::lock_guard lock(mu);
    closed = true;
    rest.swap(commands);
  }
  for (auto& d : take_ready()) d->discard();  // unacked: the broker redelivers them
  for (auto& c : rest) {
    if (auto* p = std::get_if<PushCmd>(&c)) p->done->complete(AmqpError::stopping);
    if (auto* s = std::get_if<StatCmd>(&c)) s->done->complete(local_stat());
    if (auto* s = std::get_if<StopCmd>(&c); s && s->done) stop_waiters.push_back(std::move(s->done));
  }
  if (conn.is_open()) {
    if (opts.delete_queue_on_stop) {
      amqp_queue_delete(conn.state(), kPublish, as_bytes(opts.queue), 0, 0);
      conn.check_rpc("queue.delete");
    }
    conn.close();  // unacked deliveries go back to the queue
  }
  log->info("event=amqp_stopped pipeline={} unsettled={}", opts.pipeline, reserved.load());
  for (auto& w : stop_waiters) w->complete(true);
  stop_waiters.clear();
}

// --- AmqpDriver --------------------------------------------------------------------------------

AmqpDriver::AmqpDriver(AmqpOptions options, std::shared_ptr<spdlog::logger> log)
    : core_(std::make_shared<Core>(std::move(options), std::move(log))) {
  if (core_->wake_fd < 0) throw std::runtime_error("amqp driver: eventfd failed");
  thread_ = std::thread([core = core_] { core->run(); });
}

AmqpDriver::~AmqpDriver() {
  std::vector<CompletionPtr<std::unique_ptr<Delivery>>> waiters;
  {
    std::lock_guard lock(core_->mu);
    core_->stopping = true;
    while (!core_->waiters.empty()) {
      waiters.push_back(std::move(core_->waiters.front()));
      core_->waiters.pop_front();
    }
  }
  for (auto& w : waiters) w->complete(nullptr);
  core_->post(Core::StopCmd{});
  if (thread_.joinable()) thread_.join();
}

asio::awaitable<std::error_code> AmqpDriver::push(Job job) {
  Core* core = core_.get();
  auto reg = [core, &job](CompletionPtr<std::error_code> done) {
    {
      std::lock_guard lock(core->mu);
      if (core->stopping) {
        done->complete(AmqpError::stopping);
        return;
      }
    }
    core->post(Core::PushCmd{std::move(job), std::move(done)});
  };
  auto box = co_await wait_for<std::error_code>(reg);
  co_return box.value;
}

asio::awaitable<std::vector<std::error_code>> AmqpDriver::push_batch(std::vector<Job> jobs) {
  if (jobs.empty()) co_return std::vector<std::error_code>{};
  Core* core = core_.get();
  // Every job is posted before the first confirm is awaited: the driver thread publishes them
  // back to back and the broker confirms them together (often with one multiple-ack).
  auto reg = [core, &jobs](CompletionPtr<std::vector<std::error_code>> done) {
    auto batch = std::make_shared<BatchResults>(jobs.size(), std::move(done));
    bool stopping = false;
    {
      std::lock_guard lock(core->mu);
      stopping = core->stopping;
    }
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      CompletionPtr<std::error_code> slot(new BatchSlot(batch, i));
      if (stopping) {
        slot->complete(AmqpError::stopping);
      } else {
        core->post(Core::PushCmd{std::move(jobs[i]), std::move(slot)});
      }
    }
  };
  auto box = co_await wait_for<std::vector<std::error_code>>(reg);
  co_return std::move(box.value);
}

asio::awaitable<std::unique_ptr<Delivery>> AmqpDriver::next() {
  Core* core = core_.get();
  auto reg = [core](CompletionPtr<std::unique_ptr<Delivery>> done) {
    std::unique_lock lock(core->mu);
    if (!core->demand && !core->stopping) {
      // The first poller: start consuming now. A pipeline this server only pushes to never
      // calls next(), so it never takes messages away from the servers that consume it.
      core->demand = true;
      core->waiters.push_back(std::move(done));
      lock.unlock();
      core->post(Core::PauseCmd{});
      return;
    }
    if (core->stopping) {
      lock.unlock();
      done->complete(nullptr);
      return;
    }
    if (!core->paused && !core->ready.empty()) {
      auto d = std::move(core->ready.front());
      core->ready.pop_front();
      lock.unlock();
      d->hand_out();
      done->complete(std::move(d));
      return;
    }
    core->waiters.push_back(std::move(done));
  };
  auto box = co_await wait_for<std::unique_ptr<Delivery>>(reg);
  co_return std::move(box.value);
}

void AmqpDriver::pause() { core_->set_paused(true); }

void AmqpDriver::resume() { core_->set_paused(false); }

asio::awaitable<PipelineStat> AmqpDriver::stat() {
  Core* core = core_.get();
  auto reg = [core](CompletionPtr<PipelineStat> done) { core->post(Core::StatCmd{std::move(done)}); };
  auto box = co_await wait_for<PipelineStat>(reg);
  co_return std::move(box.value);
}

asio::awaitable<void> AmqpDriver::stop() {
  std::vector<CompletionPtr<std::unique_ptr<Delivery>>> waiters;
  {
    std::lock_guard lock(core_->mu);
    core_->stopping = true;
    while (!core_->waiters.empty()) {
      waiters.push_back(std::move(core_->waiters.front()));
      core_->waiters.pop_front();
    }
  }
  for (auto& w : waiters) w->complete(nullptr);
  Core* core = core_.get();
  auto reg = [core](CompletionPtr<bool> done) { core->post(Core::StopCmd{std::move(done)}); };
  co_await wait_for<bool>(reg);
}

std::unique_ptr<Driver> make_amqp_driver(asio::io_context& /*io*/, const config::JobsPipelineConfig& pipeline,
                                         const std::string& amqp_addr, std::shared_ptr<spdlog::logger> log) {
  AmqpOptions o = parse_amqp_options(pipeline, amqp_addr, "jobs.pipelines." + pipeline.name + ".config");
  return std::make_unique<AmqpDriver>(std::move(o), std::move(log));
}

}  // namespace pivot::jobs
