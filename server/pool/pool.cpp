#include "server/pool/pool.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <optional>

#include "protocol/json_reader.hpp"
#include "protocol/json_writer.hpp"
#include "protocol/protocol_error.hpp"
#include "server/pool/take_back_plan.hpp"
#include "server/worker/proc_stats.hpp"

namespace pivot::pool {

using worker::RetireReason;
using worker::Worker;
using worker::WorkerState;
namespace pf = protocol::flags;

namespace {

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::string_view kStopRequest = R"({"stop":true})";
constexpr auto kMaxStopGrace = std::chrono::seconds(10);

std::string describe_status(int st) {
  if (WIFEXITED(st)) return "exit_code=" + std::to_string(WEXITSTATUS(st));
  if (WIFSIGNALED(st)) return "signal=" + std::to_string(WTERMSIG(st));
  return "status=" + std::to_string(st);
}

std::string quoted(std::string_view s) {
  std::string out;
  protocol::append_json_string(out, s);
  return out;
}

}  // namespace

const char* outcome_name(Outcome o) noexcept {
  switch (o) {
    case Outcome::Ok: return "ok";
    case Outcome::SoftError: return "worker_error";
    case Outcome::NoWorker: return "no_free_worker";
    case Outcome::QueueFull: return "queue_full";
    case Outcome::Stopping: return "pool_stopping";
    case Outcome::Crashed: return "worker_crashed";
    case Outcome::ProtocolError: return "protocol_error";
    case Outcome::Timeout: return "exec_timeout";
  }
  return "unknown";
}

struct Pool::Waiter {
  explicit Waiter(const Worker::Strand& s) : timer(s) {}
  asio::steady_timer timer;
  WorkerPtr worker;
  const std::string* frame = nullptr;  // non-null: may be written behind a busy worker's request
  worker::Turn* turn = nullptr;        // where that execution waits for its reply
  bool pipelined = false;              // `frame` is already in `worker`'s pipe, `turn` queued
};

Pool::Pool(asio::io_context& io, Options opts, std::shared_ptr<spdlog::logger> log, std::shared_ptr<spdlog::logger> worker_log)
    // With one I/O thread every handler runs on that thread already; a strand would only add a
    // queue and a reference count per completion.
    : strand_(opts.single_threaded ? Worker::Strand(io.get_executor()) : Worker::Strand(asio::make_strand(io))),
      opts_(std::move(opts)),
      log_(std::move(log)),
      worker_log_(std::move(worker_log)),
      rng_(static_cast<unsigned>(::getpid())) {
  protocol::append_frame(stop_frame_, pf::kControl | pf::kCodecJson, {}, kStopRequest);
  protocol::append_frame(stream_stop_frame_, 0, {}, {}, protocol::stream_bits::kStop);
  protocol::append_frame(pong_frame_, 0, {}, {}, protocol::stream_bits::kPong);
}

Pool::~Pool() = default;

void Pool::start() {
  asio::post(strand_, [this] {
    ensure_capacity();
    if (opts_.cfg.supervisor.enabled) asio::co_spawn(strand_, supervise(), asio::detached);
  });
}

asio::awaitable<ExecResult> Pool::exec(const std::string& frame) {
  // With one I/O thread every handler, the strand's included, runs on that thread, so the pool's
  // state is already serialised: skip the hop.
  if (opts_.single_threaded) co_return co_await do_exec(frame, nullptr);
  co_return co_await asio::co_spawn(strand_, do_exec(frame, nullptr), asio::use_awaitable);
}

asio::awaitable<ExecResult> Pool::exec_stream(const std::string& frame, ReplyStream& stream) {
  if (opts_.single_threaded) co_return co_await do_exec(frame, &stream);
  co_return co_await asio::co_spawn(strand_, do_exec(frame, &stream), asio::use_awaitable);
}

asio::awaitable<void> Pool::stop() { co_await asio::co_spawn(strand_, do_stop(), asio::use_awaitable); }

asio::awaitable<std::vector<WorkerInfo>> Pool::workers() {
  co_return co_await asio::co_spawn(strand_, [this]() -> asio::awaitable<std::vector<WorkerInfo>> {
    std::vector<WorkerInfo> out;
    std::string command;
    for (const auto& a : opts_.cfg.command.empty() ? opts_.argv : opts_.cfg.command) {
      if (!command.empty()) command += ' ';
      command += a;
    }
    const auto now = std::chrono::steady_clock::now();
    for (const auto& w : workers_) {
      if (w->exited) continue;
      WorkerInfo i;
      i.pid = w->pid();
      const auto reason = w->state() == WorkerState::Busy ? w->pending_retire : w->retire_reason;
      i.status = worker::state_number(w->state(), reason);
      i.status_str = std::string(worker::state_name(w->state(), reason));
      i.num_execs = w->num_execs;
      i.created_unix_ns = w->created_unix_ns;
      i.command = command;
      worker::ProcStats ps;
      if (worker::read_proc_stats(w->pid(), ps)) {
        i.memory_rss = ps.rss_bytes;
        const double age = std::chrono::duration<double>(now - w->created).count();
        if (age > 0) i.cpu_percent = ps.cpu_seconds / age * 100.0;
      }
      out.push_back(std::move(i));
    }
    co_return out;
  }, asio::use_awaitable);
}

asio::awaitable<PoolStatus> Pool::status() {
  co_return co_await asio::co_spawn(strand_, [this]() -> asio::awaitable<PoolStatus> {
    PoolStatus st;
    st.desired = opts_.cfg.num_workers;
    st.queued = waiters_.size();
    st.stopping_pool = stopping_;
    for (const auto& w : workers_) {
      switch (w->state()) {
        case WorkerState::Idle: ++st.ready; break;
        case WorkerState::Busy: ++st.working; break;
        case WorkerState::Starting: ++st.starting; break;
        case WorkerState::Stopping: ++st.stopping; break;
        case WorkerState::Exited: break;
      }
    }
    co_return st;
  }, asio::use_awaitable);
}

asio::awaitable<bool> Pool::reset() { co_return co_await asio::co_spawn(strand_, do_reset(), asio::use_awaitable); }

std::uint64_t Pool::jittered_max_jobs() {
  const std::uint64_t limit = opts_.cfg.max_jobs;
  if (limit == 0) return 0;
  // Up to +14 % so workers started together do not all restart together (RoadRunner does the same).
  const std::uint64_t p = rng_() % 15;
  return limit + limit * p / 100;
}

unsigned Pool::active_count() const {
  // Workers from before a reset do not count: their replacements are started at once.
  unsigned n = pending_spawns_;
  for (const auto& w : workers_) {
    const auto s = w->state();
    if (w->generation == generation_ && (s == WorkerState::Starting || s == WorkerState::Idle || s == WorkerState::Busy)) ++n;
  }
  return n;
}

void Pool::ensure_capacity() {
  if (stopping_) return;
  for (unsigned active = active_count(); active < opts_.cfg.num_workers; ++active) {
    config::Duration delay{0};
    if (boot_failures_ > 0) {
      // Capped exponential backoff for workers that keep failing at boot: never a spin.
      const unsigned shift = std::min(boot_failures_ - 1, 6U);
      delay = std::min<config::Duration>(std::chrono::milliseconds(100) * (1U << shift), std::chrono::seconds(5));
    }
    ++pending_spawns_;
    asio::co_spawn(strand_, spawn_one(delay), asio::detached);
  }
}

asio::awaitable<void> Pool::spawn_one(config::Duration delay) {
  if (delay.count() > 0) {
    asio::steady_timer t(strand_, delay);
    timers_.insert(&t);
    co_await t.async_wait(kTuple);
    timers_.erase(&t);
  }
  --pending_spawns_;
  if (stopping_) co_return;

  const auto& argv = opts_.cfg.command.empty() ? opts_.argv : opts_.cfg.command;
  worker::ChildProcess child;
  std::error_code ec;
  if (!worker::spawn_process(argv, opts_.env, child, ec, opts_.cfg.sched_batch)) {
    ++boot_failures_;
    log_->error("event=worker_spawn_failed pool={} command={} error={} consecutive_failures={}", opts_.name, quoted(argv[0]),
                quoted(ec.message()), boot_failures_);
    ensure_capacity();
    co_return;
  }
  auto w = std::make_shared<Worker>(strand_, child, opts_.max_frame, jittered_max_jobs());
  w->generation = generation_;
  workers_.push_back(w);
  log_->debug("event=worker_spawned pool={} pid={}", opts_.name, w->pid());

  asio::co_spawn(strand_, w->pump_stderr([this, w](std::string_view line) {
                   worker_log_->info("event=worker_stderr pid={} line={}", w->pid(), quoted(line));
                   w->remember_stderr(std::string(line));
                 }),
                 asio::detached);
  asio::co_spawn(strand_, watch_exit(w), asio::detached);

  // Handshake: our pid out, the worker's pid back, within allocate_timeout.
  bool timed_out = false;
  asio::steady_timer deadline(strand_, opts_.cfg.allocate_timeout);
  deadline.async_wait([w, &timed_out](std::error_code e) {
    if (!e) {
      timed_out = true;
      w->kill();
    }
  });
  std::string hello;
  protocol::append_frame(hello, pf::kControl | pf::kCodecJson, {}, "{\"pid\":" + std::to_string(::getpid()) + "}");
  ec = co_await w->write(hello);
  protocol::Frame reply;
  if (!ec) ec = co_await w->read_frame(reply);
  deadline.cancel();
  std::int64_t pid = 0;
  std::string problem;
  if (timed_out) {
    problem = "no handshake within allocate_timeout";
  } else if (ec) {
    problem = ec.message();
  } else if (!reply.is_control()) {
    problem = "handshake reply without the CONTROL flag";
  } else if (!protocol::json_find_int(reply.payload, "pid", pid) || pid <= 0) {
    problem = "handshake reply without a pid";
  }
  if (!problem.empty()) {
    ++boot_failures_;
    // Give the stderr pump a moment to collect the PHP error that explains the failure.
    if (!w->exited) w->kill();
    asio::steady_timer settle(strand_, std::chrono::milliseconds(20));
    co_await settle.async_wait(kTuple);
    log_->error("event=worker_boot_failed pool={} pid={} error={} {} stderr={} consecutive_failures={}", opts_.name, w->pid(),
                quoted(problem), w->exited ? describe_status(w->wait_status) : std::string("exit=pending"), quoted(w->stderr_tail()),
                boot_failures_);
    if (w->state() == WorkerState::Starting) w->set_state(WorkerState::Stopping);
    w->retire_reason = RetireReason::BootFailed;
    ensure_capacity();
    co_return;
  }
  if (w->state() != WorkerState::Starting) {  // died or was stopped meanwhile
    ensure_capacity();
    co_return;
  }
  boot_failures_ = 0;
  if (w->generation != generation_) {  // started before a reset: never serves
    retire(w, RetireReason::Reset);
    co_return;
  }
  // A worker that reads stdin ahead (buffered, like the RoadRunner SDK's StreamRelay) could pull a
  // request queued behind a hung one into its own buffer, out of reach: it is never pipelined.
  bool exact = false;
  w->exact_reads = protocol::json_find_bool(reply.payload, "exact_reads", exact) && exact;
  log_->info("event=worker_ready pool={} pid={} max_jobs={} exact_reads={}", opts_.name, w->pid(), w->max_jobs, w->exact_reads);
  if (!w->exact_reads && opts_.cfg.pipeline_depth > 0 && !warned_no_exact_reads_) {
    warned_no_exact_reads_ = true;
    log_->info("event=pipelining_unavailable pool={} pid={} reason=\"the worker's handshake has no exact_reads:true; it may read stdin "
               "ahead (RoadRunner SDK), so requests are not pipelined onto it\"",
               opts_.name, w->pid());
  }
  make_available(w);
  if (resetting_) retire_surplus_old();
}

void Pool::retire_surplus_old() {
  // Rolling reset: old workers are retired only as new ones are ready to take their place, so
  // capacity never drops and a reset to code that fails at boot leaves the old workers serving.
  // Level-based (recomputed on every new-ready and every release) so no hand-off is missed.
  unsigned new_live = 0, old_live = 0;
  for (const auto& w : workers_) {
    const auto st = w->state();
    if (st != WorkerState::Idle && st != WorkerState::Busy) continue;
    if (w->generation == generation_) {
      ++new_live;
    } else if (w->pending_retire == RetireReason::None) {
      ++old_live;
    }
  }
  const unsigned allowed = new_live >= opts_.cfg.num_workers ? 0 : opts_.cfg.num_workers - new_live;
  while (old_live > allowed) {
    WorkerPtr victim;
    for (const auto& w : idle_) {
      if (w->generation != generation_ && w->state() == WorkerState::Idle && w->pending_retire == RetireReason::None) victim = w;
    }
    if (victim) {
      retire(victim, RetireReason::Reset);
    } else {
      // Busy, or idle but already handed to a waiter: it goes after its current request.
      for (const auto& w : workers_) {
        const auto st = w->state();
        if (w->generation != generation_ && (st == WorkerState::Busy || st == WorkerState::Idle) &&
            w->pending_retire == RetireReason::None) {
          w->pending_retire = RetireReason::Reset;
          break;
        }
      }
    }
    --old_live;
  }
}

asio::awaitable<void> Pool::watch_exit(WorkerPtr w) {
  const int st = co_await w->wait_exit();
  if (st == -1 && !w->exited) co_return;  // cancelled at shutdown
  on_exited(w);
}

void Pool::on_exited(const WorkerPtr& w) {
  const WorkerState prev = w->state();
  if (prev != WorkerState::Exited) w->set_state(WorkerState::Exited);
  remove_idle(w.get());
  fail_turns(w);
  workers_.erase(std::remove(workers_.begin(), workers_.end(), w), workers_.end());
  if (prev == WorkerState::Idle || prev == WorkerState::Busy) {
    log_->warn("event=worker_died pool={} pid={} {} was={} execs={} stderr={}", opts_.name, w->pid(), describe_status(w->wait_status),
               worker::state_name(prev), w->num_execs, quoted(w->stderr_tail()));
  } else {
    log_->info("event=worker_exited pool={} pid={} {} reason={} execs={}", opts_.name, w->pid(), describe_status(w->wait_status),
               worker::reason_name(w->retire_reason), w->num_execs);
  }
  if (prev != WorkerState::Starting) ensure_capacity();
  if (resetting_ && old_generation_gone()) resetting_ = false;
  if (w->exit_signal) w->exit_signal->cancel();
  notify_drain();
}

void Pool::remove_idle(const Worker* w) {
  idle_.erase(std::remove_if(idle_.begin(), idle_.end(), [w](const WorkerPtr& p) { return p.get() == w; }), idle_.end());
}

void Pool::make_available(const WorkerPtr& w) {
  w->set_state(WorkerState::Idle);
  if (!waiters_.empty()) {
    Waiter* wt = waiters_.front();
    waiters_.pop_front();
    wt->worker = w;
    wt->timer.cancel();
    return;
  }
  idle_.push_back(w);
}

asio::awaitable<Pool::WorkerPtr> Pool::acquire(Outcome& why, const std::string* pipeline_frame, worker::Turn* turn, bool first_in_line) {
  const auto deadline = std::chrono::steady_clock::now() + opts_.cfg.allocate_timeout;
  for (;;) {
    if (stopping_) {
      why = Outcome::Stopping;
      co_return nullptr;
    }
    while (!idle_.empty()) {
      WorkerPtr w = std::move(idle_.back());
      idle_.pop_back();
      if (w->state() == WorkerState::Idle) co_return w;
    }
    // No free worker: queue the request in a busy worker's pipe rather than here, unless others
    // already wait (they go first).
    if (pipeline_frame != nullptr && waiters_.empty()) {
      if (WorkerPtr w = pipeline_now(*pipeline_frame, *turn)) co_return w;
    }
    if (opts_.cfg.max_queue_size && waiters_.size() >= opts_.cfg.max_queue_size) {
      why = Outcome::QueueFull;
      co_return nullptr;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      why = Outcome::NoWorker;
      co_return nullptr;
    }
    if (opts_.cfg.debug) {
      // Debug mode (RoadRunner's meaning): no warm workers; a fresh one boots for each request,
      // so code changes apply at once. It is handed to the oldest waiter and retired after one job.
      ++pending_spawns_;
      asio::co_spawn(strand_, spawn_one(config::Duration{0}), asio::detached);
    }
    Waiter wt(strand_);
    wt.frame = pipeline_frame;
    wt.turn = turn;
    wt.timer.expires_at(deadline);
    // A request taken back from a slow worker's pipe has waited longest: it goes first.
    if (first_in_line) {
      waiters_.push_front(&wt);
    } else {
      waiters_.push_back(&wt);
    }
    co_await wt.timer.async_wait(kTuple);
    waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), &wt), waiters_.end());
    if (wt.worker && (wt.pipelined || wt.worker->state() == WorkerState::Idle)) co_return std::move(wt.worker);
  }
}

