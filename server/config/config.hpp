#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pivot::config {

/// Durations are kept in milliseconds everywhere.
using Duration = std::chrono::milliseconds;

/// `pool.supervisor` (protocol doc §6.2): active only when the section exists.
struct SupervisorConfig {
  bool enabled = false;                            ///< true when the section exists
  Duration watch_tick = std::chrono::seconds(5);   ///< how often ttl, idle_ttl and memory are checked
  Duration ttl{0};                                 ///< max worker age; 0 = off
  Duration idle_ttl{0};                            ///< max time a used worker may sit idle; 0 = off
  std::uint64_t max_worker_memory = 0;             ///< MiB of RSS; 0 = off
  Duration exec_ttl{0};                            ///< hard per-request deadline (504, SIGKILL); 0 = off
};

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
  SupervisorConfig supervisor;                     ///< ttl, idle_ttl, memory and exec_ttl limits
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

/// The `rpc` section (protocol doc §5): enabled when the section exists.
struct RpcConfig {
  bool enabled = false;                            ///< true when the section exists
  std::string listen = "tcp://127.0.0.1:6001";     ///< tcp://host:port or unix:///path
};

/// The `status` section: /health and /ready endpoints; enabled when the section exists.
struct StatusConfig {
  bool enabled = false;                 ///< true when the section exists
  std::string host = "127.0.0.1";       ///< listen host from `address`
  std::uint16_t port = 2114;            ///< listen port from `address`
  int unavailable_status_code = 503;    ///< status when a plugin is not healthy / not ready
};

/// One watched plugin of `reload.plugins.<name>` (RoadRunner's reload plugin).
struct ReloadTarget {
  std::string plugin;                           ///< pool name ("http")
  std::vector<std::string> dirs{"."};           ///< directories to watch
  bool recursive = false;                       ///< watch subdirectories too
  std::vector<std::string> ignore;              ///< directory names never watched ("vendor")
  std::vector<std::string> patterns;            ///< file name suffixes that count (".php"); empty = all
};

/// The `reload` section: reset a pool when its files change (development). Enabled when present.
struct ReloadConfig {
  bool enabled = false;                                   ///< true when the section exists
  Duration interval = std::chrono::seconds(1);            ///< quiet time before the reset (debounce)
  std::vector<ReloadTarget> plugins;                      ///< what to watch, per pool
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
  RpcConfig rpc;
  StatusConfig status;
  ReloadConfig reload;
  LogsConfig logs;
  std::vector<std::string> warnings;  ///< recognised but unsupported keys, for the log
  std::string json;                   ///< the effective config (YAML after -o and ${VAR}) as JSON, for rpc.Config
};

}  // namespace pivot::config
