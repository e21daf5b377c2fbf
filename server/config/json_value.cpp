#include "server/config/json_value.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

#include "server/config/config_error.hpp"

namespace pivot::config {

std::int64_t json_integer(const nlohmann::json& v, const std::string& key, std::int64_t min, std::int64_t max) {
  std::int64_t out = 0;
  bool ok = false;
  if (v.is_number_integer()) {
    out = v.get<std::int64_t>();
    ok = true;
  } else if (v.is_string()) {
    const auto s = v.get<std::string>();
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    ok = !s.empty() && ec == std::errc() && p == s.data() + s.size();
  }
  if (!ok) throw ConfigError("config key " + key + ": expected a whole number, got " + v.dump());
  if (out < min || out > max) {
    throw ConfigError("config key " + key + ": " + std::to_string(out) + " is out of range " + std::to_string(min) + ".." +
                      std::to_string(max));
  }
  return out;
}

}  // namespace pivot::config
