#pragma once

#include <prometheus/metric_family.h>

#include <string_view>
#include <vector>

namespace pivot::metrics {

/// The server's own resource usage, as client_golang's process collector reports it. Plain data.
struct ProcessSample {
  double cpu_seconds = 0;          ///< user + system CPU time
  double resident_bytes = 0;       ///< RSS
  double virtual_bytes = 0;        ///< virtual memory size
  double open_fds = 0;             ///< entries in /proc/self/fd
  double max_fds = 0;              ///< RLIMIT_NOFILE soft limit
  double start_time_seconds = 0;   ///< unix time the process started
};

/// Parses the text of /proc/PID/stat into cpu_seconds, resident_bytes, virtual_bytes and
/// start_time_seconds (`boot_time` is /proc/stat's btime). False when it is malformed. Pure.
bool parse_proc_stat(std::string_view stat, long page_size, long clock_ticks, double boot_time, ProcessSample& out) noexcept;

/// Reads /proc/self (stat, fd/) and the fd limit; false when /proc is unreadable. Any thread.
bool read_process_sample(ProcessSample& out) noexcept;

/// `process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_virtual_memory_bytes`,
/// `process_open_fds`, `process_max_fds`, `process_start_time_seconds` with client_golang's help texts. Pure.
std::vector<prometheus::MetricFamily> process_families(const ProcessSample& s);

}  // namespace pivot::metrics
