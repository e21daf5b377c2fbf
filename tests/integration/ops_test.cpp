// Running it like a service and developing on it: systemd's notify protocol, hot reload,
// `config check`, `include:` and RoadRunner configs with keys we do not support.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <deque>
#include <set>
#include <cstring>
#include <fstream>
#include <thread>

#include "tests/integration/config_template.hpp"
#include "tests/integration/harness.hpp"

using namespace pivot::test;
using Catch::Matchers::Contains;
using namespace std::chrono_literals;

namespace {

std::string make_temp_dir() {
  char tmpl[] = "/tmp/pivot-ops-XXXXXX";
  return ::mkdtemp(tmpl);
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::trunc) << text; }

std::string bin() { return PIVOT_BINARY; }

int count_of_lines(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

/// A fake systemd: a datagram socket that collects sd_notify messages.
class FakeNotifySocket {
 public:
  FakeNotifySocket() : path_(make_temp_dir() + "/notify.sock") {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~FakeNotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  /// Waits for a message containing `needle`; every message read is kept in `all`.
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      for (const auto& m : all) {
        if (m.find(needle) != std::string::npos && seen_.insert(&m).second) return true;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) all.emplace_back(buf, static_cast<std::size_t>(n));
    }
  }
  std::deque<std::string> all;

 private:
  std::string path_;
  int fd_ = -1;
  std::set<const std::string*> seen_;
};

}  // namespace

TEST_CASE("systemd notify: READY, WATCHDOG, RELOADING/READY around a reset, STOPPING", "[integration][ops]") {
  FakeNotifySocket sd;
  ::setenv("NOTIFY_SOCKET", sd.path().c_str(), 1);
  ::setenv("WATCHDOG_USEC", "200000", 1);
  ServerProcess s(config_yaml(2, "", "app.php"));
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  REQUIRE(sd.wait_for("READY=1", 10s));
  CHECK_THAT(sd.all.front(), Contains("STATUS=serving with 2 of 2 workers"));
  CHECK(sd.wait_for("WATCHDOG=1", 2s));
  CHECK(sd.wait_for("WATCHDOG=1", 2s));  // repeated at half the interval
  ::kill(s.pid(), SIGHUP);
  CHECK(sd.wait_for("RELOADING=1", 5s));
  CHECK(sd.wait_for("READY=1", 10s));
  // Workers do not inherit the server's notify socket.
  CHECK(request(s.port(), "GET", "/env").status == 200);
  CHECK(s.stop(SIGTERM, 15s) == 0);
  CHECK(sd.wait_for("STOPPING=1", 2s));
}

TEST_CASE("hot reload: editing a watched PHP file resets the pool and the new code answers", "[integration][ops]") {
  const std::string app = make_temp_dir();
  const auto worker = [&](const std::string& version) {
    return "<?php\ndeclare(strict_types=1);\nrequire '" + source_dir() +
           "/php-worker/autoload.php';\n$http = new Pivot\\Worker\\Http\\HttpWorker(Pivot\\Worker\\Worker::create());\n"
           "while ($req = $http->waitRequest()) { $http->respond(200, '" + version + "'); }\n";
  };
  write_file(app + "/worker.php", worker("version one"));
  ::mkdir((app + "/vendor").c_str(), 0755);
  const std::string yaml = "version: \"3\"\nserver:\n  command: \"php " + app + "/worker.php\"\nhttp:\n  address: 127.0.0.1:{{PORT}}\n"
                           "  pool:\n    num_workers: 2\nreload:\n  interval: 200ms\n  patterns: [\".php\"]\n  plugins:\n    http:\n"
                           "      dirs: [\"" + app + "\"]\n      recursive: true\n      ignore: [\"vendor\"]\nlogs:\n  level: debug\n";
  ServerProcess s(yaml);
  CHECK(request(s.port(), "GET", "/").body == "version one");
  // Ignored directories and other extensions do not trigger a reset.
  write_file(app + "/vendor/lib.php", "<?php\n");
  write_file(app + "/notes.txt", "x");
  std::this_thread::sleep_for(600ms);
  CHECK_THAT(s.log(), !Contains("event=reload_triggered"));

  write_file(app + "/worker.php", worker("version two"));
  CHECK(s.wait_log("event=reload_triggered", 5s));
  bool updated = false;
  for (int i = 0; i < 100 && !updated; ++i) {
    updated = request(s.port(), "GET", "/").body == "version two";
    if (!updated) std::this_thread::sleep_for(50ms);
  }
  CHECK(updated);
  CHECK(s.wait_log("event=pool_reset_done", 10s));
  CHECK(count_of_lines(s.log(), "event=reload_triggered") == 1);  // one save, one reset (debounced)
  run_command("rm -rf '" + app + "'");
}

