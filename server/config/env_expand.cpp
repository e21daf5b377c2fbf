#include "server/config/env_expand.hpp"

#include <cstdlib>

#include "server/config/config_error.hpp"

namespace pivot::config {
namespace {

bool is_name_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

}  // namespace

std::string expand_env(std::string_view in, const EnvLookup& lookup, const std::string& key_path) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$' || i + 1 >= in.size()) {
      out.push_back(in[i]);
      continue;
    }
    if (in[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    if (in[i + 1] == '{') {
      const std::size_t close = in.find('}', i + 2);
      if (close == std::string_view::npos) {
        throw ConfigError("config key " + key_path + ": unterminated ${ in \"" + std::string(in) + "\"");
      }
      const std::string_view body = in.substr(i + 2, close - i - 2);
      const std::size_t dflt = body.find(":-");
      const std::string name(body.substr(0, dflt));
      auto value = lookup(name);
      if (value && !value->empty()) {
        out += *value;
      } else if (dflt != std::string_view::npos) {
        out += body.substr(dflt + 2);
      } else if (value) {
        out += *value;
      }
      i = close;
      continue;
    }
    if (is_name_char(in[i + 1], true)) {
      std::size_t j = i + 1;
      while (j < in.size() && is_name_char(in[j], j == i + 1)) ++j;
      if (auto value = lookup(std::string(in.substr(i + 1, j - i - 1)))) out += *value;
      i = j - 1;
      continue;
    }
    out.push_back('$');
  }
  return out;
}

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

}  // namespace pivot::config
