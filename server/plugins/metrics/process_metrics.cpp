#include "server/plugins/metrics/process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace pivot::metrics {
namespace {

prometheus::MetricFamily single(const char* name, const char* help, prometheus::MetricType type, double value) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
  return f;
}

/// Reads a small /proc file whole; "" when it cannot be read.
std::string slurp(const char* path) {
  std::string out;
  std::FILE* f = std::fopen(path, "re");
  if (!f) return out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

double boot_time_seconds() {
  const std::string stat = slurp("/proc/stat");
  const auto pos = stat.find("\nbtime ");
  return pos == std::string::npos ? 0 : std::strtod(stat.c_str() + pos + 7, nullptr);
}

}  // namespace

bool parse_proc_stat(std::string_view stat, long page_size, long clock_ticks, double boot_time, ProcessSample& out) noexcept {
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos || clock_ticks <= 0) return false;
  char buf[1024];
  const std::string_view rest = stat.substr(close + 1);
  const std::size_t len = std::min(rest.size(), sizeof buf - 1);
  std::memcpy(buf, rest.data(), len);
  buf[len] = '\0';
  unsigned long long utime = 0, stime = 0, start = 0, vsize = 0, rss = 0;
  // Fields 3..24: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14)
  // stime(15) cutime cstime priority nice num_threads itrealvalue starttime(22) vsize(23) rss(24)
  if (std::sscanf(buf, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu %llu %llu", &utime,
                  &stime, &start, &vsize, &rss) != 5) {
    return false;
  }
  const auto ticks = static_cast<double>(clock_ticks);
  out.cpu_seconds = static_cast<double>(utime + stime) / ticks;
  out.resident_bytes = static_cast<double>(rss) * static_cast<double>(page_size);
  out.virtual_bytes = static_cast<double>(vsize);
  out.start_time_seconds = boot_time + static_cast<double>(start) / ticks;
  return true;
}

bool read_process_sample(ProcessSample& out) noexcept {
  try {
    if (!parse_proc_stat(slurp("/proc/self/stat"), ::sysconf(_SC_PAGESIZE), ::sysconf(_SC_CLK_TCK), boot_time_seconds(), out)) {
      return false;
    }
  } catch (...) {
    return false;
  }
  double fds = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++fds;
    }
    ::closedir(d);
    fds -= 1;  // the directory stream itself
  }
  out.open_fds = fds < 0 ? 0 : fds;
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) out.max_fds = static_cast<double>(lim.rlim_cur);
  return true;
}

std::vector<prometheus::MetricFamily> process_families(const ProcessSample& s) {
  using T = prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  out.push_back(single("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", T::Counter, s.cpu_seconds));
  out.push_back(single("process_max_fds", "Maximum number of open file descriptors.", T::Gauge, s.max_fds));
  out.push_back(single("process_open_fds", "Number of open file descriptors.", T::Gauge, s.open_fds));
  out.push_back(single("process_resident_memory_bytes", "Resident memory size in bytes.", T::Gauge, s.resident_bytes));
  out.push_back(single("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", T::Gauge,
                       s.start_time_seconds));
  out.push_back(single("process_virtual_memory_bytes", "Virtual memory size in bytes.", T::Gauge, s.virtual_bytes));
  return out;
}

}  // namespace pivot::metrics