TEST_CASE("config check prints the effective config, or every error with its key path", "[integration][ops][config]") {
  const std::string dir = make_temp_dir();
  write_file(dir + "/base.yaml", "version: \"3\"\nserver:\n  command: \"php w.php\"\nhttp:\n  address: 127.0.0.1:8080\n"
                                 "  pool:\n    num_workers: 2\ninclude: [\"more.yaml\"]\n");
  write_file(dir + "/more.yaml", "http:\n  pool:\n    num_workers: 3\n    max_jobs: 7\n");
  int st = -1;
  const std::string out = run_command("PIVOT_TEST_X=9 " + bin() + " config check -c " + dir + "/base.yaml -o http.pool.max_jobs=8 2>&1", &st);
  CHECK(st == 0);
  CHECK_THAT(out, Contains("\"num_workers\": 3"));  // the included file overrides the main file
  CHECK_THAT(out, Contains("\"max_jobs\": 8"));     // -o overrides come last
  CHECK_THAT(out, Contains("is valid"));

  write_file(dir + "/bad.yaml", "version: \"3\"\nserver:\n  command: \"php w.php\"\n  comand: x\nhttp:\n  adress: 1\n"
                                "  pool:\n    num_workers: 1\nrpc:\n  listen: udp://x\nlogs:\n  level: loud\n");
  const std::string bad = run_command(bin() + " config check -c " + dir + "/bad.yaml 2>&1", &st);
  CHECK(st == 2);
  CHECK_THAT(bad, Contains("server.comand is unknown; did you mean server.command?"));
  CHECK_THAT(bad, Contains("http.adress is unknown; did you mean http.address?"));
  CHECK_THAT(bad, Contains("rpc.listen: \"udp://x\" must be tcp://host:port"));
  CHECK_THAT(bad, Contains("logs.level: \"loud\" is not allowed"));

  write_file(dir + "/missing.yaml", "version: \"3\"\ninclude: nothere.yaml\n");
  CHECK_THAT(run_command(bin() + " config check -c " + dir + "/missing.yaml 2>&1"), Contains("nothere.yaml cannot be read"));
  run_command("rm -rf '" + dir + "'");
}

TEST_CASE("a RoadRunner .rr.yaml with keys we do not support starts with one warning per key", "[integration][ops][config]") {
  const std::string rr =
      "version: \"3\"\n"
      "rpc:\n  listen: tcp://127.0.0.1:{{RPC}}\n"
      "server:\n  command: \"php {{WORKERS}}/app.php\"\n  relay: pipes\n  on_init:\n    command: \"php init.php\"\n"
      "http:\n  address: 127.0.0.1:{{PORT}}\n  middleware: [\"headers\"]\n  pool:\n    num_workers: 1\n"
      "    supervisor:\n      max_worker_memory: 256\n"
      "temporal:\n  address: 127.0.0.1:7233\n"
      "logs:\n  mode: development\n  channels:\n    http:\n      level: info\n";
  std::string yaml = rr;
  yaml.replace(yaml.find("{{RPC}}"), 7, std::to_string(free_port()));
  ServerProcess s(yaml);
  CHECK(request(s.port(), "GET", "/pid").status == 200);
  const std::string log = s.log();
  CHECK_THAT(log, Contains("server.on_init is not supported yet"));
  CHECK_THAT(log, Contains("http.middleware[0]: middleware \"headers\" is not supported yet"));
  CHECK_THAT(log, Contains("temporal is not supported yet"));
  CHECK_THAT(log, Contains("logs.channels is not supported yet"));
}
