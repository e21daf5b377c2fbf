#pragma once

#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace pivot::protocol {

/// One header line: the name in Go canonical form ("Content-Type") and its value.
struct HeaderField {
  std::string name;   ///< canonical name
  std::string value;  ///< raw value, surrounding whitespace trimmed
};

/// Everything the RoadRunner JSON request context (protocol doc §3.8) carries, borrowed.
struct HttpRequestContext {
  std::string_view remote_addr;                                   ///< client IP, no port
  std::string_view protocol;                                      ///< "HTTP/1.1"
  std::string_view method;                                        ///< as received
  std::string_view uri;                                           ///< full URL with scheme and host
  std::string_view raw_query;                                     ///< query without '?'
  std::span<const HeaderField> headers;                           ///< all headers except Host
  std::span<const HeaderField> extra_headers;                     ///< added by the server; names not in `headers`
  std::span<const std::pair<std::string, std::string>> cookies;   ///< name -> unescaped value
  bool parsed = false;                                            ///< body is a server-parsed JSON form
  std::string_view uploads_json;                                  ///< uploads tree JSON; empty means null
  std::string_view attributes_json;                               ///< attributes object JSON; empty means {}
};

/// Appends the JSON request context to `out`. Headers with the same name are grouped into one
/// array in first-seen order.
void append_request_context(std::string& out, const HttpRequestContext& ctx);

/// The decoded response context: {"status":int,"headers":{name:[values]}}.
struct HttpResponseContext {
  int status = 200;                  ///< HTTP status (200 when absent)
  std::vector<HeaderField> headers;  ///< one entry per value, names as the worker sent them
};

/// Decodes a JSON response context (frame flags 0x00 or 0x08). An empty context means
/// status 200 without headers. Accepts `headers` as an object, `[]` (PHP's empty array) or null,
/// and values as arrays of strings, or a single string or number.
std::error_code decode_response_context(std::string_view json, HttpResponseContext& out);

/// Rewrites `name` into Go's canonical MIME header form in place ("content-type" -> "Content-Type").
/// Names with characters outside the token set are left unchanged, as Go does.
void canonicalize_header_name(std::string& name);

/// Parses one Cookie header value ("a=1; b=2") into name/value pairs, URL-unescaping values the
/// way Go's url.QueryUnescape does. Pairs that fail to unescape are dropped. A later pair with
/// the same name replaces the earlier one.
void parse_cookie_header(std::string_view header, std::vector<std::pair<std::string, std::string>>& out);

/// URL-unescapes `in` into `out` ("%41" -> "A", "+" -> " " when `plus_as_space`). False on a bad escape.
bool url_unescape(std::string_view in, std::string& out, bool plus_as_space);

}  // namespace pivot::protocol