bool Pool::can_pipeline_onto(const Worker& w, std::chrono::steady_clock::time_point now) const {
  const std::uint64_t queued = w.turns.size();
  return w.exact_reads && w.state() == WorkerState::Busy && !w.writing() && !w.streaming && w.pending_retire == RetireReason::None && w.generation == generation_ &&
         queued < opts_.cfg.pipeline_depth && (w.max_jobs == 0 || w.num_execs + queued + 2 <= w.max_jobs) &&
         w.avg_exec.count() >= 0 && w.avg_exec <= opts_.cfg.pipeline_max_exec && now - w.busy_since <= opts_.cfg.pipeline_max_exec;
}

Pool::WorkerPtr Pool::pipeline_now(const std::string& frame, worker::Turn& turn) {
  const auto now = std::chrono::steady_clock::now();
  const WorkerPtr* best = nullptr;
  for (const auto& w : workers_) {
    if (!can_pipeline_onto(*w, now)) continue;
    // The shortest queue, then the worker whose current request started first.
    if (best == nullptr || w->turns.size() < (*best)->turns.size() ||
        (w->turns.size() == (*best)->turns.size() && w->busy_since < (*best)->busy_since)) {
      best = &w;
    }
  }
  if (best == nullptr || !(*best)->try_write_now(frame)) return nullptr;
  queue_turn(*best, turn);
  return *best;
}

