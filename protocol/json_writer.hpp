#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pivot::protocol {

/// Appends `s` to `out` as a quoted JSON string. Invalid UTF-8 becomes U+FFFD (as Go's
/// encoding/json does), so the output is always valid JSON that PHP's json_decode accepts.
void append_json_string(std::string& out, std::string_view s);

/// Appends a decimal integer to `out`.
void append_json_int(std::string& out, std::int64_t v);

}  // namespace pivot::protocol
