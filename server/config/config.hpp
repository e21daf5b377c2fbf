#pragma once

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <memory>
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
  Duration stream_timeout = std::chrono::seconds(60);  ///< drain of a stopped response stream, then SIGKILL
  bool debug = false;                              ///< error text in 500 bodies, max_jobs = 1
  /// Requests written to a busy worker's stdin behind its current one when no worker is free
  /// (0 = off). Only for frames of at most PIPE_BUF bytes and workers whose executions are short.
  unsigned pipeline_depth = 0;
  /// A worker takes pipelined requests only while its average execution and its current one
  /// stay under this (bounds the wait of a request queued behind a slow one).
  Duration pipeline_max_exec = std::chrono::milliseconds(2);
  /// Requests still unread in a worker's pipe whose current request has run longer than this are
  /// read back out of the pipe and go to another worker (0 = never).
  Duration pipeline_max_wait = std::chrono::milliseconds(5);
  /// Workers run under SCHED_BATCH: a request written to a worker does not preempt the server,
  /// so one core serves runs of pipelined requests instead of switching per request.
  bool sched_batch = false;
  SupervisorConfig supervisor;                     ///< ttl, idle_ttl, memory and exec_ttl limits
};

/// The `server` section: how workers are started.
struct ServerConfig {
  std::vector<std::string> command;                        ///< argv of the worker
  std::vector<std::pair<std::string, std::string>> env;   ///< extra environment (keys uppercased)
  std::string relay = "pipes";                             ///< only "pipes" is supported
};

/// `http.uploads` (protocol doc §3.4): where multipart file parts go and which are refused.
struct UploadsConfig {
  std::string dir;                                          ///< temp file directory; "" = the system temp dir
  std::vector<std::string> forbid{".php", ".exe", ".bat"};  ///< lower-case extensions with the dot: error 8
  std::vector<std::string> allow;                           ///< when non-empty, only these extensions: else error 8
  std::uint64_t max_file_size = 0;                          ///< bytes per file (the key is in MB); 0 = unlimited
  std::uint64_t max_files = 1000;                           ///< file parts per request (above: 413); 0 = unlimited
};

/// `http.static` (RoadRunner's static middleware): files under `dir` served without PHP.
/// Active when the section exists.
struct StaticConfig {
  bool enabled = false;                                        ///< true when the section exists
  std::string dir = ".";                                       ///< directory served (checked at start)
  std::vector<std::string> forbid{".php", ".htaccess"};        ///< lower-case extensions never served (PHP gets them)
  std::vector<std::string> allow;                              ///< when non-empty, only these extensions are served
  bool calculate_etag = false;                                 ///< send an ETag ("size-crc32" of the content, or weak)
  bool weak = false;                                           ///< ETag W/"size-mtime" from metadata instead of content
  std::vector<std::pair<std::string, std::string>> request;   ///< headers added to static requests (client's win)
  std::vector<std::pair<std::string, std::string>> response;  ///< headers set on every static response
};

/// `http.gzip` or `http.middleware: ["gzip"]`: gzip for PHP responses and static files.
struct GzipConfig {
  bool enabled = false;                        ///< the section exists or middleware lists "gzip"
  int level = 6;                               ///< zlib level 1 (fast) .. 9 (small)
  std::uint64_t min_length = 1024;             ///< bodies shorter than this (bytes) are sent as they are
  std::uint64_t static_max_size = 1024 * 1024; ///< static files larger than this (bytes) are sent uncompressed
  std::vector<std::string> exclude_types{      ///< Content-Types never compressed ("type/*" = a whole type)
      "image/*", "video/*", "audio/*", "font/woff", "font/woff2", "application/zip", "application/gzip",
      "application/x-gzip", "application/x-bzip2", "application/x-xz", "application/zstd",
      "application/x-7z-compressed", "application/vnd.rar", "application/x-rar-compressed"};
};

