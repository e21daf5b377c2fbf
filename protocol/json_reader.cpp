#include "protocol/json_reader.hpp"

#include <charconv>

namespace pivot::protocol {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

char JsonReader::peek() noexcept {
  while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  return i_ < s_.size() ? s_[i_] : '\0';
}

bool JsonReader::consume(char c) noexcept {
  if (peek() != c || i_ >= s_.size()) return false;
  ++i_;
  return true;
}

bool JsonReader::at_end() noexcept { return peek() == '\0' && i_ >= s_.size(); }

bool JsonReader::literal(std::string_view word) noexcept {
  if (s_.substr(i_, word.size()) != word) return false;
  i_ += word.size();
  return true;
}

bool JsonReader::read_string(std::string& out) {
  out.clear();
  if (!consume('"')) return false;
  while (i_ < s_.size()) {
    // Copy the longest run without quotes or escapes in one go.
    std::size_t j = i_;
    while (j < s_.size() && s_[j] != '"' && s_[j] != '\\') {
      if (static_cast<unsigned char>(s_[j]) < 0x20) return false;
      ++j;
    }
    out.append(s_.data() + i_, j - i_);
    i_ = j;
    if (i_ >= s_.size()) return false;
    if (s_[i_] == '"') {
      ++i_;
      return true;
    }
    if (++i_ >= s_.size()) return false;  // the backslash
    const char e = s_[i_++];
    switch (e) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        auto read4 = [&](std::uint32_t& v) {
          if (i_ + 4 > s_.size()) return false;
          v = 0;
          for (int k = 0; k < 4; ++k) {
            const int h = hex_value(s_[i_ + k]);
            if (h < 0) return false;
            v = (v << 4) | static_cast<std::uint32_t>(h);
          }
          i_ += 4;
          return true;
        };
        std::uint32_t cp = 0;
        if (!read4(cp)) return false;
        if (cp >= 0xD800 && cp <= 0xDBFF && s_.substr(i_, 2) == "\\u") {
          i_ += 2;
          std::uint32_t lo = 0;
          if (!read4(lo)) return false;
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else {
            append_utf8(out, 0xFFFD);
            cp = lo;
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
        append_utf8(out, cp);
        break;
      }
      default:
        return false;
    }
  }
  return false;
}

bool JsonReader::read_int(std::int64_t& out) noexcept {
  peek();
  const char* begin = s_.data() + i_;
  const char* end = s_.data() + s_.size();
  auto [p, ec] = std::from_chars(begin, end, out);
  if (ec != std::errc() || p == begin) return false;
  i_ += static_cast<std::size_t>(p - begin);
  // Accept and ignore a fraction or exponent (PHP may send 200.0).
  while (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-' ||
                            (s_[i_] >= '0' && s_[i_] <= '9'))) {
    ++i_;
  }
  return true;
}

bool JsonReader::read_bool(bool& out) noexcept {
  peek();
  if (literal("true")) {
    out = true;
    return true;
  }
  if (literal("false")) {
    out = false;
    return true;
  }
  return false;
}

bool JsonReader::skip_value(int depth) {
  if (depth <= 0) return false;
  const char c = peek();
  switch (c) {
    case '"': {
      std::string tmp;
      return read_string(tmp);
    }
    case '{': {
      ++i_;
      if (consume('}')) return true;
      std::string key;
      do {
        if (!read_string(key) || !consume(':') || !skip_value(depth - 1)) return false;
      } while (consume(','));
      return consume('}');
    }
    case '[': {
      ++i_;
      if (consume(']')) return true;
      do {
        if (!skip_value(depth - 1)) return false;
      } while (consume(','));
      return consume(']');
    }
    case 't':
    case 'f': {
      bool b = false;
      return read_bool(b);
    }
    case 'n':
      return literal("null");
    default: {
      if (c == '-' || (c >= '0' && c <= '9')) {
        std::int64_t v = 0;
        if (read_int(v)) return true;
        // Numbers beyond int64: skip the digits.
        while (i_ < s_.size() && (s_[i_] == '-' || s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E' ||
                                  s_[i_] == '+' || (s_[i_] >= '0' && s_[i_] <= '9'))) {
          ++i_;
        }
        return true;
      }
      return false;
    }
  }
}

namespace {

template <class ReadFn>
bool find_member(std::string_view object, std::string_view key, ReadFn&& read) {
  JsonReader r(object);
  if (!r.consume('{')) return false;
  if (r.consume('}')) return false;
  std::string name;
  bool found = false;
  do {
    if (!r.read_string(name) || !r.consume(':')) return false;
    if (!found && name == key) {
      if (!read(r)) return false;
      found = true;
    } else if (!r.skip_value()) {
      return false;
    }
  } while (r.consume(','));
  return found && r.consume('}');
}

}  // namespace

bool json_find_int(std::string_view object, std::string_view key, std::int64_t& out) {
  return find_member(object, key, [&](JsonReader& r) { return r.read_int(out); });
}

bool json_find_bool(std::string_view object, std::string_view key, bool& out) {
  return find_member(object, key, [&](JsonReader& r) { return r.read_bool(out); });
}

}  // namespace pivot::protocol
