#pragma once

#include <sys/types.h>

#include <string>
#include <system_error>
#include <vector>

namespace pivot::worker {

/// File descriptors and ids of a freshly started worker process. Plain data; the caller owns the fds.
struct ChildProcess {
  pid_t pid = -1;       ///< process id (also its process group id)
  int stdin_fd = -1;    ///< write end of the child's stdin
  int stdout_fd = -1;   ///< read end of the child's stdout (the frame channel)
  int stderr_fd = -1;   ///< read end of the child's stderr (log lines)
  int pidfd = -1;       ///< pidfd_open() of the child, readable when it exits
};

/// Starts `argv` with environment `env` ("KEY=value" strings), without a shell, in its own
/// process group, with pipes on fds 0/1/2, every other fd closed, default signal handling and
/// SIGKILL on parent death. Returns false and sets `ec` when the program cannot be executed
/// (the child's exec errno is reported back through a close-on-exec pipe). With `sched_batch`
/// a child that would run under SCHED_OTHER runs under SCHED_BATCH instead (best effort): it does
/// not preempt the server when a request wakes it. Control path.
bool spawn_process(const std::vector<std::string>& argv, const std::vector<std::string>& env, ChildProcess& out,
                   std::error_code& ec, bool sched_batch = false);

/// Finds `name` in `path` (colon-separated) the way execvp does; names containing '/' are returned as-is.
std::string resolve_executable(const std::string& name, const std::string& path);

/// Sends `sig` to the whole process group of `pid`.
void signal_group(pid_t pid, int sig) noexcept;

}  // namespace pivot::worker
