#pragma once

#include <nlohmann/json.hpp>

#include "server/config/env_expand.hpp"

namespace YAML {
class Node;
}  // namespace YAML

namespace pivot::config {

/// Converts a YAML tree to JSON for `rpc.Config` (protocol doc §5.7): mappings become objects
/// (keys in file order), sequences arrays, and plain scalars booleans, integers, floats or null
/// where YAML 1.2 reads them so; quoted scalars stay strings. `${VAR}` is expanded in every
/// string as the loader does (a value that fails to expand is kept as written).
nlohmann::ordered_json yaml_to_json(const YAML::Node& node, const EnvLookup& env);

}  // namespace pivot::config