void Pool::queue_turn(const WorkerPtr& w, worker::Turn& turn) {
  turn.queued = true;
  w->turns.push_back(&turn);
  if (pipeline_watch_ == nullptr && opts_.cfg.pipeline_max_wait.count() > 0) asio::co_spawn(strand_, watch_pipelines(), asio::detached);
}

asio::awaitable<void> Pool::watch_pipelines() {
  // Runs while any request waits in a worker's pipe: every half pipeline_max_wait it takes back
  // the queued requests of workers whose current request has run longer than pipeline_max_wait.
  // One timer for the pool instead of one per pipelined request.
  asio::steady_timer tick(strand_);
  pipeline_watch_ = &tick;
  const auto max_wait = opts_.cfg.pipeline_max_wait;
  const auto period = std::max<std::chrono::steady_clock::duration>(max_wait / 2, std::chrono::milliseconds(1));
  for (;;) {
    tick.expires_after(period);
    auto [ec] = co_await tick.async_wait(kTuple);
    if (ec) break;  // the pool is stopping
    const auto now = std::chrono::steady_clock::now();
    bool queued = false;
    const std::vector<WorkerPtr> snapshot = workers_;
    for (const auto& w : snapshot) {
      if (w->turns.empty()) continue;
      if (now - w->busy_since >= max_wait) take_back_queued(w, "slow");
      queued = queued || !w->turns.empty();
    }
    if (!queued) break;
  }
  pipeline_watch_ = nullptr;
}

