#include "server/worker/worker.hpp"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/write.hpp>
#include <cassert>
#include <cerrno>

namespace pivot::worker {
namespace {

constexpr std::size_t kReadBuffer = 64 * 1024;
constexpr std::size_t kFirstBytes = 64;
constexpr std::size_t kStderrTail = 10;

}  // namespace

std::string_view state_name(WorkerState s) noexcept {
  switch (s) {
    case WorkerState::Starting: return "inactive";
    case WorkerState::Idle: return "ready";
    case WorkerState::Busy: return "working";
    case WorkerState::Stopping: return "stopping";
    case WorkerState::Exited: return "stopped";
  }
  return "invalid";
}

std::int64_t state_number(WorkerState s, RetireReason r) noexcept {
  switch (s) {
    case WorkerState::Starting: return 0;
    case WorkerState::Idle: return 1;
    case WorkerState::Busy: return r == RetireReason::None ? 2 : 3;  // marked for retirement at release: invalid
    case WorkerState::Exited: return 5;
    case WorkerState::Stopping: break;
  }
  switch (r) {
    case RetireReason::MaxJobs: return 7;
    case RetireReason::Crashed:
    case RetireReason::ProtocolError:
    case RetireReason::BootFailed: return 8;
    case RetireReason::IdleTtl: return 9;
    case RetireReason::Ttl: return 10;
    case RetireReason::Memory: return 11;
    case RetireReason::ExecTimeout: return 12;
    default: return 4;
  }
}

std::string_view state_name(WorkerState s, RetireReason r) noexcept {
  static constexpr std::string_view kNames[] = {"inactive", "ready",   "working",        "invalid",        "stopping",
                                                "stopped",  "destroyed", "maxJobsReached", "errored",        "idleTTLReached",
                                                "ttlReached", "maxMemoryReached", "execTTLReached"};
  return kNames[state_number(s, r)];
}

std::string_view reason_name(RetireReason r) noexcept {
  switch (r) {
    case RetireReason::None: return "none";
    case RetireReason::MaxJobs: return "max_jobs";
    case RetireReason::Ttl: return "ttl";
    case RetireReason::IdleTtl: return "idle_ttl";
    case RetireReason::Memory: return "max_worker_memory";
    case RetireReason::WorkerRequested: return "worker_requested";
    case RetireReason::Reset: return "reset";
    case RetireReason::ExecTimeout: return "exec_ttl";
    case RetireReason::Crashed: return "crashed";
    case RetireReason::ProtocolError: return "protocol_error";
    case RetireReason::BootFailed: return "boot_failed";
    case RetireReason::Shutdown: return "shutdown";
  }
  return "unknown";
}

Worker::Worker(Strand strand, const ChildProcess& child, std::size_t max_frame, std::uint64_t jobs_limit)
    : max_jobs(jobs_limit),
      created(Clock::now()),
      last_used(created),
      created_unix_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count()),
      pid_(child.pid),
      stdin_(strand, child.stdin_fd),
      stdout_(strand, child.stdout_fd),
      stderr_(strand, child.stderr_fd),
      pidfd_(strand, child.pidfd),
      decoder_(max_frame),
      rbuf_(kReadBuffer) {
  // try_write_now() relies on EAGAIN instead of blocking (asio sets the same flag on its first
  // asynchronous write).
  if (const int fl = ::fcntl(child.stdin_fd, F_GETFL); fl >= 0) ::fcntl(child.stdin_fd, F_SETFL, fl | O_NONBLOCK);
}

