#include "protocol/http_payload.hpp"

#include <algorithm>
#include <climits>

#include "protocol/json_reader.hpp"
#include "protocol/json_writer.hpp"
#include "protocol/protocol_error.hpp"

namespace pivot::protocol {
namespace {

bool is_token_char(unsigned char c) noexcept {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool equal_names(std::string_view a, std::string_view b) noexcept { return a == b; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void append_request_context(std::string& out, const HttpRequestContext& ctx) {
  out.append("{\"remoteAddr\":");
  append_json_string(out, ctx.remote_addr);
  out.append(",\"protocol\":");
  append_json_string(out, ctx.protocol);
  out.append(",\"method\":");
  append_json_string(out, ctx.method);
  out.append(",\"uri\":");
  append_json_string(out, ctx.uri);
  out.append(",\"headers\":{");
  const auto& hs = ctx.headers;
  bool first_name = true;
  for (std::size_t i = 0; i < hs.size(); ++i) {
    bool seen = false;
    for (std::size_t k = 0; k < i && !seen; ++k) seen = equal_names(hs[k].name, hs[i].name);
    if (seen) continue;
    if (!first_name) out.push_back(',');
    first_name = false;
    append_json_string(out, hs[i].name);
    out.append(":[");
    append_json_string(out, hs[i].value);
    for (std::size_t j = i + 1; j < hs.size(); ++j) {
      if (equal_names(hs[j].name, hs[i].name)) {
        out.push_back(',');
        append_json_string(out, hs[j].value);
      }
    }
    out.push_back(']');
  }
  for (const auto& h : ctx.extra_headers) {
    if (!first_name) out.push_back(',');
    first_name = false;
    append_json_string(out, h.name);
    out.append(":[");
    append_json_string(out, h.value);
    out.push_back(']');
  }
  out.append("},\"cookies\":{");
  for (std::size_t i = 0; i < ctx.cookies.size(); ++i) {
    if (i) out.push_back(',');
    append_json_string(out, ctx.cookies[i].first);
    out.push_back(':');
    append_json_string(out, ctx.cookies[i].second);
  }
  out.append("},\"rawQuery\":");
  append_json_string(out, ctx.raw_query);
  out.append(ctx.parsed ? ",\"parsed\":true,\"uploads\":" : ",\"parsed\":false,\"uploads\":");
  if (ctx.uploads_json.empty()) {
    out.append("null");
  } else {
    out.append(ctx.uploads_json);
  }
  out.append(",\"attributes\":");
  out.append(ctx.attributes_json.empty() ? std::string_view("{}") : ctx.attributes_json);
  out.push_back('}');
}

std::error_code decode_response_context(std::string_view json, HttpResponseContext& out) {
  out.status = 200;
  out.headers.clear();
  JsonReader r(json);
  if (r.at_end()) return {};
  if (!r.consume('{')) return ProtocolError::bad_json;
  if (r.consume('}')) return r.at_end() ? std::error_code{} : make_error_code(ProtocolError::bad_json);
  std::string key;
  std::string value;
  do {
    if (!r.read_string(key) || !r.consume(':')) return ProtocolError::bad_json;
    if (key == "status") {
      std::int64_t st = 0;
      if (!r.read_int(st)) return ProtocolError::bad_json;
      if (st < 100 || st > 599) {
        out.status = static_cast<int>(std::clamp<std::int64_t>(st, INT_MIN, INT_MAX));  // for the error message
        return ProtocolError::bad_status;
      }
      out.status = static_cast<int>(st);
    } else if (key == "headers") {
      const char c = r.peek();
      if (c == '[') {
        // PHP encodes an empty header array as [].
        if (!r.consume('[') || !r.consume(']')) return ProtocolError::bad_json;
      } else if (c == 'n') {
        if (!r.skip_value()) return ProtocolError::bad_json;
      } else {
        if (!r.consume('{')) return ProtocolError::bad_json;
        if (!r.consume('}')) {
          std::string name;
          do {
            if (!r.read_string(name) || !r.consume(':')) return ProtocolError::bad_json;
            auto read_one = [&]() -> bool {
              const char v = r.peek();
              if (v == '"') {
                if (!r.read_string(value)) return false;
              } else if (v == '-' || (v >= '0' && v <= '9')) {
                std::int64_t n = 0;
                if (!r.read_int(n)) return false;
                value = std::to_string(n);
              } else {
                return false;
              }
              out.headers.push_back(HeaderField{name, value});
              return true;
            };
            if (r.peek() == '[') {
              r.consume('[');
              if (!r.consume(']')) {
                do {
                  if (!read_one()) return ProtocolError::bad_json;
                } while (r.consume(','));
                if (!r.consume(']')) return ProtocolError::bad_json;
              }
            } else if (!read_one()) {
              return ProtocolError::bad_json;
            }
          } while (r.consume(','));
          if (!r.consume('}')) return ProtocolError::bad_json;
        }
      }
    } else if (!r.skip_value()) {
      return ProtocolError::bad_json;
    }
  } while (r.consume(','));
  if (!r.consume('}') || !r.at_end()) return ProtocolError::bad_json;
  return {};
}

void canonicalize_header_name(std::string& name) {
  for (unsigned char c : name) {
    if (!is_token_char(c)) return;
  }
  bool upper = true;
  for (char& c : name) {
    if (upper && c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    } else if (!upper && c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    upper = (c == '-');
  }
}

bool url_unescape(std::string_view in, std::string& out, bool plus_as_space) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_digit(in[i + 1]);
      const int lo = hex_digit(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>((hi << 4) | lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

void parse_cookie_header(std::string_view header, std::vector<std::pair<std::string, std::string>>& out) {
  std::string value;
  while (!header.empty()) {
    const std::size_t semi = header.find(';');
    std::string_view part = trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    const std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = trim(part.substr(0, eq));
    std::string_view raw = trim(part.substr(eq + 1));
    if (name.empty()) continue;
    bool valid_name = true;
    for (unsigned char c : name) valid_name = valid_name && is_token_char(c);
    if (!valid_name) continue;
    if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"') raw = raw.substr(1, raw.size() - 2);
    if (!url_unescape(raw, value, true)) continue;
    bool replaced = false;
    for (auto& [n, v] : out) {
      if (n == name) {
        v = value;
        replaced = true;
        break;
      }
    }
    if (!replaced) out.emplace_back(std::string(name), value);
  }
}

}  // namespace pivot::protocol
