#pragma once

#include <asio/awaitable.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/readable_pipe.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/io_context.hpp>
#include <asio/writable_pipe.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "protocol/frame.hpp"
#include "protocol/frame_decoder.hpp"
#include "server/worker/process.hpp"

namespace pivot::worker {

/// The worker state machine: Starting -> Idle <-> Busy -> Stopping -> Exited (any state may
/// reach Exited when the process dies).
enum class WorkerState { Starting, Idle, Busy, Stopping, Exited };

/// Why a worker is being replaced.
enum class RetireReason { None, MaxJobs, Ttl, IdleTtl, Memory, WorkerRequested, Reset, ExecTimeout, Crashed, ProtocolError, BootFailed, Shutdown };

/// Name of a state for logs and the informer ("ready", "working", ...).
std::string_view state_name(WorkerState s) noexcept;
/// RoadRunner's state number for the informer (protocol doc §2.9), refined by the retire reason.
std::int64_t state_number(WorkerState s, RetireReason r) noexcept;
/// RoadRunner's state name for the informer ("ready", "maxJobsReached", ...).
std::string_view state_name(WorkerState s, RetireReason r) noexcept;
/// Name of a retire reason for logs.
std::string_view reason_name(RetireReason r) noexcept;

/// One PHP worker process and its pipes. Every member is used only on the pool's strand.
class Worker {
 public:
  /// The pool's executor: a strand, or the io_context's own executor with one I/O thread.
  using Strand = asio::any_io_executor;
  using Clock = std::chrono::steady_clock;

  /// Takes ownership of the child's fds. `max_frame` bounds reply payloads.
  Worker(Strand strand, const ChildProcess& child, std::size_t max_frame, std::uint64_t max_jobs);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// The process id.
  pid_t pid() const noexcept { return pid_; }
  /// Current state.
  WorkerState state() const noexcept { return state_; }
  /// Moves to `next`; asserts that the transition is legal.
  void set_state(WorkerState next) noexcept;

  /// Writes `bytes` to the worker's stdin in one gather write.
  asio::awaitable<std::error_code> write(std::string_view bytes);
  /// Writes a whole frame of at most PIPE_BUF bytes now, without waiting, so it lands atomically
  /// behind what is already in the pipe; false (nothing written) when the pipe is full, a write
  /// is in progress or the frame is larger.
  bool try_write_now(std::string_view bytes) noexcept;
  /// Reads back, in one atomic read through a second reader (/proc/<pid>/fd/0), whatever the
  /// worker has not read yet from its stdin pipe into `out`; false when that pipe cannot be
  /// opened so (nothing read). Pipelining only: the caller knows what it wrote.
  bool take_back_unread(std::string& out);
  /// Writes `bytes` into stdin now without waiting; true only when all of them were written.
  bool put_back(std::string_view bytes) noexcept;
  /// True while write() is in progress.
  bool writing() const noexcept { return writing_; }
  /// Reads one whole frame from stdout into `out` (CRC verified).
  asio::awaitable<std::error_code> read_frame(protocol::Frame& out);
  /// Reads stderr until EOF, calling `on_line` for each line (lines over 8 KiB are split).
  template <class OnLine>
  asio::awaitable<void> pump_stderr(OnLine on_line);
  /// Waits until the process exits (pidfd readable), then reaps it; returns the wait status.
  asio::awaitable<int> wait_exit();

  /// SIGKILLs the process group.
  void kill() noexcept;
  /// Hex dump of the first bytes of the last frame read (for protocol error reports).
  std::string first_bytes_hex() const;
  /// The last stderr lines, oldest first, joined with " | ".
  std::string stderr_tail() const;
  /// Remembers a stderr line for crash reports.
  void remember_stderr(std::string line);

  std::uint64_t num_execs = 0;        ///< completed executions
  std::uint64_t max_jobs = 0;         ///< this worker's limit after jitter (0 = unlimited)
  Clock::time_point created;          ///< spawn time
  Clock::time_point last_used;        ///< last release time
  std::int64_t created_unix_ns = 0;   ///< spawn time, wall clock, for the informer
  bool exited = false;                ///< the process has been reaped
  int wait_status = 0;                ///< waitpid status once exited
  RetireReason retire_reason = RetireReason::None;  ///< why it is stopping
  RetireReason pending_retire = RetireReason::None; ///< retire at release (limit hit while busy)
  std::uint64_t generation = 0;                     ///< pool generation it was spawned in (reset bumps it)
  asio::steady_timer* exit_signal = nullptr;        ///< a wait to cancel when the process is reaped
  /// Pipelined executions: requests already written behind the current one, waiting for their
  /// turn to read a reply, oldest first (the pool grants or fails each).
  std::deque<struct Turn*> turns;
  bool streaming = false;                           ///< the current reply is a stream
  /// The worker declared `"exact_reads":true` in its handshake: it never reads stdin past the
  /// frame it is about to handle, so requests queued behind its current one stay in the pipe
  /// (and can be taken back). Only such workers get pipelined requests.
  bool exact_reads = false;
  std::size_t current_bytes = 0;                    ///< size of the current request's frame
  Clock::time_point busy_since;                     ///< when the current execution started
  std::chrono::microseconds avg_exec{-1};           ///< moving average of execution times (-1 = none yet)

 private:
  pid_t pid_;
  WorkerState state_ = WorkerState::Starting;
  asio::writable_pipe stdin_;
  asio::readable_pipe stdout_;
  asio::readable_pipe stderr_;
  asio::posix::stream_descriptor pidfd_;
  protocol::FrameDecoder decoder_;
  std::vector<char> rbuf_;
  std::size_t rbuf_pos_ = 0;
  std::size_t rbuf_end_ = 0;
  std::string first_bytes_;
  std::deque<std::string> stderr_tail_;
  bool writing_ = false;
};

/// A pipelined execution's place in a worker's queue: woken (timer cancelled) when its request
/// is the worker's current one (`granted`), or when the worker failed before reaching it.
struct Turn {
  /// A turn whose wake-up runs on `ex`.
  explicit Turn(const Worker::Strand& ex) : timer(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer timer;  ///< cancelled to wake the waiting execution
  bool granted = false;      ///< true: read the reply now; false after the wake: never started
  bool woken = false;        ///< granted or failed (the timer may not be waited on yet)
  bool queued = false;       ///< its request was written behind another one (set once, by the pool)
  bool taken_back = false;   ///< not granted because it was read back out of the pipe (worker too slow)
  std::size_t bytes = 0;     ///< size of its request frame in the pipe
};

}  // namespace pivot::worker

#include "server/worker/worker_impl.hpp"