Worker::~Worker() {
  if (!exited) {
    kill();
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
}

void Worker::set_state(WorkerState next) noexcept {
  [[maybe_unused]] bool legal = false;
  switch (state_) {
    case WorkerState::Starting: legal = next == WorkerState::Idle || next == WorkerState::Stopping || next == WorkerState::Exited; break;
    case WorkerState::Idle: legal = next == WorkerState::Busy || next == WorkerState::Stopping || next == WorkerState::Exited; break;
    case WorkerState::Busy: legal = next == WorkerState::Idle || next == WorkerState::Stopping || next == WorkerState::Exited; break;
    case WorkerState::Stopping: legal = next == WorkerState::Exited; break;
    case WorkerState::Exited: legal = false; break;
  }
  assert(legal && "illegal worker state transition");
  state_ = next;
}

asio::awaitable<std::error_code> Worker::write(std::string_view bytes) {
  writing_ = true;
  auto [ec, n] = co_await asio::async_write(stdin_, asio::buffer(bytes.data(), bytes.size()),
                                            asio::experimental::as_tuple(asio::use_awaitable));
  writing_ = false;
  (void)n;
  co_return ec;
}

bool Worker::try_write_now(std::string_view bytes) noexcept {
  if (writing_ || bytes.size() > PIPE_BUF) return false;
  // stdin is non-blocking (constructor), so a full pipe answers EAGAIN; a write of at most
  // PIPE_BUF bytes to a pipe is all or nothing (POSIX), so a frame is never split.
  return put_back(bytes);
}

bool Worker::put_back(std::string_view bytes) noexcept {
  const int fd = stdin_.native_handle();
  ssize_t n;
  do {
    n = ::write(fd, bytes.data(), bytes.size());
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(bytes.size());
}

bool Worker::take_back_unread(std::string& out) {
  out.clear();
  if (exited || writing_) return false;
  // A second open of the worker's end is a new open file description: O_NONBLOCK there does not
  // touch the worker's own (blocking) stdin. Opened only for this read, so the server never
  // counts as a reader of a dead worker's stdin (writes to it keep failing with EPIPE).
  const std::string path = "/proc/" + std::to_string(pid_) + "/fd/0";
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  const int wfd = stdin_.native_handle();
  struct stat mine {}, theirs {};
  if (::fstat(fd, &theirs) != 0 || ::fstat(wfd, &mine) != 0 || theirs.st_ino != mine.st_ino || theirs.st_dev != mine.st_dev) {
    ::close(fd);  // the worker replaced its fd 0: not our pipe
    return false;
  }
  // One read of the pipe's whole capacity takes everything unread under the pipe's lock, so what
  // comes back is exactly the tail of what was written; the worker's own reads get the rest.
  const int cap = ::fcntl(wfd, F_GETPIPE_SZ);
  out.resize(cap > 0 ? static_cast<std::size_t>(cap) : std::size_t{1} << 20);
  ssize_t n;
  do {
    n = ::read(fd, out.data(), out.size());
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  if (n < 0 && errno != EAGAIN) {
    out.clear();
    return false;
  }
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return true;
}

asio::awaitable<std::error_code> Worker::read_frame(protocol::Frame& out) {
  decoder_.reset();
  first_bytes_.clear();
  for (;;) {
    if (rbuf_pos_ < rbuf_end_) {
      const std::string_view chunk(rbuf_.data() + rbuf_pos_, rbuf_end_ - rbuf_pos_);
      if (first_bytes_.size() < kFirstBytes) first_bytes_.append(chunk.substr(0, kFirstBytes - first_bytes_.size()));
      std::error_code ec;
      rbuf_pos_ += decoder_.feed(chunk, ec);
      if (ec) co_return ec;
      if (decoder_.done()) {
        out = std::move(decoder_.frame());
        co_return std::error_code{};
      }
    }
    auto [ec, n] = co_await stdout_.async_read_some(asio::buffer(rbuf_), asio::experimental::as_tuple(asio::use_awaitable));
    if (ec) co_return ec;
    rbuf_pos_ = 0;
    rbuf_end_ = n;
  }
}

asio::awaitable<int> Worker::wait_exit() {
  for (;;) {
    auto [ec] = co_await pidfd_.async_wait(asio::posix::descriptor_base::wait_read, asio::experimental::as_tuple(asio::use_awaitable));
    int st = 0;
    pid_t r;
    // Never a blocking waitpid: asio's async_wait can complete without the pidfd being readable
    // (epoll events of a just-closed descriptor delivered to the reused reactor state of a new
    // one; seen when workers are replaced in bursts), and a blocking wait would freeze the loop.
    do {
      r = ::waitpid(pid_, &st, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid_) {
      exited = true;
      wait_status = st;
      co_return st;
    }
    if (ec || r < 0) co_return -1;  // cancelled at shutdown (only what had exited is reaped), or not our child
    // Still running: the wake-up was spurious; wait again.
  }
}

void Worker::kill() noexcept {
  if (!exited) signal_group(pid_, SIGKILL);
}

std::string Worker::first_bytes_hex() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : first_bytes_) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

std::string Worker::stderr_tail() const {
  std::string out;
  for (const auto& l : stderr_tail_) {
    if (!out.empty()) out += " | ";
    out += l;
  }
  return out;
}

void Worker::remember_stderr(std::string line) {
  if (stderr_tail_.size() == kStderrTail) stderr_tail_.pop_front();
  stderr_tail_.push_back(std::move(line));
}

}  // namespace pivot::worker
