#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace pivot::core {

/// Owns the log sink and hands out one named logger per module. Lines are key=value
/// (`logs.encoding: console`) or one JSON object per line (`json`), always on stderr.
/// Messages follow the convention `event=name key=value ...`.
class Logging {
 public:
  /// Creates the sink; `level` is debug/info/warn/error, `encoding` console/json.
  Logging(const std::string& level, const std::string& encoding);
  ~Logging();
  Logging(const Logging&) = delete;
  Logging& operator=(const Logging&) = delete;

  /// A logger for module `name` sharing the sink and the level. Thread-safe.
  std::shared_ptr<spdlog::logger> get(const std::string& name) const;

 private:
  spdlog::sink_ptr sink_;
  spdlog::level::level_enum level_;
};

}  // namespace pivot::core
