#pragma once

#include <string>
#include <vector>

#include "server/config/config.hpp"
#include "server/config/env_expand.hpp"

namespace pivot::config {

/// Parses YAML text (plus `-o key.path=value` overrides) into a validated Config.
/// Throws ConfigError naming the key path and what is allowed. `source` names the file in errors.
Config parse_config(const std::string& yaml_text, const std::string& source,
                    const std::vector<std::string>& overrides, const EnvLookup& env);

/// Reads `path` and calls parse_config. Throws ConfigError when the file cannot be read.
Config load_config(const std::string& path, const std::vector<std::string>& overrides, const EnvLookup& env);

}  // namespace pivot::config
