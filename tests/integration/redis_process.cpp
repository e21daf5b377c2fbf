#include "tests/integration/redis_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/integration/harness.hpp"

namespace pivot::test {
namespace {

/// True when `buf` holds one complete simple reply (+ - : $); arrays are never "complete".
bool complete(const std::string& buf) {
  const auto eol = buf.find("\r\n");
  if (eol == std::string::npos || buf.empty()) return false;
  if (buf[0] != '$') return buf[0] != '*';
  const long len = std::stol(buf.substr(1, eol - 1));
  return len < 0 || buf.size() >= eol + 2 + static_cast<std::size_t>(len) + 2;
}

}  // namespace

RedisProcess::RedisProcess(int port) : port_(port == 0 ? free_port() : port) {
  char tmpl[] = "/tmp/pivot-redis-XXXXXX";
  dir_ = ::mkdtemp(tmpl);
  start();
}

RedisProcess::~RedisProcess() {
  if (running()) stop();
  run_command("rm -rf '" + dir_ + "'");
}

void RedisProcess::start() {
  if (running()) throw std::runtime_error("redis-server is already running");
  const std::string port = std::to_string(port_);
  const std::string log_path = dir_ + "/redis.log";
  pid_ = ::fork();
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test binary
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "", "--appendonly",
             "no", "--daemonize", "no", "--dir", dir_.c_str(), static_cast<char*>(nullptr));
    const char msg[] = "exec redis-server failed: is it installed? (scripts/setup.sh installs redis-server)\n";
    [[maybe_unused]] const auto n = ::write(2, msg, sizeof msg - 1);
    ::_exit(127);
  }
  wait_ready();
}

void RedisProcess::wait_ready() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("redis-server exited during startup:\n" + log());
    }
    if (command({"PING"}) == "+PONG\r\n") return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("redis-server did not answer PING on port " + std::to_string(port_) + ":\n" + log());
}

void RedisProcess::wait_exit(int sig) {
  if (!running()) return;
  ::kill(pid_, sig);
  int st = 0;
  ::waitpid(pid_, &st, 0);
  pid_ = -1;
}

void RedisProcess::kill() { wait_exit(SIGKILL); }

void RedisProcess::stop() { wait_exit(SIGTERM); }

std::string RedisProcess::command(const std::vector<std::string>& args) const {
  const int fd = connect_to(port_);
  if (fd < 0) return {};
  std::string req = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) req += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  std::string out;
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!complete(out) && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

std::string RedisProcess::log() const {
  std::ifstream in(dir_ + "/redis.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace pivot::test
