#include "server/plugins/kv/rfc3339.hpp"

#include <cstdio>

namespace pivot::kv::rfc3339 {
namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

bool parse(std::string_view s, std::chrono::sys_time<std::chrono::microseconds>& out) {
  using namespace std::chrono;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' || !digits(s, 8, 2, d) ||
      s[10] != 'T' || !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' ||
      !digits(s, 17, 2, sec)) {
    return false;
  }
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return false;
  std::size_t pos = 19;
  nanoseconds frac{0};
  if (s[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    long long ns = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (pos - start < 9) ns = ns * 10 + (s[pos] - '0');
      ++pos;
    }
    if (pos == start) return false;
    for (std::size_t n = pos - start; n < 9; ++n) ns *= 10;
    frac = nanoseconds(ns);
  }
  if (pos >= s.size()) return false;
  minutes offset{0};
  if (s[pos] == 'Z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh = 0, om = 0;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om) || oh > 23 ||
        om > 59) {
      return false;
    }
    offset = hours(oh) + minutes(om);
    if (s[pos] == '-') offset = -offset;
    pos += 6;
  } else {
    return false;
  }
  if (pos != s.size()) return false;
  // In microseconds throughout: nanoseconds would overflow for years after 2262.
  out = sys_days(ymd) + hours(h) + minutes(mi) + seconds(sec) + duration_cast<microseconds>(frac) - offset;
  return true;
}

std::string format(std::chrono::sys_time<std::chrono::microseconds> t) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto days_part = floor<days>(secs);
  const year_month_day ymd{days_part};
  const hh_mm_ss hms{secs - days_part};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return buf;
}

}  // namespace pivot::kv::rfc3339
