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
  /// A logger for records with their own fields (the access log): with `json()` each message
  /// must be JSON object members (`"k":v,…`) and becomes part of the line's object; otherwise
  /// it is key=value text like every other line. Thread-safe.
  std::shared_ptr<spdlog::logger> get_structured(const std::string& name) const;
  /// True when logs.encoding is json.
  bool json() const noexcept { return json_; }

 private:
  spdlog::sink_ptr sink_;
  spdlog::sink_ptr structured_sink_;
  spdlog::level::level_enum level_;
  bool json_ = false;
};

}  // namespace pivot::core
