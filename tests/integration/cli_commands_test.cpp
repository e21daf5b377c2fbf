#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>

#include "tests/integration/config_template.hpp"
#include "tests/integration/harness.hpp"

using namespace pivot::test;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

std::string bin() { return PIVOT_BINARY; }

std::string rpc_addr(int port) { return "tcp://127.0.0.1:" + std::to_string(port); }

std::string with_rpc(int port) { return "rpc:\n  listen: " + rpc_addr(port) + "\n"; }

std::set<long> pids_of(const ServerProcess& s) {
  std::set<long> out;
  for (pid_t p : s.children()) out.insert(p);
  return out;
}

/// Runs a command and returns stdout and stderr separately.
std::pair<std::string, std::string> run_split(const std::string& cmd, int* status) {
  char tmpl[] = "/tmp/pivot-cli-err-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  ::close(fd);
  const std::string out = run_command(cmd + " 2>" + tmpl, status);
  std::ifstream in(tmpl);
  std::stringstream err;
  err << in.rdbuf();
  ::unlink(tmpl);
  return {out, err.str()};
}

}  // namespace

TEST_CASE("pivot-server workers --json lists the live pids", "[integration][rpc][cli]") {
  const int rpc_port = free_port();
  ServerProcess s(config_yaml(2, "", "app.php", with_rpc(rpc_port)));
  REQUIRE(s.wait_log("event=worker_ready", 10s, 2));
  int st = -1;
  const auto [out, err] = run_split(bin() + " workers --json --rpc " + rpc_addr(rpc_port), &st);
  CHECK(st == 0);
  CHECK(err.empty());
  const auto j = nlohmann::json::parse(out);  // one JSON document
  REQUIRE(j.size() == 1);
  REQUIRE(j.contains("http"));
  std::set<long> listed;
  for (const auto& w : j["http"]["workers"]) listed.insert(w["pid"].get<long>());
  CHECK(listed.size() == 2);
  CHECK(listed == pids_of(s));
}

TEST_CASE("pivot-server workers prints a table with every pid", "[integration][rpc][cli]") {
  const int rpc_port = free_port();
  ServerProcess s(config_yaml(2, "", "app.php", with_rpc(rpc_port)));
  REQUIRE(s.wait_log("event=worker_ready", 10s, 2));
  int st = -1;
  const std::string out = run_command(bin() + " workers http --rpc " + rpc_addr(rpc_port), &st);
  CHECK(st == 0);
  CHECK_THAT(out, Contains("Workers of [http]:"));
  CHECK_THAT(out, Contains("PID") && Contains("STATUS") && Contains("EXECS") && Contains("MEMORY") && Contains("CPU%") &&
                      Contains("CREATED"));
  CHECK_THAT(out, Contains("ready"));
  CHECK_THAT(out, Contains(" MB "));
  for (long pid : pids_of(s)) CHECK_THAT(out, Contains("| " + std::to_string(pid) + " |"));

  SECTION("the address comes from -c FILE's rpc.listen") {
    char tmpl[] = "/tmp/pivot-cli-cfg-XXXXXX.yaml";
    const int fd = ::mkstemps(tmpl, 5);
    ::close(fd);
    std::ofstream(tmpl) << "version: \"3\"\nserver:\n  command: php w.php\nhttp:\n  address: 127.0.0.1:1\n" << with_rpc(rpc_port);
    const std::string via_cfg = run_command(bin() + " workers -c " + tmpl, &st);
    CHECK(st == 0);
    for (long pid : pids_of(s)) CHECK_THAT(via_cfg, Contains("| " + std::to_string(pid) + " |"));
    ::unlink(tmpl);
  }
  SECTION("-i redraws every second until interrupted") {
    const std::string live = run_command("timeout -s INT 2.5 " + bin() + " workers -i --rpc " + rpc_addr(rpc_port), &st);
    std::size_t clears = 0;
    for (std::size_t p = live.find("\033[H\033[2J"); p != std::string::npos; p = live.find("\033[H\033[2J", p + 1)) ++clears;
    CHECK(clears >= 2);
    CHECK_THAT(live, Contains(std::to_string(*pids_of(s).begin())));
  }
  SECTION("an unknown plugin is an error") {
    const auto [o, e] = run_split(bin() + " workers nosuch --rpc " + rpc_addr(rpc_port), &st);
    CHECK(st == 1);
    CHECK_THAT(e, Contains("no such plugin: nosuch"));
  }
}

TEST_CASE("pivot-server workers without a server: one clear line, exit 1", "[integration][rpc][cli]") {
  int st = -1;
  const auto [out, err] = run_split(bin() + " workers --rpc tcp://127.0.0.1:1", &st);
  CHECK(st == 1);
  CHECK(out.empty());
  CHECK(err ==
        "pivot-server: no server answers on tcp://127.0.0.1:1 (is it running? set rpc.listen or use --rpc): "
        "Connection refused\n");
  const auto [o2, e2] = run_split(bin() + " reset --rpc unix:///nonexistent/pivot.sock", &st);
  CHECK(st == 1);
  CHECK_THAT(e2, Contains("no server answers on unix:///nonexistent/pivot.sock"));
  const auto [o3, e3] = run_split(bin() + " workers --rpc http://x", &st);
  CHECK(st == 2);
  CHECK_THAT(e3, Contains("tcp://host:port"));
  const auto [o4, e4] = run_split(bin() + " workers --frob", &st);
  CHECK(st == 2);
  CHECK_THAT(e4, Contains("--frob"));
}

TEST_CASE("pivot-server reset replaces every worker", "[integration][rpc][cli]") {
  const int rpc_port = free_port();
  ServerProcess s(config_yaml(2, "", "app.php", with_rpc(rpc_port)));
  REQUIRE(s.wait_log("event=worker_ready", 10s, 2));
  const std::set<long> before = pids_of(s);
  REQUIRE(before.size() == 2);
  int st = -1;
  const auto [out, err] = run_split(bin() + " reset --rpc " + rpc_addr(rpc_port), &st);
  CHECK(err.empty());
  CHECK(out == "http: reset (2 workers replaced)\n");
  CHECK(st == 0);
  // The old workers are gone once reset answers; the new set is complete.
  std::set<long> after;
  for (int i = 0; i < 200; ++i) {
    after = pids_of(s);
    if (after.size() == 2) break;
    std::this_thread::sleep_for(25ms);
  }
  CHECK(after.size() == 2);
  for (long p : before) CHECK(after.count(p) == 0);
  CHECK(request(s.port(), "GET", "/").status == 200);

  SECTION("naming an unknown plugin fails that line and the exit code") {
    const std::string bad = run_command(bin() + " reset http nosuch --rpc " + rpc_addr(rpc_port), &st);
    CHECK(st == 1);
    CHECK_THAT(bad, Contains("http: reset (2 workers replaced)\n"));
    CHECK_THAT(bad, Contains("nosuch: FAILED: no such plugin: nosuch\n"));
  }
}

TEST_CASE("--help documents workers and reset", "[integration][rpc][cli]") {
  int st = -1;
  const std::string out = run_command(bin() + " --help", &st);
  CHECK(st == 0);
  CHECK_THAT(out, Contains("pivot-server workers") && Contains("pivot-server reset") && Contains("--rpc"));
  CHECK_THAT(run_command(bin() + " workers --help", &st), Contains("pivot-server workers"));
  CHECK(st == 0);
}
