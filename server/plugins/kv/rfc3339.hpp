#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace pivot::kv::rfc3339 {

/// Parses an RFC 3339 time as Go's time.Parse(time.RFC3339, …) accepts it:
/// `2006-01-02T15:04:05Z`, `…+07:00`, with optional fractional seconds (`…05.123456Z`).
/// Fractions finer than a microsecond are dropped. Returns false on anything else. Pure, any thread.
bool parse(std::string_view text, std::chrono::sys_time<std::chrono::microseconds>& out);

/// Formats `t` in UTC with whole seconds, as Go's Format(time.RFC3339) does: `2006-01-02T15:04:05Z`.
/// The fraction is truncated, which PHP's DateTimeInterface::RFC3339 format can parse.
std::string format(std::chrono::sys_time<std::chrono::microseconds> t);

}  // namespace pivot::kv::rfc3339