void Pool::take_back_queued(const WorkerPtr& w, std::string_view reason) {
  // pipeline_max_wait 0 = never take back.
  if (opts_.cfg.pipeline_max_wait.count() == 0 || w->turns.empty() || w->state() != WorkerState::Busy || w->streaming || w->writing()) return;
  std::string unread;
  if (!w->take_back_unread(unread)) {
    log_->debug("event=pipeline_take_back_unavailable pool={} pid={} error=\"cannot open /proc/{}/fd/0 as our pipe\"", opts_.name,
                w->pid(), w->pid());
    return;
  }
  std::vector<std::size_t> sizes;
  sizes.reserve(w->turns.size());
  for (const worker::Turn* t : w->turns) sizes.push_back(t->bytes);
  const TakeBackPlan plan = plan_take_back(w->current_bytes, sizes, unread.size());
  // What the worker has begun to read goes back exactly as it was: nobody else writes to this
  // pipe meanwhile (the pool's executor), so its byte stream is unchanged.
  if (plan.put_back > 0 && !w->put_back(std::string_view(unread).substr(0, plan.put_back))) {
    log_->error("event=pipeline_take_back_failed pool={} pid={} bytes={} error=\"could not write the unread bytes back\" action=SIGKILL",
                opts_.name, w->pid(), plan.put_back);
    kill_worker(w, RetireReason::ProtocolError);
    return;
  }
  if (!plan.consistent) {
    log_->warn("event=pipeline_take_back_skipped pool={} pid={} unread_bytes={} error=\"the pipe holds more than the queued requests\"",
               opts_.name, w->pid(), unread.size());
    return;
  }
  const std::size_t taken = w->turns.size() - plan.keep;
  if (taken == 0) return;
  for (std::size_t i = plan.keep; i < w->turns.size(); ++i) {
    worker::Turn* t = w->turns[i];
    t->woken = true;
    t->granted = false;
    t->taken_back = true;
    t->timer.cancel();
  }
  w->turns.resize(plan.keep);
  taken_back_total_ += taken;
  log_->info("event=pipeline_taken_back pool={} pid={} requests={} reason={} current_exec_ms={} (they go to another worker)", opts_.name,
             w->pid(), taken, reason, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - w->busy_since).count());
}

void Pool::offer_pipeline_place(const WorkerPtr& w) {
  // Strict FIFO: a front waiter whose frame cannot be pipelined waits for a free worker, and
  // workers then drain so it gets one (no starvation of large requests).
  if (waiters_.empty() || waiters_.front()->frame == nullptr || !can_pipeline_onto(*w, std::chrono::steady_clock::now())) return;
  Waiter* wt = waiters_.front();
  // Written and queued here, not when the waiter wakes: nothing can take the place meanwhile.
  if (!w->try_write_now(*wt->frame)) return;
  queue_turn(w, *wt->turn);
  waiters_.pop_front();
  wt->worker = w;
  wt->pipelined = true;
  wt->timer.cancel();
}

