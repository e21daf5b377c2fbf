#include "server/http/response_head.hpp"

#include <algorithm>
#include <charconv>

namespace pivot::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

bool is_token(unsigned char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

void append_number(std::string& out, std::size_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

}  // namespace

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

bool status_has_no_body(int status) noexcept { return (status >= 100 && status < 200) || status == 204 || status == 304; }

bool header_is_safe(std::string_view name, std::string_view value) noexcept {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (!is_token(c)) return false;
  }
  for (unsigned char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

std::string_view DateCache::now() {
  const std::time_t t = std::time(nullptr);
  if (t != last_ || len_ == 0) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    len_ = std::strftime(buf_, sizeof buf_, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    last_ = t;
  }
  return {buf_, len_};
}

std::size_t append_response_head(std::string& out, const ResponseHeadOptions& opts,
                                 std::span<const protocol::HeaderField> headers) {
  std::size_t skipped = 0;
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::size_t>(opts.status));
  out.push_back(' ');
  out.append(reason_phrase(opts.status));
  out.append("\r\n");
  for (const auto& h : headers) {
    if (iequals(h.name, "content-length") || iequals(h.name, "transfer-encoding") || iequals(h.name, "connection") ||
        iequals(h.name, "date") || iequals(h.name, "keep-alive") ||
        (!opts.request_id.empty() && iequals(h.name, "x-request-id"))) {
      continue;
    }
    if (!header_is_safe(h.name, h.value)) {
      ++skipped;
      continue;
    }
    out.append(h.name);
    out.append(": ");
    out.append(h.value);
    out.append("\r\n");
  }
  out.append("Date: ");
  out.append(opts.date);
  out.append("\r\n");
  if (!opts.request_id.empty()) {
    out.append("X-Request-Id: ");
    out.append(opts.request_id);
    out.append("\r\n");
  }
  if (status_has_no_body(opts.status)) {
    // no body, no framing headers
  } else if (opts.framing == BodyFraming::content_length) {
    out.append("Content-Length: ");
    append_number(out, opts.content_length);
    out.append("\r\n");
  } else if (opts.framing == BodyFraming::chunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  }
  if (opts.close) {
    out.append("Connection: close\r\n");
  } else if (opts.keep_alive_10) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
  return skipped;
}

std::size_t append_interim_head(std::string& out, int status, std::span<const protocol::HeaderField> headers) {
  std::size_t skipped = 0;
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::size_t>(status));
  out.push_back(' ');
  out.append(reason_phrase(status));
  out.append("\r\n");
  for (const auto& h : headers) {
    if (iequals(h.name, "content-length") || iequals(h.name, "transfer-encoding") || iequals(h.name, "connection") ||
        iequals(h.name, "keep-alive")) {
      continue;
    }
    if (!header_is_safe(h.name, h.value)) {
      ++skipped;
      continue;
    }
    out.append(h.name);
    out.append(": ");
    out.append(h.value);
    out.append("\r\n");
  }
  out.append("\r\n");
  return skipped;
}

}  // namespace pivot::http
