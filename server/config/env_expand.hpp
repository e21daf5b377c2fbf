#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace pivot::config {

/// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

/// Expands `${VAR}`, `${VAR:-default}` and `$VAR` in `in`. `$$` is a literal `$`.
/// Throws ConfigError (naming `key_path`) on an unterminated `${`.
std::string expand_env(std::string_view in, const EnvLookup& lookup, const std::string& key_path);

/// An EnvLookup over the process environment.
EnvLookup process_env();

}  // namespace pivot::config
