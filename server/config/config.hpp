#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pivot::config {

/// Durations are kept in milliseconds everywhere.
using Duration = std::chrono::milliseconds;

/// A worker pool (`http.pool`): see config/reference.yaml for units and defaults.
struct PoolConfig {
  std::vector<std::string> command;                ///< overrides server.command when non-empty
  unsigned num_workers = 0;                        ///< 0 in the file means "number of CPUs"
  std::uint64_t max_jobs = 0;                      ///< 0 = unlimited
  std::uint64_t max_queue_size = 0;                ///< waiting requests; 0 = unlimited
  Duration allocate_timeout = std::chrono::seconds(60);
  Duration destroy_timeout = std::chrono::seconds(60);
  Duration reset_timeout = std::chrono::seconds(60);
  bool debug = false;                              ///< error text in 500 bodies, max_jobs = 1
};

/// The `server` section: how workers are started.
struct ServerConfig {
  std::vector<std::string> command;                        ///< argv of the worker
  std::vector<std::pair<std::string, std::string>> env;   ///< extra environment (keys uppercased)
  std::string relay = "pipes";                             ///< only "pipes" is supported
};

/// The `http` section.
struct HttpConfig {
  bool enabled = false;                 ///< true when the section exists
  std::string host = "0.0.0.0";         ///< listen host from `address`
  std::uint16_t port = 8080;            ///< listen port from `address`
  unsigned io_threads = 1;              ///< threads running the io_context
  std::uint64_t max_request_size = 1000ULL * 1024 * 1024;  ///< bytes (the key is in MB)
  std::uint64_t max_header_size = 64 * 1024;               ///< bytes of request line + headers
  int internal_error_code = 500;        ///< status for worker ERROR frames
  PoolConfig pool;                      ///< the HTTP worker pool
};

/// The `logs` section.
struct LogsConfig {
  std::string level = "info";        ///< debug, info, warn, error
  std::string encoding = "console";  ///< console (key=value) or json
  std::string mode = "production";   ///< production, development, raw
};

/// The whole parsed configuration; plain data, parsed once.
struct Config {
  std::string version = "3";
  ServerConfig server;
  HttpConfig http;
  LogsConfig logs;
  std::vector<std::string> warnings;  ///< recognised but unsupported keys, for the log
};

}  // namespace pivot::config
