#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace pivot::test {

/// A real `redis-server --port P --save '' --appendonly no --daemonize no` on 127.0.0.1, as a child
/// process of the test (killed with the test via PDEATHSIG), its files in a fresh temp directory.
/// Stopped in the destructor. Throws std::runtime_error when it cannot be started.
class RedisProcess {
 public:
  /// Starts on `port` (0: a free one) and waits until it answers PING.
  explicit RedisProcess(int port = 0);
  ~RedisProcess();
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  /// The TCP port (kept across restarts).
  int port() const { return port_; }
  /// "127.0.0.1:<port>".
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  /// True while the process runs.
  bool running() const { return pid_ > 0; }
  /// Starts it again on the same port (after kill() or stop()); the data is gone.
  void start();
  /// SIGKILL, as a crash: connections are cut without a goodbye.
  void kill();
  /// SIGTERM and wait.
  void stop();
  /// Sends one command (RESP array) on a fresh connection and returns the raw reply
  /// (":1\r\n", "$1\r\nv\r\n", "-ERR …\r\n"); arrays are returned unparsed up to the timeout.
  std::string command(const std::vector<std::string>& args) const;
  /// What redis-server wrote (its log).
  std::string log() const;

 private:
  void wait_ready();
  void wait_exit(int sig);

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace pivot::test
