#pragma once

#include <string_view>

namespace pivot::http {

/// The Content-Type for a file extension with its dot, compared case-insensitively (".css" ->
/// "text/css; charset=utf-8"); "application/octet-stream" when the extension is not in the
/// built-in table. Text types carry charset=utf-8, as Go's mime package does.
std::string_view mime_type_for(std::string_view extension) noexcept;

}  // namespace pivot::http
