#include "server/worker/proc_stats.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace pivot::worker {

bool read_proc_stats(pid_t pid, ProcStats& out) noexcept {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/statm", static_cast<int>(pid));
  std::FILE* f = std::fopen(path, "r");
  if (!f) return false;
  unsigned long long size = 0, resident = 0;
  const int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  if (n != 2) return false;
  out.rss_bytes = resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));

  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  f = std::fopen(path, "r");
  if (!f) return false;
  char buf[1024];
  const std::size_t len = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[len] = '\0';
  // The command name (field 2) may contain spaces and parentheses: fields resume after the last ')'.
  const char* p = std::strrchr(buf, ')');
  if (!p) return false;
  unsigned long long utime = 0, stime = 0;
  // After ")": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15)
  if (std::sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return false;
  out.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  return true;
}

}  // namespace pivot::worker
