#pragma once

#include "server/config/config.hpp"

namespace pivot::cli {

/// The composition root of `pivot-server serve`: builds the io_context, logging, the HTTP pool
/// and listener, wires signals, and runs until a graceful shutdown completes.
class App {
 public:
  /// Takes the validated configuration.
  explicit App(config::Config cfg);

  /// Serves until SIGINT/SIGTERM; returns the process exit code. Throws std::system_error when
  /// the listener cannot bind (control path).
  int run();

 private:
  config::Config cfg_;
};

}  // namespace pivot::cli
