#include <nlohmann/json.hpp>

#include <set>

#include "server/config/config.hpp"
#include "server/config/config_error.hpp"
#include "server/config/json_value.hpp"

namespace pivot::config {
namespace {

constexpr std::uint32_t kMaxAttemptsLimit = 1000000;

std::string text(const nlohmann::json& v, const std::string& key) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  throw ConfigError("config key " + key + ": expected a string");
}

std::string join(const std::set<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

}  // namespace

JobsPipelineConfig parse_jobs_pipeline(const std::string& name, const nlohmann::json& spec, const std::string& path) {
  JobsPipelineConfig p;
  p.name = name;
  p.config = std::make_shared<const nlohmann::json>(nlohmann::json::object());
  if (name.empty()) throw ConfigError("config key " + path + ": a pipeline needs a name");
  if (!spec.is_object()) throw ConfigError("config key " + path + ": expected a mapping with driver and config");
  const std::set<std::string> top_keys{"driver", "priority", "config"};
  for (const auto& [k, v] : spec.items()) {
    if (!top_keys.count(k)) throw ConfigError("config key " + path + "." + k + " is unknown. Allowed here: " + join(top_keys));
  }
  if (!spec.contains("driver") || spec["driver"].is_null()) {
    throw ConfigError("config key " + path + ".driver is required; use one of: memory, amqp");
  }
  p.driver = text(spec["driver"], path + ".driver");
  if (p.driver != "memory" && p.driver != "amqp") {
    throw ConfigError("config key " + path + ".driver: \"" + p.driver + "\" is not allowed; use one of: memory, amqp");
  }
  if (spec.contains("priority") && !spec["priority"].is_null()) {
    p.priority = json_integer(spec["priority"], path + ".priority", INT64_MIN, INT64_MAX);
  }
  if (spec.contains("config") && !spec["config"].is_null()) {
    const nlohmann::json& c = spec["config"];
    const std::string cpath = path + ".config";
    if (!c.is_object()) throw ConfigError("config key " + cpath + ": expected a mapping of driver settings");
    p.config = std::make_shared<const nlohmann::json>(c);
    if (c.contains("priority")) p.priority = json_integer(c["priority"], cpath + ".priority", INT64_MIN, INT64_MAX);
    if (c.contains("prefetch")) p.prefetch = static_cast<std::uint64_t>(json_integer(c["prefetch"], cpath + ".prefetch", 0, INT64_MAX));
    if (c.contains("retry")) {
      const nlohmann::json& r = c["retry"];
      if (!r.is_object()) throw ConfigError("config key " + cpath + ".retry: expected a mapping such as {max_attempts: 3}");
      for (const auto& [k, v] : r.items()) {
        if (k != "max_attempts") throw ConfigError("config key " + cpath + ".retry." + k + " is unknown. Allowed here: max_attempts");
      }
      if (r.contains("max_attempts")) {
        const auto& v = r["max_attempts"];
        if (json_integer(v, cpath + ".retry.max_attempts", INT64_MIN, INT64_MAX) < 1) {
          throw ConfigError("config key " + cpath + ".retry.max_attempts: must be at least 1; 0 (retry forever) is not allowed because a "
                            "job that always fails would loop; use a large number such as 1000 instead");
        }
        p.max_attempts = static_cast<std::uint32_t>(json_integer(v, cpath + ".retry.max_attempts", 1, kMaxAttemptsLimit));
      }
    }
    // jobs.Declare has only flat string keys: "max_attempts" stands for retry.max_attempts there.
    if (c.contains("max_attempts")) {
      p.max_attempts = static_cast<std::uint32_t>(json_integer(c["max_attempts"], cpath + ".max_attempts", 1, kMaxAttemptsLimit));
    }
    if (c.contains("dead_letter")) p.dead_letter = text(c["dead_letter"], cpath + ".dead_letter");
    if (p.dead_letter == name) {
      throw ConfigError("config key " + cpath + ".dead_letter: a pipeline cannot be its own dead-letter pipeline");
    }
    if (p.driver == "memory") {
      // The memory driver has no keys of its own; amqp validates its keys itself.
      const std::set<std::string> known{"priority", "prefetch", "retry", "max_attempts", "dead_letter"};
      for (const auto& [k, v] : c.items()) {
        if (!known.count(k)) {
          throw ConfigError("config key " + cpath + "." + k + " is unknown for the memory driver. Allowed here: " + join(known));
        }
      }
    }
  }
  return p;
}

}  // namespace pivot::config
