#include "server/cli/workers_command.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

#include "server/cli/cli_support.hpp"
#include "server/cli/rpc_client.hpp"

namespace pivot::cli {
namespace {

struct Options {
  std::vector<std::string> plugins;
  bool interactive = false;
  bool json = false;
  RpcTarget target;
};

/// Parses the arguments after `workers`; returns false with `error` on a usage error.
bool parse(const std::vector<std::string>& args, Options& o, std::string& error) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-i" || a == "--interactive") {
      o.interactive = true;
    } else if (a == "--json") {
      o.json = true;
    } else if (take_rpc_option(args, i, o.target, error)) {
      if (!error.empty()) return false;
    } else if (!a.empty() && a[0] == '-') {
      error = "unknown option \"" + a + "\" for workers";
      return false;
    } else {
      o.plugins.push_back(a);
    }
  }
  return true;
}

std::int64_t now_unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// Fetches each plugin's workers; throws RpcUnreachable / RpcCallFailed.
nlohmann::ordered_json fetch(RpcClient& client, const std::vector<std::string>& plugins) {
  nlohmann::ordered_json all = nlohmann::ordered_json::object();
  for (const auto& p : plugins) all[p] = client.call("informer.Workers", p);
  return all;
}

}  // namespace

std::string human_bytes(std::uint64_t bytes) {
  // go-humanize Bytes(): base 1000, one decimal below 10.
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  if (bytes < 10) return std::to_string(bytes) + " B";
  const double v = static_cast<double>(bytes);
  const int e = std::min(6, static_cast<int>(std::floor(std::log(v) / std::log(1000.0))));
  const double val = std::floor(v / std::pow(1000.0, e) * 10 + 0.5) / 10;
  char buf[32];
  std::snprintf(buf, sizeof buf, val < 10 ? "%.1f %s" : "%.0f %s", val, kUnits[e]);
  return buf;
}

std::string human_age(std::int64_t seconds) {
  if (seconds < 0) seconds = 0;
  const std::int64_t h = seconds / 3600, m = seconds % 3600 / 60, s = seconds % 60;
  if (h > 0) return std::to_string(h) + "h" + std::to_string(m) + "m" + std::to_string(s) + "s";
  if (m > 0) return std::to_string(m) + "m" + std::to_string(s) + "s";
  return std::to_string(s) + "s";
}

std::string format_workers_table(const std::string& plugin, const nlohmann::ordered_json& reply, std::int64_t now_ns) {
  std::string out = "Workers of [" + plugin + "]:\n";
  const auto it = reply.find("workers");
  if (it == reply.end() || !it->is_array()) return out + "  no such plugin\n";
  const std::vector<std::string> head = {"PID", "STATUS", "EXECS", "MEMORY", "CPU%", "CREATED"};
  const std::vector<bool> right = {true, false, true, false, true, false};
  std::vector<std::vector<std::string>> rows;
  for (const auto& w : *it) {
    char cpu[32];
    std::snprintf(cpu, sizeof cpu, "%.2f", w.value("CPUPercent", 0.0));
    const std::int64_t created = w.value("created", std::int64_t{0});
    rows.push_back({std::to_string(w.value("pid", std::int64_t{0})), w.value("statusStr", std::string()),
                    std::to_string(w.value("numExecs", std::uint64_t{0})), human_bytes(w.value("memoryUsage", std::uint64_t{0})),
                    cpu, human_age((now_ns - created) / 1'000'000'000)});
  }
  return out + box_table(head, rows, right, true);
}

int workers_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Options o;
  std::string error;
  if (!parse(args, o, error)) {
    err << "pivot-server: " << error << kUsageHint;
    return 2;
  }
  return run_rpc_command(err, [&]() -> int {
    const std::string address = o.target.address();
    RpcClient client(address);
    std::vector<std::string> plugins = o.plugins;
    if (plugins.empty()) plugins = client.call("informer.List", true).get<std::vector<std::string>>();
    for (;;) {
      const nlohmann::ordered_json all = fetch(client, plugins);
      std::string text;
      if (o.json) {
        text = all.dump() + "\n";
      } else {
        const std::int64_t now = now_unix_ns();
        for (const auto& [plugin, reply] : all.items()) text += format_workers_table(plugin, reply, now);
      }
      if (o.interactive && !o.json) out << "\033[H\033[2J";  // cursor home, clear screen
      out << text << std::flush;
      if (!o.interactive) {
        for (const auto& [plugin, reply] : all.items()) {
          if (reply.value("workers", nlohmann::ordered_json()).is_null()) {
            err << "pivot-server: no such plugin: " << plugin << "\n";
            return 1;
          }
        }
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));  // until Ctrl-C
    }
  });
}

}  // namespace pivot::cli
