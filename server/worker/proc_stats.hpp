#pragma once

#include <sys/types.h>

#include <cstdint>

namespace pivot::worker {

/// Resource usage of one process as read from /proc. Plain data.
struct ProcStats {
  std::uint64_t rss_bytes = 0;   ///< resident set size
  double cpu_seconds = 0;        ///< user + system CPU time consumed so far
};

/// Reads /proc/PID/statm and /proc/PID/stat; false when the process is gone. Any thread.
bool read_proc_stats(pid_t pid, ProcStats& out) noexcept;

}  // namespace pivot::worker
