#include "tests/integration/rabbitmq_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/integration/harness.hpp"

extern char** environ;

namespace pivot::test {
namespace {

// Debian's scripts; /usr/sbin/rabbitmq-* would `su rabbitmq` when run as root.
constexpr const char* kServer = "/usr/lib/rabbitmq/bin/rabbitmq-server";
constexpr const char* kCtl = "/usr/lib/rabbitmq/bin/rabbitmqctl";

bool port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

RabbitMqProcess::RabbitMqProcess() {
  if (::access(kServer, X_OK) != 0) {
    throw std::runtime_error(std::string(kServer) + " is missing: scripts/setup.sh installs rabbitmq-server");
  }
  char tmpl[] = "/tmp/pivot-rabbitmq-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  std::set<int> ports;
  while (ports.size() < 3) ports.insert(free_port());
  auto it = ports.begin();
  port_ = *it++;
  dist_port_ = *it++;
  epmd_port_ = *it;
  node_ = "pivot-test-" + std::to_string(::getpid()) + "-" + std::to_string(port_) + "@localhost";
  write_file(dir_ + "/rabbitmq.conf",
             "listeners.tcp.default = 127.0.0.1:" + std::to_string(port_) +
                 "\n"
                 "loopback_users.guest = true\n"
                 "disk_free_limit.absolute = 10MB\n"
                 "log.file.level = info\n");
  write_file(dir_ + "/enabled_plugins", "[].\n");
  const std::string cookie = dir_ + "/.erlang.cookie";
  write_file(cookie, "PIVOTTEST" + std::to_string(::getpid()) + "X" + std::to_string(port_));
  ::chmod(cookie.c_str(), 0400);
  start();
}

RabbitMqProcess::~RabbitMqProcess() {
  if (running()) stop();
  run_command(env_prefix() + " epmd -kill >/dev/null 2>&1");
  run_command("rm -rf '" + dir_ + "'");
}

RabbitMqProcess& RabbitMqProcess::shared() {
  static RabbitMqProcess broker;
  return broker;
}

std::string RabbitMqProcess::env_prefix() const {
  return "HOME='" + dir_ + "' ERL_EPMD_PORT=" + std::to_string(epmd_port_);
}

void RabbitMqProcess::start() {
  if (running()) throw std::runtime_error("rabbitmq-server is already running");
  // Everything the broker reads comes from our temp dir; nothing from /etc/rabbitmq or /var/lib.
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    if (kv.rfind("RABBITMQ_", 0) == 0 || kv.rfind("ERL_", 0) == 0 || kv.rfind("HOME=", 0) == 0) continue;
    env.push_back(kv);
  }
  const std::vector<std::string> own = {
      "HOME=" + dir_,
      "RABBITMQ_NODENAME=" + node_,
      "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
      "RABBITMQ_NODE_PORT=" + std::to_string(port_),
      "RABBITMQ_DIST_PORT=" + std::to_string(dist_port_),
      "ERL_EPMD_PORT=" + std::to_string(epmd_port_),
      "ERL_EPMD_ADDRESS=127.0.0.1",
      "RABBITMQ_MNESIA_BASE=" + dir_ + "/mnesia",
      "RABBITMQ_LOG_BASE=" + dir_ + "/log",
      "RABBITMQ_CONFIG_FILE=" + dir_ + "/rabbitmq.conf",
      "RABBITMQ_ADVANCED_CONFIG_FILE=" + dir_ + "/advanced.config",
      "RABBITMQ_CONF_ENV_FILE=" + dir_ + "/rabbitmq-env.conf",
      "RABBITMQ_ENABLED_PLUGINS_FILE=" + dir_ + "/enabled_plugins",
      "RABBITMQ_PID_FILE=" + dir_ + "/rabbitmq.pid",
  };
  env.insert(env.end(), own.begin(), own.end());
  std::vector<char*> envp;
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  const std::string out_path = dir_ + "/console.log";

  const auto started = std::chrono::steady_clock::now();
  pid_ = ::fork();
  if (pid_ == 0) {
    // The wrapper script traps SIGTERM and shuts the VM down cleanly: if the test binary dies,
    // the broker follows. Its own process group lets kill() take the VM down with it.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    ::setpgid(0, 0);
    const int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    if (::chdir(dir_.c_str()) != 0) ::_exit(126);
    ::execle(kServer, kServer, static_cast<char*>(nullptr), envp.data());
    const char msg[] = "exec rabbitmq-server failed: scripts/setup.sh installs rabbitmq-server\n";
    [[maybe_unused]] const auto n = ::write(2, msg, sizeof msg - 1);
    ::_exit(127);
  }
  ::setpgid(pid_, pid_);  // also from the parent, so kill() works even before the child ran
  wait_ready();
  last_start_ = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
}

void RabbitMqProcess::wait_ready() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  auto check_alive = [&] {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("rabbitmq-server exited during startup:\n" + log());
    }
  };
  while (!port_open(port_)) {
    check_alive();
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("rabbitmq-server did not open port " + std::to_string(port_) + ":\n" + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // The listener opens late in the boot; await_startup confirms the node finished booting.
  int status = 0;
  const std::string out = ctl("await_startup --timeout 60", &status);
  if (status != 0) {
    check_alive();
    throw std::runtime_error("rabbitmqctl await_startup failed:\n" + out + "\n" + log());
  }
}

void RabbitMqProcess::wait_exit() {
  int st = 0;
  ::waitpid(pid_, &st, 0);
  ::kill(-pid_, SIGKILL);  // anything of the group still around (the VM when the wrapper was killed)
  pid_ = -1;
}

void RabbitMqProcess::stop() {
  if (!running()) return;
  ::kill(pid_, SIGTERM);
  wait_exit();
}

void RabbitMqProcess::kill() {
  if (!running()) return;
  ::kill(-pid_, SIGKILL);
  wait_exit();
  // The VM is gone; wait until the port is really free before anyone restarts it.
  for (int i = 0; i < 100 && port_open(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

void RabbitMqProcess::restart() {
  stop();
  start();
}

std::string RabbitMqProcess::ctl(const std::string& args, int* status) const {
  return run_command(env_prefix() + " " + kCtl + " -n " + node_ + " " + args + " 2>&1", status);
}

long RabbitMqProcess::queue_messages(const std::string& queue) const {
  int status = 0;
  const std::string out = ctl("list_queues -q --no-table-headers name messages", &status);
  std::istringstream in(out);
  std::string name;
  long count = 0;
  while (in >> name >> count) {
    if (name == queue) return count;
  }
  return -1;
}

void RabbitMqProcess::delete_queue(const std::string& queue) const { ctl("delete_queue '" + queue + "'"); }

std::string RabbitMqProcess::log() const {
  std::string out = read_file(dir_ + "/console.log");
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_ + "/log", ec)) {
    std::string text = read_file(e.path().string());
    if (text.size() > 4000) text = "..." + text.substr(text.size() - 4000);
    out += "\n--- " + e.path().filename().string() + "\n" + text;
  }
  return out;
}

}  // namespace pivot::test
