#pragma once

#include <string>
#include <string_view>

namespace pivot::http {

/// A request target's path as the static file server sees it (http.static).
struct StaticPath {
  std::string relative;   ///< "css/app.css": the percent-decoded path below dir, no leading '/'; "" when unsafe
  std::string extension;  ///< ".css", lower-cased, from the last segment; "" when it has none
  bool unsafe = false;    ///< could name something outside dir or hide bytes: never served
};

/// Decodes the path of an origin-form request target ("/css/app.css?v=2"): the query and fragment
/// are dropped, "." and empty segments skipped. `unsafe` is set for a ".." segment (raw or
/// %2e%2e), an encoded '/' or '\' (%2f, %5c), a raw '\', a NUL or other control byte (raw or
/// encoded) and a malformed %-escape. Returns false when the target is no file path at all:
/// not origin-form ("*", "http://…") or ending in '/' (a directory).
bool parse_static_path(std::string_view target, StaticPath& out);

}  // namespace pivot::http
