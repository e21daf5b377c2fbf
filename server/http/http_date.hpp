#pragma once

#include <ctime>
#include <string>
#include <string_view>

namespace pivot::http {

/// Appends `t` as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT").
void append_http_date(std::string& out, std::time_t t);

/// Parses the three HTTP date forms (IMF-fixdate, RFC 850, asctime); false when it is none of them.
bool parse_http_date(std::string_view text, std::time_t& out) noexcept;

}  // namespace pivot::http
