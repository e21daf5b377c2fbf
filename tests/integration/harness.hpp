#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace pivot::test {

/// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
int free_port();
/// The directory holding the PHP fixture workers.
std::string workers_dir();
/// The repository root.
std::string source_dir();

/// Runs the real pivot-server binary with a config written to a fresh temp directory.
/// `{{PORT}}` and `{{WORKERS}}` in the YAML are replaced with the port and workers_dir().
class ServerProcess {
 public:
  explicit ServerProcess(const std::string& yaml, bool wait_ready = true);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  /// The HTTP port.
  int port() const { return port_; }
  /// The server's pid.
  pid_t pid() const { return pid_; }
  /// Everything the server logged so far.
  std::string log() const;
  /// Waits until the log contains `needle` `count` times.
  bool wait_log(const std::string& needle, std::chrono::milliseconds timeout, int count = 1) const;
  /// Sends `sig` and waits for exit; returns the exit code (or 128+signal), -1 on timeout.
  int stop(int sig, std::chrono::milliseconds timeout);
  /// Direct children of the server (its PHP workers).
  std::vector<pid_t> children() const;

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool exited_ = false;
};

/// One HTTP response as read from the wire.
struct Response {
  int status = 0;                                           ///< status code, 0 on failure
  std::map<std::string, std::vector<std::string>> headers;  ///< names lower-cased
  std::string body;                                         ///< body bytes
  /// First value of a header or "".
  std::string header(const std::string& lower_name) const;
};

/// A TCP connection to 127.0.0.1:`port` with TCP_NODELAY, or -1 when nothing listens there.
int connect_to(int port);
/// Writes all of `bytes` to `fd`; throws std::runtime_error when the peer is gone.
void send_all(int fd, const std::string& bytes);
/// Waits up to `timeout` for bytes on `fd` and appends what one recv() gives to `buf`; false
/// on timeout, EOF or error.
bool recv_append(int fd, std::string& buf, std::chrono::milliseconds timeout);

/// A raw client connection for keep-alive, pipelining and malformed-request tests.
class Connection {
 public:
  explicit Connection(int port);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Writes all bytes.
  void send(const std::string& bytes);
  /// Reads one response (Content-Length framed; `head` means no body follows).
  Response read_response(bool head = false);
  /// True when the server closed the connection (EOF) within the timeout.
  bool closed_by_peer(std::chrono::milliseconds timeout);

 private:
  bool fill(std::chrono::milliseconds timeout);
  int fd_ = -1;
  std::string buf_;
};

/// GET/POST helper over a fresh connection.
Response request(int port, const std::string& method, const std::string& target, const std::string& body = "",
                 const std::vector<std::string>& headers = {});

/// Runs a shell command and returns its stdout; `status` gets the exit status.
std::string run_command(const std::string& cmd, int* status = nullptr);

}  // namespace pivot::test
