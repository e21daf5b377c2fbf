#include <catch2/catch.hpp>

#include <fstream>

#include "tests/integration/config_template.hpp"
#include "tests/integration/harness.hpp"

using namespace pivot::test;
using Catch::Matchers::Contains;

namespace {

std::string bin() { return PIVOT_BINARY; }

std::string write_temp(const std::string& text) {
  char tmpl[] = "/tmp/pivot-cfg-XXXXXX.yaml";
  const int fd = ::mkstemps(tmpl, 5);
  ::close(fd);
  std::ofstream(tmpl) << text;
  return tmpl;
}

}  // namespace

TEST_CASE("--version and --help", "[integration][cli]") {
  int st = -1;
  CHECK_THAT(run_command(bin() + " --version", &st), Contains("pivot-server 0."));
  CHECK(st == 0);
  CHECK_THAT(run_command(bin() + " --help", &st), Contains("serve"));
  CHECK(st == 0);
}

TEST_CASE("usage and config errors exit 2 with one clear line", "[integration][cli]") {
  int st = -1;
  CHECK_THAT(run_command(bin() + " frobnicate 2>&1", &st), Contains("unknown command"));
  CHECK(st == 2);
  CHECK_THAT(run_command(bin() + " serve -c /nonexistent.yaml 2>&1", &st), Contains("/nonexistent.yaml"));
  CHECK(st == 2);

  const std::string bad = write_temp("version: \"3\"\nserver:\n  command: php w.php\nhttp:\n  address: 127.0.0.1:1\n  pool:\n    num_workerz: 2\n");
  const std::string out = run_command(bin() + " serve -c " + bad + " 2>&1", &st);
  CHECK(st == 2);
  CHECK_THAT(out, Contains("http.pool.num_workerz") && Contains("did you mean http.pool.num_workers"));
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);

  const std::string good = write_temp("version: \"3\"\nserver:\n  command: php w.php\nhttp:\n  address: 127.0.0.1:1\n");
  CHECK_THAT(run_command(bin() + " serve -c " + good + " -o http.pool.max_jobs=-1 2>&1", &st), Contains("http.pool.max_jobs"));
  CHECK(st == 2);
  CHECK_THAT(run_command(bin() + " serve -c " + good + " -o server.relay=tcp://127.0.0.1:7000 2>&1", &st),
             Contains("server.relay") && Contains("not supported yet"));
  CHECK(st == 2);
  ::unlink(bad.c_str());
  ::unlink(good.c_str());
}

TEST_CASE("a port already in use is a clear runtime error", "[integration][cli]") {
  ServerProcess s(config_yaml(1));
  const std::string cfg = write_temp("version: \"3\"\nserver:\n  command: php w.php\nhttp:\n  address: 127.0.0.1:" +
                                     std::to_string(s.port()) + "\n");
  int st = -1;
  const std::string out = run_command(bin() + " serve -c " + cfg + " 2>&1", &st);
  CHECK(st == 1);
  CHECK_THAT(out, Contains("in use"));
  ::unlink(cfg.c_str());
}

TEST_CASE("-o overrides apply on the command line", "[integration][cli]") {
  // ServerProcess writes its own config; here we check -w and -o against the real hello example.
  const int port = free_port();
  const std::string cmd = "timeout -s TERM 3 " + bin() + " serve -w " + source_dir() + "/examples/hello -c .pivot.yaml -o http.address=127.0.0.1:" +
                          std::to_string(port) + " -o http.pool.num_workers=1 > /tmp/pivot-o-test.log 2>&1 & "
                          "for i in $(seq 50); do curl -fsS http://127.0.0.1:" + std::to_string(port) + "/ && break; sleep 0.1; done";
  int st = -1;
  const std::string out = run_command(cmd, &st);
  CHECK(st == 0);
  CHECK_THAT(out, Contains("Hello"));
  run_command("sleep 3.2");
}
