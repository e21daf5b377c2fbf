#pragma once

#include <spdlog/logger.h>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "server/config/config.hpp"
#include "server/pool/outcome.hpp"
#include "server/pool/reply_stream.hpp"
#include "server/pool/worker_info.hpp"
#include "server/worker/worker.hpp"

namespace pivot::pool {

/// A supervised set of long-lived PHP workers executing one payload frame at a time each.
/// Knows nothing about HTTP. All state lives on the pool's strand; `exec` and `stop` may be
/// awaited from any executor.
class Pool {
 public:
  /// How to start and bound the workers.
  struct Options {
    std::string name;                     ///< plugin name for logs ("http")
    config::PoolConfig cfg;               ///< limits and timeouts
    std::vector<std::string> argv;        ///< worker command
    std::vector<std::string> env;         ///< full environment, "KEY=value"
    std::size_t max_frame = 1ULL << 31;   ///< largest reply payload accepted
    /// Metrics plugin: called on the pool strand whenever a worker is retired or killed, with
    /// worker::reason_name() of the reason ("max_jobs", "ttl", "crashed", ...). Empty = off.
    /// Must be quick and must not block (it runs inside pool state changes).
    std::function<void(std::string_view reason)> on_retire;
    /// True when exactly one thread runs the io_context (http.io_threads = 1) and every caller of
    /// exec() runs on it: exec() then runs on the caller's coroutine instead of hopping onto the
    /// pool strand and back (one coroutine spawn and two queued handlers less per request).
    bool single_threaded = false;
  };

  /// Creates the pool; no worker starts until `start()`.
  Pool(asio::io_context& io, Options opts, std::shared_ptr<spdlog::logger> log, std::shared_ptr<spdlog::logger> worker_log);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  /// Spawns `num_workers` workers in the background (thread-safe).
  void start();

  /// Runs a prepared request frame (header, one option, payload) on a worker and returns the reply.
  /// On a worker's stop request the frame is retried once on another worker.
  /// A reply with STREAM set (jobs do not stream) is drained and answered with ProtocolError
  /// "streaming is not supported"; the worker stays.
  asio::awaitable<ExecResult> exec(const std::string& frame);

  /// `exec` for HTTP: when the first reply frame has STREAM set, the worker stays reserved and
  /// `stream` is opened to deliver the following frames as they arrive (protocol doc §2.6).
  /// A plain reply costs exactly what `exec` costs. Any executor.
  asio::awaitable<ExecResult> exec_stream(const std::string& frame, ReplyStream& stream);

  /// Graceful stop: refuse new work, let in-flight executions finish (bounded by destroy_timeout),
  /// send the stop frame to every worker, SIGKILL what is left.
  asio::awaitable<void> stop();

  /// A snapshot of every live worker for the informer (RPC `informer.Workers`). Any executor.
  asio::awaitable<std::vector<WorkerInfo>> workers();

  /// Counts by state, for /health, /ready and metrics. Any executor.
  asio::awaitable<PoolStatus> status();

  /// Rolling reset: starts fresh workers and retires every current one once it is idle, so no
  /// request fails. Returns false when the old workers were not all gone within reset_timeout
  /// (stragglers are then killed) or the pool is stopping. Any executor.
  asio::awaitable<bool> reset();

  /// The pool name used in logs ("http").
  const std::string& name() const noexcept { return opts_.name; }

 private:
  friend class ReplyStream;
  using WorkerPtr = std::shared_ptr<worker::Worker>;
  struct Waiter;

  asio::awaitable<ExecResult> do_exec(const std::string& frame, ReplyStream* stream);
  asio::awaitable<ExecResult> next_chunk(WorkerPtr& holder);
  asio::awaitable<void> abort_stream(WorkerPtr w);
  asio::awaitable<Outcome> drain_stream(const WorkerPtr& w, bool send_stop);
  asio::awaitable<WorkerPtr> acquire(Outcome& why, const std::string* pipeline_frame, worker::Turn* turn, bool first_in_line);
  bool can_pipeline_onto(const worker::Worker& w, std::chrono::steady_clock::time_point now) const;
  WorkerPtr pipeline_now(const std::string& frame, worker::Turn& turn);
  void offer_pipeline_place(const WorkerPtr& w);
  void queue_turn(const WorkerPtr& w, worker::Turn& turn);
  asio::awaitable<void> watch_pipelines();
  void take_back_queued(const WorkerPtr& w, std::string_view reason);
  void fail_turns(const WorkerPtr& w);
  asio::awaitable<std::error_code> read_reply(const WorkerPtr& w, ExecResult& r);
  void release(const WorkerPtr& w, Outcome outcome, bool requested_stop = false);
  void make_available(const WorkerPtr& w);
  void retire(const WorkerPtr& w, worker::RetireReason reason);
  void kill_worker(const WorkerPtr& w, worker::RetireReason reason);
  void ensure_capacity();
  asio::awaitable<void> spawn_one(config::Duration delay);
  asio::awaitable<void> watch_exit(WorkerPtr w);
  asio::awaitable<void> stop_gracefully(WorkerPtr w);
  asio::awaitable<void> do_stop();
  asio::awaitable<bool> do_reset();
  void on_exited(const WorkerPtr& w);
  void remove_idle(const worker::Worker* w);
  void log_failure(const WorkerPtr& w, const char* what, const std::error_code& ec);
  std::uint64_t jittered_max_jobs();
  unsigned active_count() const;
  void notify_drain();
  asio::awaitable<void> wait_until(std::chrono::steady_clock::time_point deadline, bool (Pool::*done)() const);
  bool drained() const;
  bool all_exited() const;
  bool old_generation_gone() const;
  asio::awaitable<void> supervise();
  void supervise_tick();
  void retire_surplus_old();

  worker::Worker::Strand strand_;
  Options opts_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<spdlog::logger> worker_log_;
  std::vector<WorkerPtr> workers_;
  std::vector<WorkerPtr> idle_;            // LIFO: the hottest worker is reused first
  std::deque<Waiter*> waiters_;            // FIFO
  std::set<asio::steady_timer*> timers_;   // pending spawn delays, cancelled on stop
  std::set<asio::steady_timer*> state_waits_;  // stop/reset waits, cancelled on every release and exit
  unsigned pending_spawns_ = 0;
  std::uint64_t generation_ = 0;           // bumped by reset(); older workers are replaced
  bool resetting_ = false;                 // old-generation workers are still alive
  asio::steady_timer* supervisor_timer_ = nullptr;
  unsigned boot_failures_ = 0;
  std::size_t in_flight_ = 0;
  bool stopping_ = false;
  std::string stop_frame_;
  std::string stream_stop_frame_;          // byte10 STOP, no payload (protocol doc §1.5 e)
  std::string pong_frame_;                 // byte10 PONG, no payload
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // ReplyStream's weak check at teardown
  std::minstd_rand rng_;
  std::uint64_t pipelined_total_ = 0;      // executions written behind a busy worker's request
  std::uint64_t taken_back_total_ = 0;     // pipelined executions read back out of a slow worker's pipe
  bool warned_no_exact_reads_ = false;     // pipelining_unavailable logged once per pool
  asio::steady_timer* pipeline_watch_ = nullptr;  // the running watch_pipelines() tick, if any
};

}  // namespace pivot::pool
