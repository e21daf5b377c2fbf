#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

namespace pivot::test {

/// A private RabbitMQ broker (Debian's rabbitmq-server) for one test binary, independent of any
/// system service: its own node name, AMQP port, distribution port and epmd port (all free ports on
/// 127.0.0.1), its data, logs, config and Erlang cookie (mode 0400) in a fresh temp directory, no
/// plugins. Started in the constructor, stopped (and its epmd ended) in the destructor; the broker
/// gets SIGTERM when the test binary dies (PDEATHSIG on the wrapper script, which stops the VM).
/// Starting takes seconds, so a test binary shares one through `shared()`. Throws
/// std::runtime_error when it cannot be started.
class RabbitMqProcess {
 public:
  /// Starts on free ports and waits until the AMQP port accepts connections and
  /// `rabbitmqctl await_startup` passes.
  RabbitMqProcess();
  ~RabbitMqProcess();
  RabbitMqProcess(const RabbitMqProcess&) = delete;
  RabbitMqProcess& operator=(const RabbitMqProcess&) = delete;

  /// The process-wide broker, started on first use and stopped at exit.
  static RabbitMqProcess& shared();

  /// The AMQP port (kept across restarts).
  int port() const { return port_; }
  /// "amqp://guest:guest@127.0.0.1:<port>/".
  std::string url() const { return "amqp://guest:guest@127.0.0.1:" + std::to_string(port_) + "/"; }
  /// True while the broker runs.
  bool running() const { return pid_ > 0; }
  /// How long the last start took (spawn to await_startup passing).
  std::chrono::milliseconds last_start_time() const { return last_start_; }

  /// Starts it again on the same ports and data directory (after stop() or kill()): durable
  /// queues and persistent messages survive.
  void start();
  /// Graceful stop (SIGTERM to the wrapper, which runs the broker's shutdown) and wait.
  void stop();
  /// SIGKILL to the whole broker, as a crash: connections are cut without a goodbye.
  void kill();
  /// stop() then start().
  void restart();

  /// Runs `rabbitmqctl -n <node> <args>` against this broker; returns its stdout (stderr merged).
  std::string ctl(const std::string& args, int* status = nullptr) const;
  /// Ready messages in `queue` (`rabbitmqctl list_queues`), -1 when the queue does not exist.
  long queue_messages(const std::string& queue) const;
  /// Deletes `queue` (ignored when missing).
  void delete_queue(const std::string& queue) const;
  /// The broker's log files and console output, for failure messages.
  std::string log() const;

 private:
  void wait_ready();
  void wait_exit();
  std::string env_prefix() const;

  std::string dir_;
  std::string node_;
  int port_ = 0;
  int dist_port_ = 0;
  int epmd_port_ = 0;
  pid_t pid_ = -1;
  std::chrono::milliseconds last_start_{0};
};

}  // namespace pivot::test
