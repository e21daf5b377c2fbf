#include "server/http/http_date.hpp"

#include <array>

namespace pivot::http {
namespace {

constexpr std::array<const char*, 3> kFormats{
    "%a, %d %b %Y %H:%M:%S GMT",  // IMF-fixdate
    "%A, %d-%b-%y %H:%M:%S GMT",  // RFC 850
    "%a %b %e %H:%M:%S %Y",       // asctime
};

}  // namespace

void append_http_date(std::string& out, std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  out.append(buf, std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm));
}

bool parse_http_date(std::string_view text, std::time_t& out) noexcept {
  char buf[64];
  if (text.empty() || text.size() >= sizeof buf) return false;
  text.copy(buf, text.size());
  buf[text.size()] = '\0';
  for (const char* fmt : kFormats) {
    std::tm tm{};
    const char* end = strptime(buf, fmt, &tm);
    if (end != nullptr && *end == '\0') {
      out = timegm(&tm);
      return out != static_cast<std::time_t>(-1);
    }
  }
  return false;
}

}  // namespace pivot::http
