#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace pivot::config {

/// An integer given as a JSON number or a numeric string (jobs.Declare and pipeline options
/// stringify every value), within min..max; otherwise ConfigError naming `key`. Control path.
std::int64_t json_integer(const nlohmann::json& v, const std::string& key, std::int64_t min, std::int64_t max);

}  // namespace pivot::config
