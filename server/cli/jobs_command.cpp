#include "server/cli/jobs_command.hpp"

#include <algorithm>

#include "server/cli/cli_support.hpp"
#include "server/cli/rpc_client.hpp"

namespace pivot::cli {
namespace {

/// A proto3 JSON field as text: int64 arrive as strings, bools as true/false.
std::string field(const nlohmann::ordered_json& o, const char* key) {
  const auto it = o.find(key);
  if (it == o.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_boolean()) return it->get<bool>() ? "true" : "false";
  return it->dump();
}

}  // namespace

std::string format_jobs_table(const nlohmann::ordered_json& stats) {
  const std::vector<std::string> head = {"PIPELINE", "DRIVER", "QUEUE", "PRIORITY", "ACTIVE", "DELAYED", "RESERVED", "READY"};
  const std::vector<const char*> keys = {"pipeline", "driver", "queue", "priority", "active", "delayed", "reserved", "ready"};
  const std::vector<bool> right = {false, false, false, true, true, true, true, false};
  std::vector<std::vector<std::string>> rows;
  const auto it = stats.find("stats");
  if (it != stats.end() && it->is_array()) {
    for (const auto& s : *it) {
      std::vector<std::string> r;
      for (const char* k : keys) r.push_back(field(s, k));
      if (r[2].empty()) r[2] = "-";
      rows.push_back(std::move(r));
    }
  }
  return box_table(head, rows, right, false);
}

int jobs_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string verb, error;
  RpcTarget target;
  std::vector<std::string> pipelines;
  bool json = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      json = true;
    } else if (take_rpc_option(args, i, target, error)) {
      if (!error.empty()) {
        err << "pivot-server: " << error << kUsageHint;
        return 2;
      }
    } else if (!a.empty() && a[0] == '-') {
      err << "pivot-server: unknown option \"" << a << "\" for jobs" << kUsageHint;
      return 2;
    } else if (verb.empty() && (a == "list" || a == "pause" || a == "resume" || a == "stat")) {
      verb = a;
    } else {
      pipelines.push_back(a);
    }
  }
  if (verb.empty()) verb = "stat";
  if ((verb == "pause" || verb == "resume") && pipelines.empty()) {
    err << "pivot-server: jobs " << verb << " needs at least one pipeline name" << kUsageHint;
    return 2;
  }
  if (verb == "list" && !pipelines.empty()) {
    err << "pivot-server: jobs list takes no pipeline names" << kUsageHint;
    return 2;
  }
  return run_rpc_command(err, [&]() -> int {
    RpcClient client(target.address());
    if (verb == "list") {
      const auto reply = client.call("jobs.List", nlohmann::json::object());
      const auto names = reply.value("pipelines", nlohmann::ordered_json::array());
      if (json) {
        out << nlohmann::ordered_json{{"pipelines", names}}.dump() << "\n";
      } else {
        for (const auto& n : names) out << n.get<std::string>() << "\n";
      }
      return 0;
    }
    if (verb == "pause" || verb == "resume") {
      client.call(verb == "pause" ? "jobs.Pause" : "jobs.Resume", nlohmann::json{{"pipelines", pipelines}});
      if (json) {
        out << nlohmann::ordered_json{{verb == "pause" ? "paused" : "resumed", pipelines}}.dump() << "\n";
      } else {
        for (const auto& p : pipelines) out << p << ": " << (verb == "pause" ? "paused" : "resumed") << "\n";
      }
      return 0;
    }
    nlohmann::ordered_json stats = client.call("jobs.Stat", nlohmann::json::object());
    if (!pipelines.empty()) {
      auto all = stats.value("stats", nlohmann::ordered_json::array());
      auto picked = nlohmann::ordered_json::array();
      for (const auto& name : pipelines) {
        const auto it = std::find_if(all.begin(), all.end(), [&](const auto& s) { return s.value("pipeline", "") == name; });
        if (it == all.end()) {
          err << "pivot-server: no such pipeline: " << name << "\n";
          return 1;
        }
        picked.push_back(*it);
      }
      stats = nlohmann::ordered_json{{"stats", picked}};
    }
    out << (json ? stats.dump() + "\n" : format_jobs_table(stats));
    return 0;
  });
}

}  // namespace pivot::cli
