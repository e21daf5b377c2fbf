#include "server/worker/process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace pivot::worker {
namespace {

struct Pipe {
  int fds[2] = {-1, -1};
  ~Pipe() {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  bool open() { return ::pipe2(fds, O_CLOEXEC) == 0; }
  int release(int i) {
    const int fd = fds[i];
    fds[i] = -1;
    return fd;
  }
};

[[noreturn]] void child_fail(int status_fd, int err) {
  ssize_t r = ::write(status_fd, &err, sizeof err);
  (void)r;
  ::_exit(127);
}

}  // namespace

std::string resolve_executable(const std::string& name, const std::string& path) {
  if (name.find('/') != std::string::npos) return name;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return name;
}

void signal_group(pid_t pid, int sig) noexcept {
  if (pid > 0) {
    ::kill(-pid, sig);
    ::kill(pid, sig);
  }
}

bool spawn_process(const std::vector<std::string>& argv, const std::vector<std::string>& env, ChildProcess& out,
                   std::error_code& ec, bool sched_batch) {
  if (argv.empty()) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return false;
  }
  Pipe in, outp, err, status;
  if (!in.open() || !outp.open() || !err.open() || !status.open()) {
    ec = std::error_code(errno, std::generic_category());
    return false;
  }
  // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
  const char* path_env = std::getenv("PATH");
  const std::string exe = resolve_executable(argv[0], path_env ? path_env : "/usr/local/bin:/usr/bin:/bin");
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) {
    ec = std::error_code(errno, std::generic_category());
    return false;
  }
  if (pid == 0) {
    const int sfd = status.fds[1];
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    // Signals ignored by the server (SIGPIPE) would stay ignored across exec: restore defaults.
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; ++s) ::sigaction(s, &sa, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (sched_batch && ::sched_getscheduler(0) == SCHED_OTHER) {
      // A deliberate policy of the server's (realtime, idle) is inherited unchanged.
      struct sched_param sp {};
      ::sched_setscheduler(0, SCHED_BATCH, &sp);
    }
    if (::dup2(in.fds[0], 0) < 0 || ::dup2(outp.fds[1], 1) < 0 || ::dup2(err.fds[1], 2) < 0) child_fail(sfd, errno);
    // Close every other descriptor (client sockets, other workers' pipes) except the status pipe,
    // which is close-on-exec and reports exec failures.
    for (int fd = 3; fd < sfd; ++fd) ::close(fd);
    ::syscall(SYS_close_range, sfd + 1, ~0U, 0);
    ::execve(exe.c_str(), cargv.data(), cenv.data());
    child_fail(sfd, errno);
  }

  ::close(status.release(1));
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(status.fds[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    int st = 0;
    ::waitpid(pid, &st, 0);
    ec = std::error_code(child_errno, std::generic_category());
    return false;
  }
  out.pid = pid;
  out.stdin_fd = in.release(1);
  out.stdout_fd = outp.release(0);
  out.stderr_fd = err.release(0);
  out.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (out.pidfd < 0) {
    ec = std::error_code(errno, std::generic_category());
    signal_group(pid, SIGKILL);
    int st = 0;
    ::waitpid(pid, &st, 0);
    ::close(out.stdin_fd);
    ::close(out.stdout_fd);
    ::close(out.stderr_fd);
    return false;
  }
  ::fcntl(out.pidfd, F_SETFD, FD_CLOEXEC);
  return true;
}

}  // namespace pivot::worker
