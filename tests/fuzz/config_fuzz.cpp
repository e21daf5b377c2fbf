// Fuzz target: the config loader (server/config/loader) from YAML text, as `serve -c` reads it.
// Lines after the first NUL byte are `-o key.path=value` overrides. The loader must either
// return a Config or throw ConfigError; any other exception, crash or UB is a finding.
// `include:` reads other files, which is not what this target tests: such inputs are skipped.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/config/config_error.hpp"
#include "server/config/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.find("include") != std::string_view::npos) return 0;
  const std::size_t nul = input.find('\0');
  const std::string yaml(input.substr(0, nul));
  std::vector<std::string> overrides;
  if (nul != std::string_view::npos) {
    std::string_view rest = input.substr(nul + 1);
    while (!rest.empty()) {
      const std::size_t nl = rest.find('\n');
      overrides.emplace_back(rest.substr(0, nl));
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
  }
  const pivot::config::EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "FUZZ_PORT") return "8080";
    return std::nullopt;
  };
  try {
    (void)pivot::config::parse_config(yaml, "fuzz.yaml", overrides, env);
  } catch (const pivot::config::ConfigError&) {
  }
  return 0;
}
