#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pivot::pool {

/// A point-in-time view of one worker, in the informer's terms (protocol doc §5.5). Plain data.
struct WorkerInfo {
  std::int64_t pid = 0;              ///< process id
  std::int64_t status = 0;           ///< RoadRunner state number (protocol doc §2.9)
  std::string status_str;            ///< RoadRunner state name ("ready", "working", ...)
  std::uint64_t num_execs = 0;       ///< completed executions
  std::int64_t created_unix_ns = 0;  ///< spawn time, unix nanoseconds
  std::uint64_t memory_rss = 0;      ///< resident set size in bytes (/proc)
  double cpu_percent = 0;            ///< CPU time over lifetime, percent of one core
  std::string command;               ///< the worker command line, space-joined
};

/// Counts of a pool's workers by state, for health checks and metrics. Plain data.
struct PoolStatus {
  unsigned ready = 0;      ///< idle, able to take a request now
  unsigned working = 0;    ///< executing a request
  unsigned starting = 0;   ///< spawned, handshake not done
  unsigned stopping = 0;   ///< retiring or being killed
  unsigned desired = 0;    ///< num_workers
  std::uint64_t queued = 0;  ///< requests waiting for a worker
  bool stopping_pool = false;  ///< the pool is shutting down
};

}  // namespace pivot::pool