void Pool::fail_turns(const WorkerPtr& w) {
  // The worker is gone or going before it read these requests: they were never started, so
  // their executions retry elsewhere.
  for (worker::Turn* t : w->turns) {
    t->woken = true;
    t->granted = false;
    t->timer.cancel();
  }
  w->turns.clear();
}

asio::awaitable<ExecResult> Pool::do_exec(const std::string& frame, ReplyStream* stream) {
  ExecResult r;
  // Small frames may be pipelined: written at once behind a busy worker's current request.
  bool may_pipeline = opts_.cfg.pipeline_depth > 0 && !opts_.cfg.debug && frame.size() <= PIPE_BUF;
  unsigned lost_turns = 0;
  bool taken_back = false;
  for (int attempt = 0;; ++attempt) {
    Outcome why = Outcome::NoWorker;
    // A Turn (and its timer, which takes the timer service's mutex) only when pipelining is possible.
    std::optional<worker::Turn> turn;
    if (may_pipeline) {
      turn.emplace(strand_);
      turn->bytes = frame.size();
    }
    WorkerPtr w = co_await acquire(why, may_pipeline ? &frame : nullptr, turn ? &*turn : nullptr, taken_back);
    if (!w) {
      r.outcome = why;
      r.error = outcome_name(why);
      co_return r;
    }
    // Not the worker's state: a queued request's worker may already have failed or retired
    // (its turn then says so) before this coroutine resumed.
    const bool pipelined = turn && turn->queued;
    if (pipelined) {
      ++pipelined_total_;
      log_->debug("event=exec_pipelined pool={} pid={} queued={}", opts_.name, w->pid(), w->turns.size());
    }
    ++in_flight_;
    r.pid = w->pid();
    if (pipelined) {
      if (!turn->woken) co_await turn->timer.async_wait(kTuple);
      if (!turn->granted) {
        // The worker failed, or asked to stop, before it reached this request: it never ran, so
        // it goes to another worker (a few times at most, in case workers keep dying).
        w->turns.erase(std::remove(w->turns.begin(), w->turns.end(), &*turn), w->turns.end());
        --in_flight_;
        notify_drain();
        if (turn->taken_back) {
          // Read back out of a slow worker's pipe: first in line for the next free worker, and
          // never pipelined again (it has waited long enough behind someone else).
          taken_back = true;
          may_pipeline = false;
          --attempt;
          continue;
        }
        if (++lost_turns <= 3) {
          --attempt;
          continue;
        }
        r.outcome = Outcome::Crashed;
        r.error = "the workers this request was queued on failed before running it";
        co_return r;
      }
    } else {
      w->set_state(WorkerState::Busy);
      w->busy_since = std::chrono::steady_clock::now();
      w->current_bytes = frame.size();
    }
    // exec_ttl is hard: at the deadline the worker's process group is SIGKILLed, which ends the
    // pending read or write below with an error that is then reported as a timeout (504).
    // The flag and the timer exist only when exec_ttl is on: nothing extra per request otherwise
    // (constructing a timer takes the timer service's mutex).
    std::shared_ptr<bool> expired;
    std::optional<asio::steady_timer> exec_deadline;
    if (const auto ttl = opts_.cfg.supervisor.exec_ttl; ttl.count() > 0) {
      expired = std::make_shared<bool>(false);
      exec_deadline.emplace(strand_, ttl);
      exec_deadline->async_wait([w, expired](std::error_code e) {
        if (e) return;
        *expired = true;
        w->kill();
      });
    }
    auto timed_out = [&]() {
      if (!expired || !*expired) return false;
      log_->error("event=exec_ttl_expired pool={} pid={} exec_ttl_ms={} action=SIGKILL", opts_.name, w->pid(),
                  opts_.cfg.supervisor.exec_ttl.count());
      release(w, Outcome::Timeout);
      r.outcome = Outcome::Timeout;
      r.error = "exec_ttl (" + std::to_string(opts_.cfg.supervisor.exec_ttl.count()) + " ms) expired";
      return true;
    };
    if (std::error_code ec; !pipelined && (ec = co_await w->write(frame))) {
      if (exec_deadline) exec_deadline->cancel();
      if (timed_out()) co_return r;
      // The worker never read the whole request, so it cannot have handled it: retry once.
      log_failure(w, "write", ec);
      release(w, Outcome::Crashed);
      if (attempt == 0) continue;
      r.outcome = Outcome::Crashed;
      r.error = "worker closed its stdin: " + ec.message();
      co_return r;
    }
    if (!pipelined) offer_pipeline_place(w);  // the request is in the pipe: the oldest waiter may queue behind it
    const std::error_code ec = co_await read_reply(w, r);
    if (exec_deadline) exec_deadline->cancel();
    if (timed_out()) co_return r;
    if (ec) {
      r.outcome = ec.category() == protocol::protocol_category() ? Outcome::ProtocolError : Outcome::Crashed;
      if (ec == protocol::ProtocolError::bad_control) r.outcome = Outcome::ProtocolError;
      r.error = ec.message();
      log_failure(w, "read", ec);
      release(w, r.outcome);
      co_return r;
    }
    if (r.outcome == Outcome::SoftError) {
      release(w, Outcome::SoftError);
      co_return r;
    }
    const std::string_view payload = r.frame.payload;
    if (r.context_len == kStopRequest.size() && payload.size() == kStopRequest.size() && payload == kStopRequest) {
      log_->info("event=worker_stop_requested pool={} pid={}", opts_.name, w->pid());
      release(w, Outcome::Ok, true);
      if (attempt == 0) continue;
      r.outcome = Outcome::Crashed;
      r.error = "two workers in a row asked to stop instead of answering";
      co_return r;
    }
    if (r.frame.byte10 & protocol::stream_bits::kStream) [[unlikely]] {
      if (stream != nullptr) {
        // The worker stays Busy and in flight until the stream's last frame (next_chunk) or abort.
        stream->pool_ = this;
        stream->pool_alive_ = alive_;
        // A stream can last minutes: requests queued behind it go to other workers now, before the
        // worker polls its input for STOP (php-worker sends the first frame before it does).
        take_back_queued(w, "stream");
        w->streaming = true;
        stream->worker_ = std::move(w);
        co_return r;
      }
      // RoadRunner rejects streams outside HTTP (jobs nack them). The worker did nothing wrong:
      // read the stream to its end so it can serve again.
      log_->warn("event=stream_refused pool={} pid={} error=\"streaming is not supported\"", opts_.name, w->pid());
      release(w, co_await drain_stream(w, false));
      r.outcome = Outcome::ProtocolError;
      r.error = "streaming is not supported";
      r.frame = protocol::Frame{};
      r.context_len = 0;
      co_return r;
    }
    release(w, Outcome::Ok);
    co_return r;
  }
}

