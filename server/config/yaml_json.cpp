#include "server/config/yaml_json.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdlib>
#include <regex>

#include "server/config/config_error.hpp"

namespace pivot::config {
namespace {

nlohmann::ordered_json scalar_to_json(const YAML::Node& node, const EnvLookup& env) {
  std::string text;
  try {
    text = expand_env(node.Scalar(), env, "");
  } catch (const ConfigError&) {
    text = node.Scalar();
  }
  if (node.Tag() == "!") return text;  // quoted in the file: a string whatever it looks like
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
  std::int64_t i = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
  if (ec == std::errc() && p == text.data() + text.size()) return i;
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(text, kFloat)) return std::strtod(text.c_str(), nullptr);
  return text;
}

}  // namespace

nlohmann::ordered_json yaml_to_json(const YAML::Node& node, const EnvLookup& env) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      auto obj = nlohmann::ordered_json::object();
      for (const auto& kv : node) obj[kv.first.Scalar()] = yaml_to_json(kv.second, env);
      return obj;
    }
    case YAML::NodeType::Sequence: {
      auto arr = nlohmann::ordered_json::array();
      for (const auto& item : node) arr.push_back(yaml_to_json(item, env));
      return arr;
    }
    case YAML::NodeType::Scalar:
      return scalar_to_json(node, env);
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
  }
  return nullptr;
}

}  // namespace pivot::config
