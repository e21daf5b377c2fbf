#pragma once

#include <string>

namespace pivot::test {

/// A .pivot.yaml for the fixture worker `script` with `pool_extra` lines under http.pool
/// (each indented by four spaces) and `top_extra` appended at the top level.
inline std::string config_yaml(int num_workers, const std::string& pool_extra = "", const std::string& script = "app.php",
                               const std::string& top_extra = "") {
  return "version: \"3\"\n"
         "server:\n"
         "  command: \"php {{WORKERS}}/" + script + "\"\n"
         "  env:\n"
         "    APP_GREETING: hello-env\n"
         "http:\n"
         "  address: 127.0.0.1:{{PORT}}\n"
         "  pool:\n"
         "    num_workers: " + std::to_string(num_workers) + "\n" + pool_extra +
         "logs:\n"
         "  level: debug\n" + top_extra;
}

}  // namespace pivot::test