asio::awaitable<ExecResult> Pool::next_chunk(WorkerPtr& holder) {
  const WorkerPtr w = holder;
  ExecResult r;
  r.pid = w->pid();
  auto finish = [&](Outcome fate) {
    release(w, fate);
    holder.reset();  // the stream is closed
  };
  // exec_ttl applies to each chunk read, as RoadRunner does.
  std::shared_ptr<bool> expired;
  asio::steady_timer chunk_deadline(strand_);
  if (const auto ttl = opts_.cfg.supervisor.exec_ttl; ttl.count() > 0) {
    expired = std::make_shared<bool>(false);
    chunk_deadline.expires_after(ttl);
    chunk_deadline.async_wait([w, expired](std::error_code e) {
      if (e) return;
      *expired = true;
      w->kill();
    });
  }
  protocol::Frame& f = r.frame;
  std::error_code ec = co_await w->read_frame(f);
  chunk_deadline.cancel();
  if (expired && *expired) {
    log_->error("event=exec_ttl_expired pool={} pid={} exec_ttl_ms={} action=SIGKILL during=stream", opts_.name, w->pid(),
                opts_.cfg.supervisor.exec_ttl.count());
    finish(Outcome::Timeout);
    r.outcome = Outcome::Timeout;
    r.error = "exec_ttl (" + std::to_string(opts_.cfg.supervisor.exec_ttl.count()) + " ms) expired";
    co_return r;
  }
  if (!ec && f.is_error()) {
    // An ERROR frame mid-stream: the response cannot be completed; the worker is replaced (gracefully).
    log_->error("event=stream_error_frame pool={} pid={} error={} action=replace", opts_.name, w->pid(), quoted(f.payload));
    r.outcome = Outcome::SoftError;
    r.error = std::move(f.payload);
    if (w->pending_retire == RetireReason::None) w->pending_retire = RetireReason::ProtocolError;
    finish(Outcome::SoftError);
    co_return r;
  }
  if (!ec && f.is_control()) ec = protocol::ProtocolError::bad_control;
  if (!ec && f.options.size() != 1) ec = protocol::ProtocolError::missing_options;
  if (!ec && f.options[0] > f.payload.size()) ec = protocol::ProtocolError::bad_context_length;
  if (ec) {
    r.outcome = ec.category() == protocol::protocol_category() ? Outcome::ProtocolError : Outcome::Crashed;
    r.error = ec.message();
    log_failure(w, "read", ec);
    finish(r.outcome);
    co_return r;
  }
  r.outcome = Outcome::Ok;
  r.context_len = f.options[0];
  if (!(f.byte10 & protocol::stream_bits::kStream)) {
    finish(Outcome::Ok);
    co_return r;
  }
  if (f.byte10 & protocol::stream_bits::kPing) {
    if (auto wec = co_await w->write(pong_frame_)) {
      log_failure(w, "write", wec);
      r.outcome = Outcome::Crashed;
      r.error = "worker closed its stdin: " + wec.message();
      finish(Outcome::Crashed);
      co_return r;
    }
  }
  co_return r;
}

asio::awaitable<void> Pool::abort_stream(WorkerPtr w) {
  log_->info("event=stream_stop pool={} pid={} reason=consumer_gone", opts_.name, w->pid());
  release(w, co_await drain_stream(w, true));
}

