#pragma once

#include <stdexcept>
#include <string>

namespace pivot::config {

/// A configuration problem; the message names the key path and what is allowed. Exit code 2.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace pivot::config
