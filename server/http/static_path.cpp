#include "server/http/static_path.hpp"

namespace pivot::http {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool parse_static_path(std::string_view target, StaticPath& out) {
  out.relative.clear();
  out.extension.clear();
  out.unsafe = false;
  if (target.empty() || target.front() != '/') return false;
  if (const auto end = target.find_first_of("?#"); end != std::string_view::npos) target = target.substr(0, end);
  if (target.back() == '/') return false;

  std::string segment;
  std::string_view last;  // the last segment, decoded (for the extension)
  std::size_t last_start = 0;
  auto finish_segment = [&]() {
    if (segment.empty() || segment == ".") {
      segment.clear();
      return;
    }
    if (segment == "..") out.unsafe = true;
    if (!out.relative.empty()) out.relative.push_back('/');
    last_start = out.relative.size();
    out.relative.append(segment);
    segment.clear();
  };
  for (std::size_t i = 1; i <= target.size(); ++i) {
    if (i == target.size() || target[i] == '/') {
      finish_segment();
      continue;
    }
    unsigned char c = static_cast<unsigned char>(target[i]);
    if (c == '%') {
      const bool complete = i + 2 < target.size();
      const int hi = complete ? hex_value(target[i + 1]) : -1;
      const int lo = complete ? hex_value(target[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        out.unsafe = true;  // malformed escape: what it names is anybody's guess
        segment.push_back('%');
        continue;
      }
      c = static_cast<unsigned char>(hi * 16 + lo);
      i += 2;
      if (c == '/' || c == '\\') out.unsafe = true;  // an encoded separator hides a segment boundary
    } else if (c == '\\') {
      out.unsafe = true;
    }
    if (c < 0x20 || c == 0x7f) out.unsafe = true;
    segment.push_back(static_cast<char>(c));
  }
  if (out.relative.empty()) return false;

  last = std::string_view(out.relative).substr(last_start);
  if (const auto sep = last.find_last_of("/\\"); sep != std::string_view::npos) last = last.substr(sep + 1);
  if (const auto dot = last.rfind('.'); dot != std::string_view::npos) {
    out.extension.assign(last.substr(dot));
    for (auto& ch : out.extension) {
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    }
  }
  if (out.unsafe) out.relative.clear();
  return true;
}

}  // namespace pivot::http