asio::awaitable<Outcome> Pool::drain_stream(const WorkerPtr& w, bool send_stop) {
  const auto started = std::chrono::steady_clock::now();
  auto expired = std::make_shared<bool>(false);
  asio::steady_timer deadline(strand_, opts_.cfg.stream_timeout);
  deadline.async_wait([w, expired](std::error_code e) {
    if (e) return;
    *expired = true;
    w->kill();
  });
  if (send_stop) {
    if (auto ec = co_await w->write(stream_stop_frame_)) {
      deadline.cancel();
      log_failure(w, "write", ec);
      co_return Outcome::Crashed;
    }
  }
  unsigned frames = 0;
  for (;;) {
    protocol::Frame f;
    if (auto ec = co_await w->read_frame(f)) {
      deadline.cancel();
      if (*expired) {
        log_->error("event=stream_drain_timeout pool={} pid={} stream_timeout_ms={} frames={} action=SIGKILL", opts_.name, w->pid(),
                    opts_.cfg.stream_timeout.count(), frames);
        co_return Outcome::Timeout;
      }
      log_failure(w, "read", ec);
      co_return ec.category() == protocol::protocol_category() ? Outcome::ProtocolError : Outcome::Crashed;
    }
    ++frames;
    if (f.is_error() || !(f.byte10 & protocol::stream_bits::kStream)) break;  // an ERROR frame ends a stream too
    if (f.byte10 & protocol::stream_bits::kPing) {
      if (auto ec = co_await w->write(pong_frame_)) {
        deadline.cancel();
        log_failure(w, "write", ec);
        co_return Outcome::Crashed;
      }
    }
  }
  deadline.cancel();
  log_->info("event=stream_drained pool={} pid={} frames={} elapsed_ms={}", opts_.name, w->pid(), frames,
             std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
  co_return Outcome::Ok;
}

asio::awaitable<std::error_code> Pool::read_reply(const WorkerPtr& w, ExecResult& r) {
  protocol::Frame& f = r.frame;
  if (auto ec = co_await w->read_frame(f)) co_return ec;
  if (f.is_error()) {
    r.outcome = Outcome::SoftError;
    r.error = std::move(f.payload);
    co_return std::error_code{};
  }
  if (f.is_control()) co_return protocol::ProtocolError::bad_control;
  if (f.options.size() != 1) co_return protocol::ProtocolError::missing_options;
  if (f.options[0] > f.payload.size()) co_return protocol::ProtocolError::bad_context_length;
  r.outcome = Outcome::Ok;
  r.context_len = f.options[0];
  co_return std::error_code{};
}

void Pool::log_failure(const WorkerPtr& w, const char* what, const std::error_code& ec) {
  if (ec.category() == protocol::protocol_category()) {
    log_->error("event=worker_protocol_error pool={} pid={} op={} error={} first_bytes=\"{}\" stderr={}", opts_.name, w->pid(), what,
                quoted(ec.message()), w->first_bytes_hex(), quoted(w->stderr_tail()));
  } else {
    log_->error("event=worker_io_error pool={} pid={} op={} error={} stderr={}", opts_.name, w->pid(), what, quoted(ec.message()),
                quoted(w->stderr_tail()));
  }
}

void Pool::release(const WorkerPtr& w, Outcome outcome, bool requested_stop) {
  --in_flight_;
  const auto now = std::chrono::steady_clock::now();
  w->last_used = now;
  w->streaming = false;
  if (outcome == Outcome::Ok || outcome == Outcome::SoftError) {
    ++w->num_execs;
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(now - w->busy_since);
    w->avg_exec = w->avg_exec.count() < 0 ? took : (w->avg_exec * 7 + took) / 8;
  }
  if (w->state() == WorkerState::Exited) {
    fail_turns(w);
    notify_drain();
    return;
  }
  if (!w->turns.empty()) {
    if ((outcome == Outcome::Ok || outcome == Outcome::SoftError) && !requested_stop) {
      // The next pipelined request is already in the worker's pipe: it is the current one now.
      worker::Turn* next = w->turns.front();
      w->turns.pop_front();
      next->woken = true;
      next->granted = true;
      next->timer.cancel();
      w->busy_since = now;
      w->current_bytes = next->bytes;
      offer_pipeline_place(w);
      notify_drain();
      return;
    }
    // A worker that asked to stop is not expected to read further requests (RoadRunner's
    // workers exit); the failure paths below kill it. Either way the queued ones never ran.
    fail_turns(w);
  }
  switch (outcome) {
    case Outcome::Ok:
    case Outcome::SoftError:
      if (requested_stop) {
        retire(w, RetireReason::WorkerRequested);
      } else if (w->pending_retire != RetireReason::None) {
        retire(w, w->pending_retire);
      } else if (w->max_jobs && w->num_execs >= w->max_jobs) {
        retire(w, RetireReason::MaxJobs);
      } else {
        make_available(w);
      }
      if (resetting_) retire_surplus_old();
      break;
    case Outcome::Timeout:
      kill_worker(w, RetireReason::ExecTimeout);
      break;
    case Outcome::ProtocolError:
      kill_worker(w, RetireReason::ProtocolError);
      break;
    default:
      kill_worker(w, RetireReason::Crashed);
      break;
  }
  notify_drain();
}

void Pool::retire(const WorkerPtr& w, RetireReason reason) {
  if (w->state() == WorkerState::Stopping || w->state() == WorkerState::Exited) return;
  if (opts_.on_retire) opts_.on_retire(worker::reason_name(reason));  // metrics plugin: restarts by reason
  w->retire_reason = reason;
  remove_idle(w.get());
  w->set_state(WorkerState::Stopping);
  log_->info("event=worker_retire pool={} pid={} reason={} execs={}", opts_.name, w->pid(), worker::reason_name(reason), w->num_execs);
  asio::co_spawn(strand_, stop_gracefully(w), asio::detached);
  ensure_capacity();
}

void Pool::kill_worker(const WorkerPtr& w, RetireReason reason) {
  fail_turns(w);
  if (w->state() == WorkerState::Exited) return;
  // Metrics plugin: restarts by reason; a worker already retiring was counted by retire().
  if (opts_.on_retire && w->state() != WorkerState::Stopping) opts_.on_retire(worker::reason_name(reason));
  w->retire_reason = reason;
  remove_idle(w.get());
  if (w->state() != WorkerState::Stopping) w->set_state(WorkerState::Stopping);
  log_->warn("event=worker_kill pool={} pid={} reason={}", opts_.name, w->pid(), worker::reason_name(reason));
  w->kill();
  ensure_capacity();
}

asio::awaitable<void> Pool::stop_gracefully(WorkerPtr w) {
  if (auto ec = co_await w->write(stop_frame_)) {
    w->kill();
    co_return;
  }
  asio::steady_timer grace(strand_, std::min<config::Duration>(opts_.cfg.destroy_timeout, kMaxStopGrace));
  w->exit_signal = &grace;
  if (!w->exited) co_await grace.async_wait(kTuple);
  w->exit_signal = nullptr;
  if (!w->exited) {
    log_->warn("event=worker_stop_timeout pool={} pid={} action=SIGKILL", opts_.name, w->pid());
    w->kill();
  }
}

void Pool::notify_drain() {
  for (asio::steady_timer* t : state_waits_) t->cancel();
}

asio::awaitable<void> Pool::wait_until(std::chrono::steady_clock::time_point deadline, bool (Pool::*done)() const) {
  while (!(this->*done)() && std::chrono::steady_clock::now() < deadline) {
    asio::steady_timer t(strand_, deadline);
    state_waits_.insert(&t);
    co_await t.async_wait(kTuple);
    state_waits_.erase(&t);
  }
}

bool Pool::drained() const { return in_flight_ == 0; }

bool Pool::all_exited() const { return workers_.empty(); }

bool Pool::old_generation_gone() const {
  return std::none_of(workers_.begin(), workers_.end(), [this](const WorkerPtr& w) { return w->generation != generation_; });
}

asio::awaitable<void> Pool::do_stop() {
  if (stopping_) co_return;
  stopping_ = true;
  log_->info("event=pool_stopping pool={} in_flight={} workers={}", opts_.name, in_flight_, workers_.size());
  for (Waiter* wt : waiters_) wt->timer.cancel();
  for (asio::steady_timer* t : timers_) t->cancel();
  if (supervisor_timer_) supervisor_timer_->cancel();

  co_await wait_until(std::chrono::steady_clock::now() + opts_.cfg.destroy_timeout, &Pool::drained);
  if (in_flight_ > 0) {
    log_->warn("event=pool_destroy_timeout pool={} in_flight={} action=SIGKILL", opts_.name, in_flight_);
  }
  const std::vector<WorkerPtr> all = workers_;
  for (const auto& w : all) {
    if (w->state() == WorkerState::Idle) {
      retire(w, RetireReason::Shutdown);
    } else if (w->state() == WorkerState::Starting || w->state() == WorkerState::Busy) {
      kill_worker(w, RetireReason::Shutdown);
    }
  }
  const auto grace = std::min<config::Duration>(opts_.cfg.destroy_timeout, kMaxStopGrace) + std::chrono::seconds(1);
  co_await wait_until(std::chrono::steady_clock::now() + grace, &Pool::all_exited);
  for (const auto& w : workers_) w->kill();
  co_await wait_until(std::chrono::steady_clock::now() + std::chrono::seconds(2), &Pool::all_exited);
  if (pipeline_watch_) pipeline_watch_->cancel();
  log_->info("event=pool_stopped pool={} remaining={} pipelined={} taken_back={}", opts_.name, workers_.size(), pipelined_total_,
             taken_back_total_);
}

asio::awaitable<bool> Pool::do_reset() {
  if (stopping_) co_return false;
  ++generation_;
  resetting_ = true;
  const auto started = std::chrono::steady_clock::now();
  log_->info("event=pool_reset_begin pool={} workers={} generation={}", opts_.name, workers_.size(), generation_);
  ensure_capacity();  // the old workers no longer count: start a full set of new ones now
  co_await wait_until(started + opts_.cfg.reset_timeout, &Pool::old_generation_gone);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  if (!old_generation_gone()) {
    const auto left = std::count_if(workers_.begin(), workers_.end(), [this](const WorkerPtr& w) { return w->generation != generation_; });
    log_->error("event=pool_reset_timeout pool={} old_workers_left={} elapsed_ms={} (they keep serving until new workers are ready)",
                opts_.name, left, ms);
    co_return false;
  }
  log_->info("event=pool_reset_done pool={} elapsed_ms={}", opts_.name, ms);
  co_return true;
}

asio::awaitable<void> Pool::supervise() {
  asio::steady_timer t(strand_);
  supervisor_timer_ = &t;
  while (!stopping_) {
    t.expires_after(opts_.cfg.supervisor.watch_tick);
    co_await t.async_wait(kTuple);
    if (stopping_) break;
    supervise_tick();
  }
  supervisor_timer_ = nullptr;
}

void Pool::supervise_tick() {
  const auto& sv = opts_.cfg.supervisor;
  const auto now = std::chrono::steady_clock::now();
  const std::vector<WorkerPtr> snapshot = workers_;
  for (const auto& w : snapshot) {
    const WorkerState st = w->state();
    if (st != WorkerState::Idle && st != WorkerState::Busy) continue;
    RetireReason why = RetireReason::None;
    std::string detail;
    if (sv.ttl.count() > 0 && now - w->created >= sv.ttl) {
      why = RetireReason::Ttl;
      detail = "ttl_ms=" + std::to_string(sv.ttl.count());
    }
    if (why == RetireReason::None && sv.max_worker_memory > 0) {
      worker::ProcStats ps;
      if (worker::read_proc_stats(w->pid(), ps) && ps.rss_bytes >= sv.max_worker_memory * 1024 * 1024) {
        why = RetireReason::Memory;
        detail = "rss_mib=" + std::to_string(ps.rss_bytes / (1024 * 1024)) + " limit_mib=" + std::to_string(sv.max_worker_memory);
      }
    }
    if (why == RetireReason::None && st == WorkerState::Idle && sv.idle_ttl.count() > 0 && w->num_execs > 0 &&
        now - w->last_used >= sv.idle_ttl) {
      why = RetireReason::IdleTtl;
      detail = "idle_ttl_ms=" + std::to_string(sv.idle_ttl.count());
    }
    if (why == RetireReason::None) continue;
    if (st == WorkerState::Idle) {
      log_->info("event=worker_limit_reached pool={} pid={} reason={} {} action=retire", opts_.name, w->pid(), worker::reason_name(why),
                 detail);
      retire(w, why);
    } else if (w->pending_retire == RetireReason::None) {
      // Busy workers finish their request first (soft limit, as RoadRunner does).
      log_->info("event=worker_limit_reached pool={} pid={} reason={} {} action=retire_after_request", opts_.name, w->pid(),
                 worker::reason_name(why), detail);
      w->pending_retire = why;
    }
  }
}

}  // namespace pivot::pool
