#include "protocol/multipart_parser.hpp"

#include <cstring>

#include "protocol/form_error.hpp"

namespace pivot::protocol {
namespace {

bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (is_space(s.front()) || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (is_space(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// RFC 2045 tspecials: a backslash in a quoted string escapes only these (as Go's mime package
// does, so Windows paths such as "C:\dir\f.txt" survive).
bool is_tspecial(char c) noexcept { return std::strchr("()<>@,;:\\\"/[]?=", c) != nullptr && c != '\0'; }

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Walks the `; key=value` parameters after a media type or disposition type, calling
/// `on_param(lower-cased key, decoded value)`. Lenient: stops quietly at garbage.
template <class F>
void for_each_param(std::string_view s, F&& on_param) {
  std::string key;
  std::string value;
  for (;;) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    if (s.empty() || s.front() != ';') return;
    s.remove_prefix(1);
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    key.clear();
    while (!s.empty() && s.front() != '=' && s.front() != ';' && !is_space(s.front())) {
      key.push_back(lower(s.front()));
      s.remove_prefix(1);
    }
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    if (s.empty() || s.front() != '=') continue;
    s.remove_prefix(1);
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    value.clear();
    if (!s.empty() && s.front() == '"') {
      s.remove_prefix(1);
      while (!s.empty() && s.front() != '"') {
        if (s.front() == '\\' && s.size() > 1 && is_tspecial(s[1])) s.remove_prefix(1);
        value.push_back(s.front());
        s.remove_prefix(1);
      }
      if (!s.empty()) s.remove_prefix(1);  // the closing quote
    } else {
      while (!s.empty() && s.front() != ';') {
        value.push_back(s.front());
        s.remove_prefix(1);
      }
      while (!value.empty() && is_space(value.back())) value.pop_back();
    }
    if (!key.empty()) on_param(key, value);
  }
}

/// RFC 5987 ext-value ("UTF-8''na%C3%AFve.txt"); false for charsets other than UTF-8/US-ASCII.
bool decode_ext_value(std::string_view v, std::string& out) {
  const std::size_t q1 = v.find('\'');
  if (q1 == std::string_view::npos) return false;
  const std::size_t q2 = v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return false;
  const std::string_view charset = v.substr(0, q1);
  if (!iequals(charset, "utf-8") && !iequals(charset, "us-ascii")) return false;
  out.clear();
  for (std::size_t i = q2 + 1; i < v.size(); ++i) {
    if (v[i] == '%') {
      if (i + 2 >= v.size()) return false;
      const int hi = hex_value(v[i + 1]);
      const int lo = hex_value(v[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>((hi << 4) | lo));
      i += 2;
    } else {
      out.push_back(v[i]);
    }
  }
  return true;
}

/// Go's filepath.Base on Unix: the last slash-separated element ("a/b/" -> "b", "/" -> "/").
void base_name(std::string& name) {
  if (name.empty()) return;
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  if (name == "/") return;
  const std::size_t slash = name.rfind('/');
  if (slash != std::string::npos) name.erase(0, slash + 1);
}

}  // namespace

void MultipartPart::clear() {
  form_data = false;
  name.clear();
  has_filename = false;
  filename.clear();
  content_type.clear();
}

bool MultipartParser::boundary_from_content_type(std::string_view content_type, std::string& boundary) {
  const std::size_t semi = content_type.find(';');
  if (!iequals(trim(content_type.substr(0, semi)), "multipart/form-data")) return false;
  boundary.clear();
  if (semi == std::string_view::npos) return false;
  for_each_param(content_type.substr(semi), [&](const std::string& key, const std::string& value) {
    if (key == "boundary" && boundary.empty()) boundary = value;
  });
  return !boundary.empty() && boundary.size() <= kMaxBoundary;
}

void MultipartParser::parse_part_headers(std::string_view block, MultipartPart& part) {
  part.clear();
  std::string_view disposition;
  std::string_view content_type;
  bool have_disposition = false;
  bool have_type = false;
  // Lines; a line starting with whitespace continues the previous one (obsolete folding): it
  // can only matter for the two headers we read, and we keep their first physical line.
  while (!block.empty()) {
    const std::size_t nl = block.find('\n');
    std::string_view line = block.substr(0, nl);
    block = nl == std::string_view::npos ? std::string_view{} : block.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || is_space(line.front())) continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (!have_disposition && iequals(name, "content-disposition")) {
      disposition = value;
      have_disposition = true;
    } else if (!have_type && iequals(name, "content-type")) {
      content_type = value;
      have_type = true;
    }
  }
  part.content_type.assign(content_type);
  if (!have_disposition) return;
  const std::size_t semi = disposition.find(';');
  if (!iequals(trim(disposition.substr(0, semi)), "form-data")) return;
  if (semi == std::string_view::npos) return;
  std::string ext_filename;
  bool have_ext = false;
  for_each_param(disposition.substr(semi), [&](const std::string& key, const std::string& value) {
    if (key == "name") {
      part.name = value;
    } else if (key == "filename") {
      part.has_filename = true;
      part.filename = value;
    } else if (key == "filename*") {
      if (decode_ext_value(value, ext_filename)) {
        part.has_filename = true;
        have_ext = true;
      }
    }
  });
  if (have_ext) part.filename = ext_filename;  // RFC 6266: filename* wins
  base_name(part.filename);
  part.form_data = !part.name.empty();
}

bool MultipartParser::reset(std::string_view boundary) {
  if (boundary.empty() || boundary.size() > kMaxBoundary) {
    state_ = State::failed;
    error_ = FormError::bad_multipart;
    return false;
  }
  delimiter_.assign("\r\n--");
  delimiter_.append(boundary);
  state_ = State::preamble;
  match_ = 2;  // the first delimiter may open the body without a CRLF before it
  header_.clear();
  line_start_ = 0;
  part_.clear();
  error_ = {};
  return true;
}

std::error_code MultipartParser::fail(std::error_code ec) noexcept {
  state_ = State::failed;
  error_ = ec;
  return ec;
}

std::error_code MultipartParser::confirm_delimiter(Handler& handler) {
  if (!from_body_) return {};
  if (auto ec = handler.on_part_end()) return fail(ec);
  return {};
}

std::error_code MultipartParser::not_a_delimiter(Handler& handler, bool dash) {
  // "--boundary" followed by something else is content: hand it over and scan on.
  state_ = from_body_ ? State::body : State::preamble;
  match_ = 0;
  if (!from_body_) return {};
  if (auto ec = handler.on_part_data(delimiter_)) return fail(ec);
  if (dash) {
    if (auto ec = handler.on_part_data("-")) return fail(ec);
  }
  return {};
}

std::error_code MultipartParser::end_of_headers(Handler& handler) {
  parse_part_headers(std::string_view(header_).substr(0, line_start_), part_);
  header_.clear();
  line_start_ = 0;
  state_ = State::body;
  match_ = 0;
  if (auto ec = handler.on_part_begin(part_)) return fail(ec);
  return {};
}

std::error_code MultipartParser::feed(std::string_view data, Handler& handler) {
  if (state_ == State::failed) return error_ ? error_ : make_error_code(FormError::bad_multipart);
  const char* p = data.data();
  const char* const end = p + data.size();
  const char* run = p;          // start of body bytes not handed to the handler yet
  const char* match_start = p;  // where the partial delimiter match began in this chunk
  std::size_t carried = match_;  // delimiter bytes matched in earlier chunks (not in `data`)

  while (p < end) {
    switch (state_) {
      case State::preamble:
      case State::body: {
        if (match_ == 0) {
          const void* cr = std::memchr(p, '\r', static_cast<std::size_t>(end - p));
          if (cr == nullptr) {
            p = end;
            break;
          }
          p = static_cast<const char*>(cr);
          match_start = p;
          match_ = 1;
          carried = 0;
          ++p;
          break;
        }
        if (*p == delimiter_[match_]) {
          ++p;
          if (++match_ < delimiter_.size()) break;
          // A delimiter only when what follows fits (checked in after_delimiter), as Go's reader.
          from_body_ = state_ == State::body;
          if (from_body_ && match_start > run) {
            if (auto ec = handler.on_part_data(std::string_view(run, static_cast<std::size_t>(match_start - run)))) {
              return fail(ec);
            }
          }
          match_ = 0;
          carried = 0;
          state_ = State::after_delimiter;
          break;
        }
        // Not a delimiter after all: bytes matched in earlier feeds are body data; the ones
        // matched in this feed already belong to the pending run. Re-examine this byte.
        if (carried > 0 && state_ == State::body) {
          if (auto ec = handler.on_part_data(std::string_view(delimiter_).substr(0, carried))) return fail(ec);
        }
        carried = 0;
        match_ = 0;
        break;
      }
      case State::after_delimiter: {
        const char c = *p;
        if (c == '-') {
          ++p;
          state_ = State::close_dash;
          break;
        }
        if (c != '\r' && c != '\n' && !is_space(c)) {
          if (auto ec = not_a_delimiter(handler, false)) return ec;
          run = p;
          match_start = p;
          break;
        }
        if (auto ec = confirm_delimiter(handler)) return ec;
        ++p;
        state_ = c == '\r' ? State::delimiter_lf : c == '\n' ? State::headers : State::padding;
        break;
      }
      case State::close_dash:
        if (*p != '-') {
          if (auto ec = not_a_delimiter(handler, true)) return ec;
          run = p;
          match_start = p;
          break;
        }
        if (auto ec = confirm_delimiter(handler)) return ec;
        ++p;
        state_ = State::epilogue;
        break;
      case State::padding: {
        const char c = *p++;
        if (c == '\r') {
          state_ = State::delimiter_lf;
        } else if (c == '\n') {
          state_ = State::headers;
        } else if (!is_space(c)) {
          return fail(FormError::bad_multipart);
        }
        break;
      }
      case State::delimiter_lf:
        if (*p++ != '\n') return fail(FormError::bad_multipart);
        state_ = State::headers;
        break;
      case State::headers: {
        const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
        const char* stop = nl ? static_cast<const char*>(nl) + 1 : end;
        if (header_.size() + static_cast<std::size_t>(stop - p) > max_header_bytes_) {
          return fail(FormError::part_header_too_large);
        }
        header_.append(p, stop);
        p = stop;
        if (!nl) break;
        // A complete line: an empty one ends the header block.
        std::string_view line = std::string_view(header_).substr(line_start_);
        line.remove_suffix(1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty()) {
          line_start_ = header_.size();
          break;
        }
        if (auto ec = end_of_headers(handler)) return ec;
        run = p;
        match_start = p;
        carried = 0;
        break;
      }
      case State::epilogue:
        p = end;
        break;
      case State::failed:
        return error_;
    }
  }
  if (state_ == State::body) {
    // Hold back a possible delimiter prefix at the end; hand over the rest.
    const char* stop = match_ > 0 ? match_start : end;
    if (stop > run) {
      if (auto ec = handler.on_part_data(std::string_view(run, static_cast<std::size_t>(stop - run)))) return fail(ec);
    }
  }
  return {};
}

}  // namespace pivot::protocol