/// One `http.trusted_subnets` entry; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d, prefix + 96).
struct Cidr {
  std::array<std::uint8_t, 16> address{};  ///< network address, host bits cleared
  unsigned prefix = 0;                     ///< 0..128 over the 16-byte form
  std::string text;                        ///< as written in the config
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
  bool raw_body = false;                ///< true: forms are passed raw, not parsed (protocol doc §3.3)
  UploadsConfig uploads;                ///< multipart file parts
  bool access_logs = false;             ///< one "access" log line per request
  std::vector<Cidr> trusted_subnets;    ///< peers whose X-Forwarded-For / X-Real-IP / X-Forwarded-Proto count
  Duration read_header_timeout = std::chrono::seconds(10);  ///< request line + headers (408); 0 = off
  Duration read_timeout = std::chrono::seconds(60);         ///< longest pause while a body arrives (408); 0 = off
  Duration write_timeout = std::chrono::seconds(60);        ///< one response write (then close); 0 = off
  Duration idle_timeout = std::chrono::seconds(60);         ///< keep-alive wait for the next request; 0 = off
  std::uint64_t max_connections = 10000;                    ///< open client connections; above it accepting pauses
  StaticConfig static_files;            ///< `http.static`: files served without PHP
  GzipConfig gzip;                      ///< `http.gzip` / middleware "gzip"
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

// --- KV plugin (issue #5): `kv.<storage>.driver` + `kv.<storage>.config` -------------------------

/// `kv.<name>.config` of the `memory` driver.
struct KvMemoryConfig {
  Duration interval = std::chrono::seconds(1);  ///< how often expired keys are swept (they are hidden on read anyway)
};

/// `kv.<name>.config` of the `redis` driver (RoadRunner's key names, plus `prefix`).
struct KvRedisConfig {
  std::string host = "127.0.0.1";                         ///< from the first `addrs` entry
  std::uint16_t port = 6379;                              ///< from the first `addrs` entry
  std::string username;                                   ///< ACL user (Redis 6+); "" = AUTH with the password only
  std::string password;                                   ///< "" = no AUTH
  unsigned db = 0;                                        ///< SELECT index
  std::string prefix;                                     ///< prepended to every key; "" = none (kv.Clear then FLUSHDBs)
  Duration dial_timeout = std::chrono::seconds(5);        ///< TCP connect (+ AUTH/SELECT)
  Duration read_timeout = std::chrono::seconds(3);        ///< waiting for one reply
  Duration write_timeout = std::chrono::seconds(3);       ///< sending one command batch
  unsigned pool_size = 4;                                 ///< connections, each on its own thread
};

/// One `kv.<name>` storage.
struct KvStorageConfig {
  std::string name;      ///< the storage name PHP passes (`kv.<name>`)
  std::string driver;    ///< "memory" or "redis"
  KvMemoryConfig memory; ///< when driver == "memory"
  KvRedisConfig redis;   ///< when driver == "redis"
};

/// The `kv` section: enabled when it exists; reachable over RPC only (needs `rpc`).
struct KvConfig {
  bool enabled = false;                   ///< true when the section exists
  std::vector<KvStorageConfig> storages;  ///< in the file's order
};

// --- end KV plugin -----------------------------------------------------------------------------

// --- Metrics plugin (issue #5): `metrics.address` + `metrics.collect.<name>` --------------------

/// One application collector: `metrics.collect.<name>`, or the `collector` object of RPC
/// metrics.Declare (protocol doc §5.4). Its full name is namespace_subsystem_name.
struct MetricsCollectorConfig {
  std::string name;                                    ///< the collector name (the key under `collect`)
  std::string type;                                    ///< counter, gauge, histogram or summary
  std::string namespace_name;                          ///< `namespace`: first part of the full name; "" = none
  std::string subsystem;                               ///< second part of the full name; "" = none
  std::string help;                                    ///< HELP text
  std::vector<std::string> labels;                     ///< label names; non-empty makes it a vector
  std::vector<double> buckets;                         ///< histogram upper bounds; empty = Prometheus' defaults
  std::vector<std::pair<double, double>> objectives;   ///< summary quantile -> allowed error; empty = none
};

/// The `metrics` section: Prometheus text format on GET /metrics; enabled when the section exists.
struct MetricsConfig {
  bool enabled = false;                          ///< true when the section exists
  std::string host = "127.0.0.1";                ///< listen host from `address`
  std::uint16_t port = 2112;                     ///< listen port from `address`
  std::vector<MetricsCollectorConfig> collect;   ///< declared at start, in the file's order
};

// --- end Metrics plugin ------------------------------------------------------------------------

// --- Jobs plugin (issue #6): `jobs.*` ----------------------------------------------------------

/// One `jobs.pipelines.<name>` (or a pipeline made by RPC jobs.Declare).
struct JobsPipelineConfig {
  std::string name;                 ///< the pipeline name
  std::string driver;               ///< "memory" or "amqp"
  std::int64_t priority = 10;       ///< default job priority (a job pushed with 0 gets it); lower runs first
  std::uint64_t prefetch = 0;       ///< memory: most jobs delivered and not yet settled; 0 = unlimited
  std::uint32_t max_attempts = 3;   ///< `config.retry.max_attempts`: deliveries before a failing job is dead-lettered or dropped
  std::string dead_letter;          ///< `config.dead_letter`: pipeline that receives jobs out of attempts; "" = drop (logged)
  /// The whole `config` map as JSON, for the driver's own keys (amqp); never null after parsing.
  /// (Held by pointer so this header needs only nlohmann/json_fwd.hpp.)
  std::shared_ptr<const nlohmann::json> config;
};

/// The `jobs` section (protocol doc §6.3): enabled when it exists.
struct JobsConfig {
  bool enabled = false;                        ///< true when the section exists
  unsigned num_pollers = 0;                    ///< pollers per consumed pipeline; 0 = pool.num_workers + 2
  std::uint64_t pipeline_size = 1000000;       ///< jobs a memory pipeline holds (ready + delayed + reserved)
  Duration timeout = std::chrono::seconds(60); ///< per push / declare deadline
  std::vector<std::string> consume;            ///< pipelines this server consumes
  std::vector<JobsPipelineConfig> pipelines;   ///< in the file's order
  PoolConfig pool;                             ///< the jobs worker pool (RR_MODE=jobs)
};

/// Parses one pipeline from its JSON form: `{driver, priority?, config: {priority, prefetch,
/// retry: {max_attempts}, dead_letter, <driver keys>}}`. Numbers may be numeric strings (as
/// jobs.Declare sends them). Throws ConfigError naming `path` and the allowed values. Pure.
JobsPipelineConfig parse_jobs_pipeline(const std::string& name, const nlohmann::json& spec, const std::string& path);

// --- end Jobs plugin ---------------------------------------------------------------------------

// --- Jobs plugin, amqp driver: `amqp.*` --------------------------------------------------------

/// The top-level `amqp` section (RoadRunner's): the broker every amqp pipeline uses.
struct AmqpConfig {
  bool enabled = false;                                      ///< true when the section exists
  std::string addr = "amqp://guest:guest@127.0.0.1:5672/";  ///< `amqp.addr`, an amqp:// URL
};

// --- end amqp ----------------------------------------------------------------------------------

/// The whole parsed configuration; plain data, parsed once.
struct Config {
  std::string version = "3";
  ServerConfig server;
  HttpConfig http;
  RpcConfig rpc;
  StatusConfig status;
  ReloadConfig reload;
  KvConfig kv;                        ///< KV plugin storages
  MetricsConfig metrics;              ///< Metrics plugin: endpoint and application collectors
  JobsConfig jobs;                    ///< Jobs plugin: pipelines, consumers and their pool
  AmqpConfig amqp;                    ///< Jobs plugin, amqp driver: the broker address
  LogsConfig logs;
  std::vector<std::string> warnings;  ///< recognised but unsupported keys, for the log
  std::string json;                   ///< the effective config (YAML after -o and ${VAR}) as JSON, for rpc.Config
};

}  // namespace pivot::config
