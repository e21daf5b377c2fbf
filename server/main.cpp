#include <unistd.h>

#include <csignal>
#include <cstring>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <string>
#include <system_error>
#include <vector>

#include "server/cli/app.hpp"
#include "server/cli/jobs_command.hpp"
#include "server/cli/reset_command.hpp"
#include "server/cli/workers_command.hpp"
#include "server/config/config_error.hpp"
#include "server/config/loader.hpp"
#include "server/core/version.hpp"

namespace {

constexpr const char* kUsage = R"(pivot-server — a RoadRunner-compatible application server for long-running PHP

Usage:
  pivot-server serve [-c FILE] [-w DIR] [-o key.path=value]...
  pivot-server workers [plugin...] [-i] [--json] [-c FILE] [--rpc ADDR]
  pivot-server reset [plugin...] [-c FILE] [--rpc ADDR]
  pivot-server jobs [list|pause|resume|stat] [pipeline...] [--json] [-c FILE] [--rpc ADDR]
  pivot-server --version
  pivot-server --help

Commands:
  serve            start the HTTP server and its PHP worker pool
  workers          show the workers of a running server (pid, state, execs, memory, CPU, age)
  config check     validate a config (with -c, -w, -o as for serve) and print it as JSON after
                   ${VAR} expansion, include: files and overrides; every error is listed
  reset            rolling restart of a running server's workers (every plugin, or those named)
  jobs             a running server's job pipelines: stat (default; a table of ready, delayed
                   and reserved jobs), list, pause or resume the named pipelines

  workers, reset and jobs talk to the server's RPC endpoint (the config's rpc.listen, default
  tcp://127.0.0.1:6001): the server needs an rpc: section.

Options:
  -c, --config FILE     configuration file (default .pivot.yaml; a .rr.yaml works too)
  -w, --workdir DIR     change to DIR before reading the config and starting workers
  -o, --override K=V    override one config key, e.g. -o http.pool.num_workers=4 (repeatable)
  -h, --help            this text
  -v, --version         print the version
  -i, --interactive     workers: redraw every second until Ctrl-C
      --json            workers: print {"http":{"workers":[...]}} instead of a table;
                        jobs: print the jobs.* reply ({"stats":[...]}) instead of a table
      --rpc ADDR        workers, reset, jobs: tcp://host:port or unix:///path (default: rpc.listen of -c FILE)

Exit codes: 0 clean shutdown, 1 runtime failure, 2 usage or configuration error.
)";

int usage_error(const std::string& msg) {
  std::cerr << "pivot-server: " << msg << "\nRun 'pivot-server --help' for usage.\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage_error("missing command (try: pivot-server serve -c .pivot.yaml)");
  if (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (args[0] == "-v" || args[0] == "--version" || args[0] == "version") {
    std::cout << "pivot-server " << pivot::core::kVersion << " (RoadRunner protocol " << pivot::core::kRoadRunnerCompatVersion << ")\n";
    return 0;
  }
  if (args[0] == "workers" || args[0] == "reset" || args[0] == "jobs") {
    std::signal(SIGPIPE, SIG_IGN);
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    for (const auto& a : rest) {
      if (a == "-h" || a == "--help") {
        std::cout << kUsage;
        return 0;
      }
    }
    if (args[0] == "jobs") return pivot::cli::jobs_command(rest, std::cout, std::cerr);
    return args[0] == "workers" ? pivot::cli::workers_command(rest, std::cout, std::cerr)
                                : pivot::cli::reset_command(rest, std::cout, std::cerr);
  }
  // `config check` validates like `serve` does, then prints the effective config instead of serving.
  bool check_only = false;
  if (args[0] == "config") {
    if (args.size() < 2 || args[1] != "check") return usage_error("use: pivot-server config check [-c FILE] [-w DIR] [-o K=V]...");
    check_only = true;
    args.erase(args.begin());
  } else if (args[0] != "serve") {
    return usage_error("unknown command \"" + args[0] + "\"");
  }

  std::string config_path = ".pivot.yaml";
  std::string workdir;
  std::vector<std::string> overrides;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* flag) -> const std::string* {
      if (i + 1 >= args.size()) return nullptr;
      (void)flag;
      return &args[++i];
    };
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (a == "-c" || a == "--config") {
      const auto* v = value("-c");
      if (!v) return usage_error(a + " needs a file name");
      config_path = *v;
    } else if (a == "-w" || a == "--workdir") {
      const auto* v = value("-w");
      if (!v) return usage_error(a + " needs a directory");
      workdir = *v;
    } else if (a == "-o" || a == "--override") {
      const auto* v = value("-o");
      if (!v) return usage_error(a + " needs key.path=value");
      overrides.push_back(*v);
    } else if (a.rfind("-o", 0) == 0 && a.size() > 2) {
      overrides.push_back(a.substr(2));
    } else {
      return usage_error("unknown option \"" + a + "\"");
    }
  }

  if (!workdir.empty() && ::chdir(workdir.c_str()) != 0) {
    return usage_error("cannot change to directory " + workdir + ": " + std::strerror(errno));
  }
  // A worker that dies makes writes to its pipe fail with EPIPE instead of killing the server.
  std::signal(SIGPIPE, SIG_IGN);

  pivot::config::Config cfg;
  try {
    cfg = pivot::config::load_config(config_path, overrides, pivot::config::process_env());
  } catch (const pivot::config::ConfigError& e) {
    // One line per error; a config with several mistakes reports them all.
    std::istringstream lines(e.what());
    for (std::string line; std::getline(lines, line);) std::cerr << "pivot-server: " << line << "\n";
    return 2;
  }
  if (check_only) {
    for (const auto& w : cfg.warnings) std::cerr << "warning: " << w << "\n";
    std::cout << nlohmann::json::parse(cfg.json).dump(2) << "\n";
    std::cerr << "config " << config_path << " is valid" << (cfg.warnings.empty() ? "" : " (with warnings above)") << "\n";
    return 0;
  }
  try {
    return pivot::cli::App(std::move(cfg)).run();
  } catch (const std::system_error& e) {
    std::cerr << "pivot-server: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "pivot-server: fatal: " << e.what() << "\n";
    return 1;
  }
}
